/**
 * A WordPiece tokenizer: the one implementation used by training (Node), the CLI (Node) and the
 * browser worker. Its vocabulary is learned from the training split by `trainWordPiece`
 * (BPE-style merges, as Hugging Face's WordPiece trainer does) and saved as JSON.
 *
 * Subwords rather than whole words because customers misspell ("recieved", "tranfer"): an
 * unseen word still maps to known pieces instead of one `[UNK]`.
 */

import { SpellingCorrector } from './spelling';
import { ModelFormatError } from '../core/errors';

export const PAD = '[PAD]';
export const UNK = '[UNK]';
const CONTINUATION = '##';
/** Words longer than this are one `[UNK]`: they are noise (hashes, pasted data), and slow to split. */
const MAX_CHARS_PER_WORD = 40;

/** The saved form, `tokenizer.json`. */
export interface WordPieceJson {
  type: 'wordpiece';
  version: 1;
  /** Token strings; a token's id is its index. `[PAD]` is 0 and `[UNK]` is 1. */
  vocab: string[];
  /**
   * Optional: the training text's words with their counts. When present, a word not among them is
   * first spelling-corrected to the most frequent one an edit away (see spelling.ts).
   */
  words?: [string, number][];
}

export interface Encoding {
  ids: number[];
  /** True when the text had more tokens than `maxTokens` and was cut. */
  truncated: boolean;
}

/** Lowercase, compatibility-normalise, strip accents, turn control/format characters into spaces. */
export function normalize(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{Mn}+/gu, '')
    .replace(/[\p{Cc}\p{Cf}]+/gu, ' ');
}

/** Words are runs of letters and digits; every other visible character (punctuation, emoji) stands alone. */
const WORD = /[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu;

export function* preTokenize(normalized: string): Generator<string> {
  for (const match of normalized.matchAll(WORD)) yield match[0];
}

export class WordPieceTokenizer {
  readonly vocab: readonly string[];
  private readonly ids: Map<string, number>;
  readonly padId: number;
  readonly unkId: number;
  private readonly speller: SpellingCorrector | undefined;
  private readonly words: [string, number][] | undefined;

  constructor(json: WordPieceJson) {
    if (json?.type !== 'wordpiece' || !Array.isArray(json.vocab)) {
      throw new ModelFormatError('not a WordPiece tokenizer file (expected {"type":"wordpiece","vocab":[...]})');
    }
    this.vocab = json.vocab;
    this.ids = new Map(json.vocab.map((token, id) => [token, id]));
    const pad = this.ids.get(PAD);
    const unk = this.ids.get(UNK);
    if (pad === undefined || unk === undefined) throw new ModelFormatError('tokenizer vocabulary lacks [PAD] or [UNK]');
    this.padId = pad;
    this.unkId = unk;
    if (json.words !== undefined && !Array.isArray(json.words))
      throw new ModelFormatError('tokenizer "words" must be a list of [word, count]');
    this.words = json.words;
    this.speller = json.words ? new SpellingCorrector(json.words) : undefined;
  }

  /** The same vocabulary with spelling correction over `words` (from the training text). */
  withWords(words: [string, number][]): WordPieceTokenizer {
    return new WordPieceTokenizer({ ...this.toJSON(), words });
  }

  get size(): number {
    return this.vocab.length;
  }

  /**
   * Token ids of `text`, at most `maxTokens` of them. Stops reading as soon as the limit is passed,
   * so a megabyte of text costs no more than a sentence.
   */
  encode(text: string, maxTokens = Number.POSITIVE_INFINITY): Encoding {
    const ids: number[] = [];
    for (const word of preTokenize(normalize(text))) {
      for (const id of this.wordPieces(this.speller ? this.speller.correct(word) : word)) {
        if (ids.length === maxTokens) return { ids, truncated: true };
        ids.push(id);
      }
    }
    return { ids, truncated: false };
  }

  /** Greedy longest-match-first split of one word, as in BERT. */
  private wordPieces(word: string): number[] {
    const chars = Array.from(word);
    if (chars.length > MAX_CHARS_PER_WORD) return [this.unkId];
    const pieces: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      while (end > start) {
        const piece = (start > 0 ? CONTINUATION : '') + chars.slice(start, end).join('');
        found = this.ids.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) return [this.unkId];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }

  toJSON(): WordPieceJson {
    return { type: 'wordpiece', version: 1, vocab: [...this.vocab], ...(this.words ? { words: this.words } : {}) };
  }
}

export interface TrainOptions {
  /** Target vocabulary size, special tokens included. */
  vocabSize: number;
  /** Characters seen fewer times than this are left out of the alphabet (they become `[UNK]`). */
  minCharCount?: number;
}

/**
 * Learns a WordPiece vocabulary: start from single characters (word-initial and `##`
 * continuation forms), then repeatedly merge the adjacent pair that occurs most often in the
 * corpus, until the vocabulary reaches `vocabSize`. Deterministic: ties go to the pair seen first.
 */
export function trainWordPiece(texts: Iterable<string>, options: TrainOptions): WordPieceTokenizer {
  const minCharCount = options.minCharCount ?? 2;
  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    for (const word of preTokenize(normalize(text))) wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
  }

  const charCounts = new Map<string, number>();
  for (const [word, count] of wordCounts) {
    for (const ch of word) charCounts.set(ch, (charCounts.get(ch) ?? 0) + count);
  }
  const alphabet = new Set([...charCounts].filter(([, n]) => n >= minCharCount).map(([ch]) => ch));

  // Each word as its current list of symbols; symbols after the first carry the ## prefix.
  const words = [...wordCounts]
    .filter(([word]) => Array.from(word).length <= MAX_CHARS_PER_WORD && Array.from(word).every((ch) => alphabet.has(ch)))
    .map(([word, count]) => ({
      symbols: Array.from(word).map((ch, i) => (i === 0 ? ch : CONTINUATION + ch)),
      count,
    }));

  const vocab: string[] = [PAD, UNK];
  const known = new Set(vocab);
  const add = (token: string) => {
    if (!known.has(token)) {
      known.add(token);
      vocab.push(token);
    }
  };
  for (const ch of [...alphabet].sort()) add(ch);
  for (const ch of [...alphabet].sort()) add(CONTINUATION + ch);

  const join = (a: string, b: string) => a + b.slice(CONTINUATION.length);
  while (vocab.length < options.vocabSize) {
    const pairCounts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = symbols[i] + '\u0000' + symbols[i + 1];
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = 1; // a pair seen once is not worth a token
    for (const [key, count] of pairCounts) {
      if (count > bestCount) {
        best = key;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    const [left, right] = best.split('\u0000') as [string, string];
    const merged = join(left, right);
    add(merged);
    for (const word of words) {
      const s = word.symbols;
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] === left && s[i + 1] === right) s.splice(i, 2, merged);
      }
    }
  }
  return new WordPieceTokenizer({ type: 'wordpiece', version: 1, vocab });
}
