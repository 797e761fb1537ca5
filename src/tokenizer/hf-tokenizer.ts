/**
 * Our WordPiece tokenizer written as Hugging Face `tokenizer.json` + `tokenizer_config.json`, so
 * that transformers.js (`AutoTokenizer`) tokenizes exactly as `WordPieceTokenizer.encode` does:
 * the same normalisation (NFKC, lowercase, strip accents, control characters to spaces), the same
 * pre-tokenisation (runs of letters and digits; every other visible character alone) and the same
 * greedy longest-match WordPiece with `##` continuations and 40-character words.
 *
 * A causal LM needs beginning- and end-of-sequence tokens, which the encoder's vocabulary lacks:
 * `withSequenceTokens` puts `<s>` and `</s>` right after `[PAD]` and `[UNK]`. `<s>` is added in
 * front of every encoding with special tokens, as Llama tokenizers do.
 */
import { PAD, UNK, WordPieceTokenizer } from './wordpiece';
import { ModelFormatError } from '../core/errors';

export const BOS = '<s>';
export const EOS = '</s>';

/** The tokenizer with `<s>` at id 2 and `</s>` at id 3 (every other token shifts up by 2). */
export function withSequenceTokens(tokenizer: WordPieceTokenizer): WordPieceTokenizer {
  const rest = tokenizer.vocab.filter((t) => t !== PAD && t !== UNK && t !== BOS && t !== EOS);
  return new WordPieceTokenizer({ type: 'wordpiece', version: 1, vocab: [PAD, UNK, BOS, EOS, ...rest] });
}

export interface HfTokenizerFiles {
  /** The contents of tokenizer.json. */
  tokenizer: object;
  /** The contents of tokenizer_config.json. */
  tokenizerConfig: object;
}

/** The two files for a tokenizer made by `withSequenceTokens`. */
export function toHfTokenizerFiles(tokenizer: WordPieceTokenizer, maxLength: number): HfTokenizerFiles {
  const id = (token: string) => {
    const i = tokenizer.vocab.indexOf(token);
    if (i < 0) throw new ModelFormatError(`the vocabulary has no ${token}: build it with withSequenceTokens`);
    return i;
  };
  const special = (token: string) => ({
    id: id(token),
    content: token,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const bos = { SpecialToken: { id: BOS, type_id: 0 } };
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [PAD, UNK, BOS, EOS].map(special),
      normalizer: {
        type: 'Sequence',
        normalizers: [
          { type: 'NFKC' },
          { type: 'Lowercase' },
          { type: 'NFD' },
          { type: 'StripAccents' },
          { type: 'Replace', pattern: { Regex: '[\\p{Cc}\\p{Cf}]+' }, content: ' ' },
        ],
      },
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'WhitespaceSplit' },
          { type: 'Split', pattern: { Regex: '[\\p{L}\\p{N}]+|[^\\s\\p{L}\\p{N}]' }, behavior: 'Isolated', invert: false },
        ],
      },
      post_processor: {
        type: 'TemplateProcessing',
        single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, bos, { Sequence: { id: 'B', type_id: 0 } }],
        special_tokens: { [BOS]: { id: BOS, ids: [id(BOS)], tokens: [BOS] } },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: {
        type: 'WordPiece',
        unk_token: UNK,
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 40,
        vocab: Object.fromEntries(tokenizer.vocab.map((token, i) => [token, i])),
      },
    },
    tokenizerConfig: {
      tokenizer_class: 'PreTrainedTokenizer',
      bos_token: BOS,
      eos_token: EOS,
      pad_token: PAD,
      unk_token: UNK,
      add_bos_token: true,
      add_eos_token: false,
      model_max_length: maxLength,
      clean_up_tokenization_spaces: false,
      padding_side: 'left',
    },
  };
}

/** Our WordPiece back from a `tokenizer.json` written by `toHfTokenizerFiles` (its WordPiece vocabulary). */
export function wordPieceFromHfTokenizer(json: unknown, file = 'tokenizer.json'): WordPieceTokenizer {
  const vocabMap = (json as { model?: { type?: string; vocab?: Record<string, number> } } | null)?.model;
  if (vocabMap?.type !== 'WordPiece' || !vocabMap.vocab)
    throw new ModelFormatError({ message: `${file} has no WordPiece vocabulary`, file });
  const vocab: string[] = [];
  for (const [token, id] of Object.entries(vocabMap.vocab)) vocab[id] = token;
  return new WordPieceTokenizer({ type: 'wordpiece', version: 1, vocab });
}
