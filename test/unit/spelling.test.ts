/** Spelling correction in the tokenizer: misspelt words read as the known words they were meant to be. */
import { describe, expect, it } from 'vitest';
import { countWords, SpellingCorrector } from '../../src/tokenizer/spelling';
import { trainWordPiece, WordPieceTokenizer } from '../../src/tokenizer/wordpiece';

const known = countWords(['received', 'received', 'card', 'card', 'card', 'cart', 'cart', 'transfer', 'transfer', 'hello', 'once']);

describe('SpellingCorrector', () => {
  const speller = new SpellingCorrector(known);

  it('keeps words seen at least twice, most frequent first', () => {
    expect(known.map(([w]) => w)).toEqual(['card', 'cart', 'received', 'transfer']);
  });

  it('fixes a swapped, dropped, doubled or changed letter', () => {
    expect(speller.correct('recieved')).toBe('received');
    expect(speller.correct('recived')).toBe('received');
    expect(speller.correct('receivedd')).toBe('received');
    expect(speller.correct('trensfer')).toBe('transfer');
  });

  it('prefers the more frequent known word, and leaves known, short, unknown-far and non-letter words alone', () => {
    expect(speller.correct('carx')).toBe('card'); // one edit from card (3) and cart (2)
    expect(speller.correct('cart')).toBe('cart');
    expect(speller.correct('crd')).toBe('crd'); // 3 letters: too short to guess
    expect(speller.correct('zzzzzz')).toBe('zzzzzz');
    expect(speller.correct('4532')).toBe('4532');
  });

  it('leaves a word 2+ letters longer than any known word alone without searching (the search is quadratic)', () => {
    // Before the length bound, one 20,000-letter word kept the CLI busy for 160 s; this one would not finish.
    const long = 'a'.repeat(100_000);
    expect(speller.correct(long)).toBe(long);
    expect(speller.correct('transferr')).toBe('transfer'); // longest known word + 1 is still corrected
  });
});

describe('WordPieceTokenizer with words', () => {
  const pieces = trainWordPiece(['I have not received my card', 'transfer my money', 'card received'], { vocabSize: 80 });
  const withWords = pieces.withWords(countWords(['received', 'received', 'card', 'card', 'transfer', 'transfer']));

  it('encodes a misspelt word as the known word, and writes its words to tokenizer.json', () => {
    expect(withWords.encode('recieved my crad').ids).toEqual(withWords.encode('received my card').ids);
    expect(pieces.encode('recieved').ids).not.toEqual(pieces.encode('received').ids);
    const reloaded = new WordPieceTokenizer(JSON.parse(JSON.stringify(withWords.toJSON())));
    expect(reloaded.encode('recieved').ids).toEqual(withWords.encode('received').ids);
    expect(pieces.toJSON()).not.toHaveProperty('words');
  });

  it('refuses a words field that is not a list', () => {
    expect(() => new WordPieceTokenizer({ ...pieces.toJSON(), words: {} as unknown as [string, number][] })).toThrow(/words/);
  });
});
