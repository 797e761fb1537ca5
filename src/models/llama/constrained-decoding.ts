/**
 * Classifying with a causal LM by decoding under a label constraint: at every step, every token
 * that does not continue some label (see `LabelTrie`) gets a logit of -Infinity, so greedy decoding
 * can only spell a label, then EOS.
 *
 * transformers.js 4.3.1 facts this relies on (read from its source, src/models/modeling_utils.js):
 * - `generate({ logits_processor })` takes a `LogitsProcessorList`; its processors run after the
 *   model's own (repetition penalty, min length, ...) on the last position's logits, shaped
 *   [batch, vocab] in float32, and each `_call(input_ids: bigint[][], logits)` must return the
 *   logits (it may change them in place). `input_ids` holds the prompt and what was generated so far.
 * - `output_scores` exists in `GenerationConfig` but 4.3.1 does not return scores (the return value
 *   has `// TODO: scores`), and the greedy sampler reports a log-probability of 0. So the processor
 *   itself records, at each step, the softmax of the logits it sees renormalised over the allowed
 *   tokens, and the confidence is read from that record.
 */
import { LogitsProcessor, LogitsProcessorList, Tensor } from '@huggingface/transformers';
import type { PreTrainedModel, PreTrainedTokenizer } from '@huggingface/transformers';
import { LabelTrie } from './label-trie';

/** For each step, each allowed token's probability renormalised over the allowed tokens. */
export type StepDistributions = Map<number, number>[];

/** Softmax of `logits[offset + id]` over `ids` only. */
function renormalisedSoftmax(logits: Float32Array, offset: number, ids: readonly number[]): Map<number, number> {
  const max = Math.max(...ids.map((id) => logits[offset + id]!));
  const exps = ids.map((id) => Math.exp(logits[offset + id]! - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return new Map(ids.map((id, i) => [id, exps[i]! / sum]));
}

/**
 * Masks every logit that does not continue a label and records the renormalised distribution of
 * each step, per batch row (`steps[row][step]`). One instance serves one `generate` call.
 */
export class LabelConstrainedLogitsProcessor extends LogitsProcessor {
  readonly steps: StepDistributions[] = [];

  constructor(
    private readonly trie: LabelTrie,
    /** Length of the (left-padded) prompt rows: ids after it are the generated ones. */
    private readonly promptLength: number,
  ) {
    super();
  }

  override _call(input_ids: bigint[][], logits: Tensor): Tensor {
    const vocab = logits.dims.at(-1)!;
    const data = logits.data as Float32Array;
    input_ids.forEach((row, b) => {
      const generated = row.slice(this.promptLength).map(Number);
      let allowed = this.trie.allowedNext(generated);
      const rowSteps = (this.steps[b] ??= []);
      // A row that already ended with its label's EOS, while others in the batch still run: keep
      // it at EOS (nothing is recorded, so its confidence is unchanged).
      if (allowed.length === 0) allowed = [this.trie.eosTokenId];
      else rowSteps.push(renormalisedSoftmax(data, b * vocab, allowed));
      const keep = new Set(allowed);
      for (let id = 0; id < vocab; id++) if (!keep.has(id)) data[b * vocab + id] = -Infinity;
    });
    return logits;
  }
}

/**
 * The ids `label` has where it follows `prompt` + `separator`: tokenize the two together and drop
 * the prompt's ids, so that merges across the boundary (a leading-space token in BPE vocabularies)
 * come out as they will in generation. Falls back to tokenizing `separator + label` alone when the
 * prompt's ids are not a prefix of the joint ids.
 */
export function labelTokenIds(tokenizer: PreTrainedTokenizer, prompt: string, label: string, separator = ' '): number[] {
  const encode = (s: string) => tokenizer.encode(s, { add_special_tokens: false });
  const promptIds = encode(prompt);
  const joint = encode(prompt + separator + label);
  const isPrefix = promptIds.every((id, i) => joint[i] === id);
  return isPrefix ? joint.slice(promptIds.length) : encode(separator + label);
}

export interface ClassifyWithLlamaOptions {
  model: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
  /** The prompt already built from the text to classify; the label is generated right after it. */
  prompt: string;
  labels: readonly string[];
  /** What separates the prompt from the label in the model's eyes (default one space). */
  separator?: string;
  /**
   * When set, also return the `topK` most probable labels under the same renormalised
   * probabilities (`alternatives`). Exact, and it costs one extra model call per trie node where
   * more than one token is allowed, each re-reading the prompt (no shared cache): fine for a few
   * dozen short labels, not free.
   */
  topK?: number;
}

export interface LlamaClassification {
  label: string;
  /**
   * Product over the generated tokens (the label's, then EOS) of each token's probability
   * renormalised over the tokens allowed at that step. In (0, 1]; 1 when every step had one choice.
   */
  confidence: number;
  /** The ids generated after the prompt, EOS included. */
  generatedIds: number[];
  /** With `topK`: the most probable labels, best first; the probabilities of all labels sum to 1. */
  alternatives?: { label: string; probability: number }[];
}

/** Rows of prompt + prefix scored in one call are capped so that their logits stay under this many floats. */
const MAX_LOGITS_PER_CALL = 32 * 2 ** 20;

/**
 * One constrained step after `promptIds` + each prefix (all of the same length), in one batched
 * call: for each prefix, the renormalised distribution over the ids allowed next.
 */
async function stepDistributions(
  model: PreTrainedModel,
  trie: LabelTrie,
  promptIds: readonly number[],
  prefixes: readonly (readonly number[])[],
): Promise<Map<number, number>[]> {
  const rows = prefixes.map((prefix) => [...promptIds, ...prefix]);
  const length = rows[0]!.length;
  const processor = new LabelConstrainedLogitsProcessor(trie, promptIds.length);
  const logitsProcessor = new LogitsProcessorList();
  logitsProcessor.push(processor);
  await model.generate({
    input_ids: new Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, length]),
    attention_mask: new Tensor('int64', new BigInt64Array(rows.length * length).fill(1n), [rows.length, length]),
    max_new_tokens: 1,
    do_sample: false,
    logits_processor: logitsProcessor,
  });
  return rows.map((_, b) => {
    const dist = processor.steps[b]?.[0];
    if (!dist) throw new Error('the logits processor was not called');
    return dist;
  });
}

