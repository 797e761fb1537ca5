import { describe, expect, it } from 'vitest';
import { customTokenizerFromFiles, toHfEncoderTokenizerFiles, type HfEncoderTokenizerFiles } from '../../src/tokenizer/hf-tokenizer';
import { normalize, trainWordPiece, WordPieceTokenizer, UNK } from '../../src/tokenizer/wordpiece';

const corpus = [
  'I still have not received my new card',
  'my card has not arrived yet',
  'where is my card? it has not arrived',
  'how do I transfer money to another account',
  'the transfer to my account failed',
  'I received a refund on my card',
];

describe('WordPiece tokenizer', () => {
  const tokenizer = trainWordPiece(corpus, { vocabSize: 120, minCharCount: 1 });
  const pieces = (text: string) => tokenizer.encode(text).ids.map((id) => tokenizer.vocab[id]);

  it('learns whole words for frequent words and is deterministic', () => {
    expect(pieces('my card')).toEqual(['my', 'card']);
    expect(trainWordPiece(corpus, { vocabSize: 120, minCharCount: 1 }).vocab).toEqual(tokenizer.vocab);
  });

  it('splits an unseen misspelling into known pieces instead of one [UNK]', () => {
    const p = pieces('recieved');
    expect(p.length).toBeGreaterThan(1);
    expect(p).not.toContain(UNK);
    expect(p.slice(1).every((t) => t!.startsWith('##'))).toBe(true);
  });

  it('normalises case, accents, zero-width and control characters', () => {
    expect(pieces('MY CÁRD')).toEqual(pieces('my card'));
    expect(pieces('my\u200bcard')).toEqual(['my', 'card']);
    expect(normalize('a\u0000b\u202ec')).toBe('a b c');
  });

  it('maps characters never seen in training (emoji, Arabic) to [UNK] without failing', () => {
    expect(pieces('card 🙁')).toEqual(['card', UNK]);
    expect(pieces('بطاقتي')).toEqual([UNK]);
  });

  it('truncates at maxTokens, says so, and stops early on huge input', () => {
    const long = 'card '.repeat(200_000); // 1 MB
    const encoded = tokenizer.encode(long, 64);
    expect(encoded.ids).toHaveLength(64);
    expect(encoded.truncated).toBe(true);
    expect(tokenizer.encode('my card', 64).truncated).toBe(false);
  });

  it('survives a JSON round trip and rejects files that are not a WordPiece vocabulary', () => {
    const copy = new WordPieceTokenizer(JSON.parse(JSON.stringify(tokenizer.toJSON())));
    expect(copy.encode('transfer failed').ids).toEqual(tokenizer.encode('transfer failed').ids);
    expect(() => new WordPieceTokenizer({ type: 'bpe' } as never)).toThrow(/not a WordPiece/);
    expect(() => new WordPieceTokenizer({ type: 'wordpiece', version: 1, vocab: ['a'] })).toThrow(/\[PAD\]/);
  });
});

describe('the custom model’s tokenizer as Hugging Face files (tokenizer.json + spelling.json)', () => {
  const tokenizer = trainWordPiece(corpus, { vocabSize: 120, minCharCount: 1 }).withWords([
    ['received', 2],
    ['card', 4],
  ]);
  const files = JSON.parse(JSON.stringify(toHfEncoderTokenizerFiles(tokenizer, 64))) as HfEncoderTokenizerFiles;

  it('reads back the same vocabulary and word list, ids unshifted, and encodes as before', () => {
    expect(files.spelling?.words).toEqual([
      ['received', 2],
      ['card', 4],
    ]);
    const back = customTokenizerFromFiles(files.tokenizer, files.spelling);
    expect(back.vocab).toEqual(tokenizer.vocab);
    expect(back.encode('I recieved my CÁRD').ids).toEqual(tokenizer.encode('I recieved my CÁRD').ids);
    // Without spelling.json: the same pieces, no correction.
    expect(customTokenizerFromFiles(files.tokenizer).encode('recieved').ids).not.toEqual(tokenizer.encode('recieved').ids);
    // Our own format is still read, word list included.
    expect(customTokenizerFromFiles(tokenizer.toJSON()).encode('recieved').ids).toEqual(tokenizer.encode('recieved').ids);
  });

  it('refuses vocabularies with gaps or repeated ids, and pipelines it does not implement', () => {
    const tokenizerJson = files.tokenizer as { model: { vocab: Record<string, number> }; pre_tokenizer: unknown };
    const gap = { ...tokenizerJson, model: { ...tokenizerJson.model, vocab: { ...tokenizerJson.model.vocab, extra: 500 } } };
    expect(() => customTokenizerFromFiles(gap)).toThrow(/without gaps/);
    const repeated = { ...tokenizerJson, model: { ...tokenizerJson.model, vocab: { ...tokenizerJson.model.vocab, extra: 1 } } };
    expect(() => customTokenizerFromFiles(repeated)).toThrow(/repeated id 1/);
    expect(() => customTokenizerFromFiles({ ...tokenizerJson, pre_tokenizer: { type: 'Whitespace' } })).toThrow(
      /its pre_tokenizer is not the one this engine implements/,
    );
    expect(() => customTokenizerFromFiles({ model: { type: 'BPE' } })).toThrow(/neither/);
    expect(() => customTokenizerFromFiles(files.tokenizer, { words: [] }, { spelling: 'words.json' })).toThrow(
      /^words\.json is not a word list/,
    );
  });
});
