/** The seeded typing noise: what `eval --typos` measures and what training reads. */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/models/custom/random';
import { addTypos, augmentText, DEFAULT_NOISE, perturbText, typo } from '../../src/training/typos';

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

const MESSAGE = 'I still have not received my new card, where is it?';

describe('perturbText', () => {
  it('is the same for the same seed and row, and differs across rows and seeds', () => {
    expect(perturbText(MESSAGE, 7, 3)).toBe(perturbText(MESSAGE, 7, 3));
    const variants = new Set([...Array(20).keys()].map((row) => perturbText(MESSAGE, 7, row)));
    expect(variants.size).toBeGreaterThan(10);
    expect(perturbText(MESSAGE, 8, 3)).not.toBe(perturbText(MESSAGE, 7, 3));
  });

  it('makes one or two edits, only inside words of 4+ letters, keeping their first letter', () => {
    const seen = new Set<number>();
    for (let row = 0; row < 200; row++) {
      const out = perturbText(MESSAGE, 1, row);
      const distance = editDistance(MESSAGE, out);
      seen.add(distance);
      expect(distance).toBeGreaterThanOrEqual(1);
      expect(distance).toBeLessThanOrEqual(2);
      const words = (s: string) => s.split(/\s+/);
      words(out).forEach((w, i) => {
        const original = words(MESSAGE)[i]!;
        if (original.replace(/\W/g, '').length < 4) expect(w).toBe(original);
        expect(w[0]).toBe(original[0]);
      });
    }
    expect([...seen].sort()).toEqual([1, 2]);
  });

  it('leaves a message without long words alone', () => {
    expect(perturbText('is it ok?', 1, 0)).toBe('is it ok?');
  });
});

describe('typo kinds', () => {
  const random = mulberry32(1);
  it('swap, drop, double and neighbour each change the word as named', () => {
    expect(editDistance('card', typo('card', 'swap', random))).toBe(1);
    expect(typo('card', 'drop', random)).toHaveLength(3);
    expect(typo('card', 'double', random)).toHaveLength(5);
    const neighbour = typo('card', 'neighbour', random);
    expect(neighbour).toHaveLength(4);
    expect(neighbour).not.toBe('card');
  });
  it('addTypos touches at most the number of words asked for', () => {
    const out = addTypos('transfer money between accounts today', 2, mulberry32(3));
    const changed = out.split(' ').filter((w, i) => w !== 'transfer money between accounts today'.split(' ')[i]);
    expect(changed.length).toBeGreaterThanOrEqual(1);
    expect(changed.length).toBeLessThanOrEqual(2);
  });
});

describe('augmentText (training noise)', () => {
  it('never turns a message into one without letters, digits or symbols', () => {
    const random = mulberry32(5);
    for (const text of ['?', '...', '!!!', "what's up?", 'hi!']) {
      for (let i = 0; i < 50; i++) expect(augmentText(text, { typoRate: 1, casualRate: 1 }, random)).toMatch(/[\p{L}\p{N}\p{S}]|^[?.!]+$/u);
    }
  });
  it('writes casually: no apostrophes, no final punctuation', () => {
    expect(augmentText("I haven't got it?", { typoRate: 0, casualRate: 1 }, mulberry32(1))).toBe('I havent got it');
  });
  it('roughs up about the configured share of rows', () => {
    const random = mulberry32(9);
    let changed = 0;
    for (let i = 0; i < 1000; i++)
      if (augmentText('please cancel the transfer', { ...DEFAULT_NOISE, casualRate: 0 }, random) !== 'please cancel the transfer')
        changed++;
    expect(changed / 1000).toBeGreaterThan(DEFAULT_NOISE.typoRate - 0.07);
    expect(changed / 1000).toBeLessThan(DEFAULT_NOISE.typoRate + 0.07);
  });
});