/**
 * Every label's probability: the product of the renormalised step probabilities along its path in
 * the trie. The trie is walked a level at a time: every prefix of one length that has more than one
 * way on is scored in one batched call (steps with a single allowed id have probability 1 and cost
 * nothing), so a query costs about as many calls as the longest label has tokens.
 */
export async function labelProbabilities(
  model: PreTrainedModel,
  trie: LabelTrie,
  promptIds: readonly number[],
  vocabSize: number,
): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  const rowsPerCall = Math.max(1, Math.floor(MAX_LOGITS_PER_CALL / ((promptIds.length + trie.maxLength) * vocabSize)));
  let level: { prefix: number[]; probability: number }[] = [{ prefix: [], probability: 1 }];
  while (level.length > 0) {
    const next: typeof level = [];
    const follow = (node: (typeof level)[number], dist: Map<number, number>) => {
      for (const [id, p] of dist) {
        if (id === trie.eosTokenId) result.set(trie.labelFor(node.prefix)!, node.probability * p);
        else next.push({ prefix: [...node.prefix, id], probability: node.probability * p });
      }
    };
    const branching: typeof level = [];
    for (const node of level) {
      const allowed = trie.allowedNext(node.prefix);
      if (allowed.length === 1) follow(node, new Map([[allowed[0]!, 1]]));
      else branching.push(node);
    }
    for (let start = 0; start < branching.length; start += rowsPerCall) {
      const chunk = branching.slice(start, start + rowsPerCall);
      const dists = await stepDistributions(
        model,
        trie,
        promptIds,
        chunk.map((n) => n.prefix),
      );
      chunk.forEach((node, i) => follow(node, dists[i]!));
    }
    level = next;
  }
  return result;
}

/** Greedy decoding of `prompt` constrained to `labels`; always returns one of `labels`. */
export async function classifyWithLlama(options: ClassifyWithLlamaOptions): Promise<LlamaClassification> {
  const { model, tokenizer, prompt, labels, separator = ' ', topK } = options;
  const eos = tokenizer.eos_token_id;
  const trie = new LabelTrie(
    labels.map((label) => ({ label, ids: labelTokenIds(tokenizer, prompt, label, separator) })),
    eos,
  );
  const promptIds = tokenizer.encode(prompt);
  const processor = new LabelConstrainedLogitsProcessor(trie, promptIds.length);
  const logitsProcessor = new LogitsProcessorList();
  logitsProcessor.push(processor);
  const out = (await model.generate({
    input_ids: new Tensor('int64', BigInt64Array.from(promptIds.map(BigInt)), [1, promptIds.length]),
    attention_mask: new Tensor('int64', BigInt64Array.from(promptIds.map(() => 1n)), [1, promptIds.length]),
    max_new_tokens: trie.maxLength,
    do_sample: false,
    eos_token_id: eos,
    logits_processor: logitsProcessor,
  })) as Tensor;
  const generatedIds = Array.from(out.data as BigInt64Array, Number).slice(promptIds.length);
  const label = trie.labelFor(generatedIds);
  if (label === undefined) throw new Error(`constrained decoding produced no label: ids [${generatedIds}]`);
  const steps = processor.steps[0] ?? [];
  let confidence = 1;
  steps.forEach((dist, i) => (confidence *= dist.get(generatedIds[i]!) ?? 0));
  if (topK === undefined) return { label, confidence, generatedIds };
  const vocabSize = (model.config as { vocab_size?: number }).vocab_size ?? 128256;
  const alternatives = [...(await labelProbabilities(model, trie, promptIds, vocabSize))]
    .map(([label, probability]) => ({ label, probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, topK);
  return { label, confidence, generatedIds, alternatives };
}
