/**
 * Our WordPiece tokenizer written as Hugging Face `tokenizer.json` + `tokenizer_config.json`, so
 * that transformers.js (`AutoTokenizer`) tokenizes exactly as `WordPieceTokenizer.encode` does:
 * the same normalisation (NFKC, lowercase, strip accents, control characters to spaces), the same
 * pre-tokenisation (runs of letters and digits; every other visible character alone) and the same
 * greedy longest-match WordPiece with `##` continuations and 40-character words.
 *
 * Two uses. The Llama: a causal LM needs beginning- and end-of-sequence tokens, which the
 * encoder's vocabulary lacks: `withSequenceTokens` puts `<s>` and `</s>` right after `[PAD]` and
 * `[UNK]`, and `<s>` is added in front of every encoding with special tokens, as Llama tokenizers
 * do (`toHfTokenizerFiles`). The custom encoder: its plain vocabulary, nothing added, the spelling
 * word list in a file of its own (`toHfEncoderTokenizerFiles`, read back by
 * `customTokenizerFromFiles`), so that one tokenizer.json serves our engine and transformers.js.
 */
import { PAD, UNK, WordPieceTokenizer, type WordPieceJson } from './wordpiece';
import { ModelFormatError } from '../core/errors';

const BOS = '<s>';
const EOS = '</s>';

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
      ...textRules({ type: 'StripAccents' }),
      post_processor: {
        type: 'TemplateProcessing',
        single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, bos, { Sequence: { id: 'B', type_id: 0 } }],
        special_tokens: { [BOS]: { id: BOS, ids: [id(BOS)], tokens: [BOS] } },
      },
      ...wordPieceModel(tokenizer),
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

// ---- The custom encoder's tokenizer as Hugging Face files ----

/** `spelling.json`: the known words and their counts, for `SpellingCorrector` (see spelling.ts). */
export interface SpellingJson {
  type: 'spelling';
  version: 1;
  words: [string, number][];
}

export interface HfEncoderTokenizerFiles extends HfTokenizerFiles {
  /** The contents of spelling.json; undefined when the tokenizer has no word list. */
  spelling?: SpellingJson;
}

/**
 * The custom encoder's tokenizer as Hugging Face `tokenizer.json` + `tokenizer_config.json`, which
 * transformers.js (`AutoTokenizer`, the `text-classification` pipeline) reads: the vocabulary with
 * our ids (nothing shifted), nothing added around an encoding (the encoder has no [CLS]/[SEP]),
 * padding on the right with `[PAD]` (the graph adds position embeddings from the left, so left
 * padding would move every token), truncation at the model's context. It tokenizes exactly as
 * `WordPieceTokenizer.encode` does without spelling correction, which a Hugging Face tokenizer
 * cannot express: the word list goes to `spelling.json`, which only our engine reads.
 *
 * Accents are stripped by a `Replace` of `\p{Mn}+` rather than by `StripAccents`, which
 * transformers.js implements as removing every mark (`\p{M}`: Mc and Me too) where ours and the
 * Rust `tokenizers` remove Mn only. No special tokens are declared as added tokens: an added token
 * is matched in the raw text before normalisation, so a message holding the text `[UNK]` would
 * tokenize differently from our encoder; `[PAD]` and `[UNK]` are found in the vocabulary anyway.
 */
export function toHfEncoderTokenizerFiles(tokenizer: WordPieceTokenizer, maxTokens: number): HfEncoderTokenizerFiles {
  const words = tokenizer.toJSON().words;
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [],
      ...textRules({ type: 'Replace', pattern: { Regex: '\\p{Mn}+' }, content: '' }),
      post_processor: null,
      ...wordPieceModel(tokenizer),
    },
    tokenizerConfig: {
      tokenizer_class: 'PreTrainedTokenizerFast',
      pad_token: PAD,
      unk_token: UNK,
      model_max_length: maxTokens,
      padding_side: 'right',
      truncation_side: 'right',
      clean_up_tokenization_spaces: false,
    },
    ...(words ? { spelling: { type: 'spelling', version: 1, words } } : {}),
  };
}

