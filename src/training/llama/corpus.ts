/**
 * The demo Llama's data: Banking77's training split (less a stratified validation part, with the
 * same split as the custom model) and the HWU64 utterances, a WordPiece tokenizer learned on them,
 * and the two kinds of training sequences: plain text for the base language model, and
 * prompt → label for QLoRA.
 */
import { BANKING77_LABELS, OUT_OF_SCOPE } from '../../core/labels';
import type { LlamaConfig } from '../../models/llama/config';
import type { ClmExample } from './train-clm';
import type { PromptCompletion } from './train-qlora';
import { withSequenceTokens } from '../../tokenizer/hf-tokenizer';
import { trainWordPiece, type WordPieceTokenizer } from '../../tokenizer/wordpiece';
import { readLabelledCsv, stratifiedSplit, type Example } from '../data';
import { DEMO_SHAPE, LLAMA_MAX_TEXT_TOKENS, LLAMA_PROMPT, LLAMA_SEPARATOR, type BaseSettings } from './settings';
import { TrainingError } from '../../core/errors';

export const BANKING77_TRAIN = 'data/banking77/train.csv';
const HWU64_UTTERANCES = 'data/hwu64/utterances.csv';

export interface LlamaCorpus {
  train: Example[];
  validation: Example[];
  /** HWU64 utterances (text only: their intents are not used). */
  outOfScope: string[];
}

export function readLlamaCorpus(settings: Pick<BaseSettings, 'seed' | 'validationFraction'>): LlamaCorpus {
  const { train, validation } = stratifiedSplit(readLabelledCsv(BANKING77_TRAIN), settings.validationFraction, settings.seed);
  return { train, validation, outOfScope: readLabelledCsv(HWU64_UTTERANCES).map((r) => r.text) };
}

/**
 * WordPiece over the training texts, plus each label once with its underscores so that every label
 * spells out in known pieces (`_` never occurs in the messages), with `<s>` and `</s>` added.
 */
export function trainLlamaTokenizer(corpus: LlamaCorpus, vocabSize: number): WordPieceTokenizer {
  const texts = [...corpus.train.map((r) => r.text), ...corpus.outOfScope, ...BANKING77_LABELS, ...BANKING77_LABELS];
  return withSequenceTokens(trainWordPiece(texts, { vocabSize }));
}

export function demoConfig(tokenizer: WordPieceTokenizer): LlamaConfig {
  const id = (token: string) => tokenizer.vocab.indexOf(token);
  return { ...DEMO_SHAPE, vocab_size: tokenizer.size, bos_token_id: id('<s>'), eos_token_id: id('</s>'), pad_token_id: tokenizer.padId };
}

/** `<s> text </s>` for every training text, cut to fit the context. */
export function clmExamples(texts: readonly string[], tokenizer: WordPieceTokenizer, config: LlamaConfig): ClmExample[] {
  return texts.map((text) => ({
    ids: [config.bos_token_id, ...tokenizer.encode(text, config.max_position_embeddings - 2).ids, config.eos_token_id],
  }));
}

/** The prompt's ids as the runtime builds them: `<s>` then the prompt around the (cut) message. */
function promptIds(text: string, tokenizer: WordPieceTokenizer, config: LlamaConfig): number[] {
  const [before, after] = LLAMA_PROMPT.split('{text}') as [string, string];
  const message = tokenizer.encode(text, LLAMA_MAX_TEXT_TOKENS).ids;
  return [config.bos_token_id, ...tokenizer.encode(before).ids, ...message, ...tokenizer.encode(after).ids];
}

/** The label's ids after the separator, then `</s>`. */
function completionIds(label: string, tokenizer: WordPieceTokenizer, config: LlamaConfig): number[] {
  const ids = tokenizer.encode(LLAMA_SEPARATOR + label).ids;
  if (ids.includes(tokenizer.unkId)) throw new TrainingError(`label ${label} has a piece the vocabulary lacks`);
  return [...ids, config.eos_token_id];
}

/**
 * The base's view of a labelled training row: prompt and label as one plain text, every token a
 * target. Pretraining on these is how a general base model comes to have seen text of the task's
 * shape; QLoRA then trains the label tokens alone.
 */
export function labelledClmExamples(rows: readonly Example[], tokenizer: WordPieceTokenizer, config: LlamaConfig): ClmExample[] {
  return rows.map((r) => ({ ids: [...promptIds(r.text, tokenizer, config), ...completionIds(r.label, tokenizer, config)] }));
}

export function promptCompletions(rows: readonly Example[], tokenizer: WordPieceTokenizer, config: LlamaConfig): PromptCompletion[] {
  return rows.map((r) => ({ prompt: promptIds(r.text, tokenizer, config), completion: completionIds(r.label, tokenizer, config) }));
}

/** The `classifier.json` the runtime reads (src/engine/llama-engine.ts); `out_of_scope` is one more label path. */
export function classifierSpec(oosThreshold?: number): Record<string, unknown> {
  return {
    labels: [...BANKING77_LABELS, OUT_OF_SCOPE],
    ...(oosThreshold === undefined ? {} : { oos_threshold: oosThreshold }),
    prompt: LLAMA_PROMPT,
    separator: LLAMA_SEPARATOR,
    max_text_tokens: LLAMA_MAX_TEXT_TOKENS,
    dtypes: ['q4', 'fp32'],
  };
}
