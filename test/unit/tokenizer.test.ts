import { describe, expect, it } from 'vitest';
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