/** JSON with object keys sorted, to compare two structures whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * The custom model's tokenizer from its files: `tokenizer.json` in our own format
 * (`{"type": "wordpiece", ...}`, with its word list inside: folders written before the Hugging Face
 * layout) or as written by `toHfEncoderTokenizerFiles`, with the word list from `spelling.json`.
 * Our engine implements one normalisation and pre-tokenisation, so a Hugging Face file whose
 * pipeline differs from what we write (another model's tokenizer.json) is refused rather than
 * read as if it were ours.
 */
export function customTokenizerFromFiles(
  tokenizerJson: unknown,
  spellingJson?: unknown,
  files: { tokenizer?: string; spelling?: string } = {},
): WordPieceTokenizer {
  const file = files.tokenizer ?? 'tokenizer.json';
  if ((tokenizerJson as { type?: unknown } | null)?.type === 'wordpiece') return new WordPieceTokenizer(tokenizerJson as WordPieceJson);
  const hf = tokenizerJson as { model?: { type?: unknown; vocab?: unknown } } | null;
  if (hf?.model?.type !== 'WordPiece' || typeof hf.model.vocab !== 'object' || hf.model.vocab === null)
    throw new ModelFormatError({
      message: `${file} is neither a WordPiece tokenizer of ours nor a Hugging Face WordPiece tokenizer.json`,
      file,
    });
  const vocab: string[] = [];
  for (const [token, id] of Object.entries(hf.model.vocab as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || vocab[id] !== undefined)
      throw new ModelFormatError({ message: `${file}: token ${JSON.stringify(token)} has a bad or repeated id ${String(id)}`, file });
    vocab[id] = token;
  }
  if (vocab.length !== Object.keys(hf.model.vocab).length)
    throw new ModelFormatError({ message: `${file}: the vocabulary's ids are not 0 to ${vocab.length - 1} without gaps`, file });
  const plain = new WordPieceTokenizer({ type: 'wordpiece', version: 1, vocab });
  const expected = toHfEncoderTokenizerFiles(plain, 1).tokenizer as Record<string, unknown>;
  for (const key of ['normalizer', 'pre_tokenizer', 'post_processor', 'added_tokens', 'model'] as const) {
    if (canonical((tokenizerJson as Record<string, unknown>)[key]) !== canonical(expected[key]))
      throw new ModelFormatError({
        message: `${file}: its ${key} is not the one this engine implements (only tokenizer files written by this project's export load)`,
        file,
      });
  }
  if (spellingJson === undefined) return plain;
  const spelling = spellingJson as Partial<SpellingJson> | null;
  const spellingFile = files.spelling ?? 'spelling.json';
  if (spelling?.type !== 'spelling' || !Array.isArray(spelling.words))
    throw new ModelFormatError({
      message: `${spellingFile} is not a word list (expected {"type":"spelling","words":[...]})`,
      file: spellingFile,
    });
  return plain.withWords(spelling.words);
}

/** The WordPiece model and decoder parts of tokenizer.json: greedy longest match, `##` continuations, 40-character words. */
function wordPieceModel(tokenizer: WordPieceTokenizer) {
  return {
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: UNK,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 40,
      vocab: Object.fromEntries(tokenizer.vocab.map((token, i) => [token, i])),
    },
  };
}

/**
 * The normaliser and pre-tokeniser of tokenizer.json, as `WordPieceTokenizer.encode` does them:
 * NFKC, lowercase, accents off (`stripAccents`, the one step the two tokenizers write differently),
 * control and format characters to spaces; then runs of letters and digits, every other visible
 * character alone.
 */
function textRules(stripAccents: object) {
  return {
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFKC' },
        { type: 'Lowercase' },
        { type: 'NFD' },
        stripAccents,
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
  };
}
