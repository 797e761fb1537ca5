/**
 * Seeded, ordinary typing noise: the slips customers make on a phone keyboard. One module for both
 * uses, so the two stay comparable: training reads noisy copies of its rows (`augmentText`, fresh
 * noise every epoch) and `eval --typos SEED` measures accuracy on a perturbed copy of a split
 * (`perturbText`, 1-2 edits per message in words of 4+ letters).
 */
import { mulberry32 } from '../models/custom/random';

/** Neighbouring keys on a QWERTY phone keyboard (same row and the rows above and below). */
const NEIGHBOURS: Record<string, string> = {
  q: 'wa',
  w: 'qeas',
  e: 'wrsd',
  r: 'etdf',
  t: 'ryfg',
  y: 'tugh',
  u: 'yihj',
  i: 'uojk',
  o: 'ipkl',
  p: 'ol',
  a: 'qwsz',
  s: 'awedxz',
  d: 'serfcx',
  f: 'drtgvc',
  g: 'ftyhbv',
  h: 'gyujnb',
  j: 'huikmn',
  k: 'jiolm',
  l: 'kop',
  z: 'asx',
  x: 'zsdc',
  c: 'xdfv',
  v: 'cfgb',
  b: 'vghn',
  n: 'bhjm',
  m: 'njk',
};

export type TypoKind = 'swap' | 'drop' | 'double' | 'neighbour';
const KINDS: readonly TypoKind[] = ['swap', 'drop', 'double', 'neighbour'];

/** One edit inside `word` (letters only), never touching its first letter: people rarely miss that one. */
export function typo(word: string, kind: TypoKind, random: () => number): string {
  const chars = Array.from(word);
  if (chars.length < 3) return word;
  const at = 1 + Math.floor(random() * (chars.length - 1)); // 1 .. length-1
  switch (kind) {
    case 'swap': {
      const i = Math.min(at, chars.length - 2);
      // Swapping "ll" in "still" changes nothing: drop one of them instead.
      if (chars[i] === chars[i + 1]) chars.splice(i, 1);
      else [chars[i], chars[i + 1]] = [chars[i + 1]!, chars[i]!];
      break;
    }
    case 'drop':
      chars.splice(at, 1);
      break;
    case 'double':
      chars.splice(at, 0, chars[at]!);
      break;
    case 'neighbour': {
      const lower = chars[at]!.toLowerCase();
      const options = NEIGHBOURS[lower];
      if (!options) return word;
      const replacement = options[Math.floor(random() * options.length)]!;
      chars[at] = chars[at] === lower ? replacement : replacement.toUpperCase();
      break;
    }
  }
  return chars.join('');
}

const LETTER_WORD = /\p{L}+/gu;

/** Starts and ends of the words of at least `minLength` letters. */
function wordSpans(text: string, minLength: number): [number, number][] {
  const spans: [number, number][] = [];
  for (const m of text.matchAll(LETTER_WORD)) {
    if (Array.from(m[0]).length >= minLength) spans.push([m.index, m.index + m[0].length]);
  }
  return spans;
}

/** Applies `edits` typos to distinct words of at least `minLength` letters (fewer if there are fewer such words). */
export function addTypos(text: string, edits: number, random: () => number, minLength = 4): string {
  const spans = wordSpans(text, minLength);
  const chosen: [number, number][] = [];
  while (chosen.length < edits && spans.length > 0) chosen.push(spans.splice(Math.floor(random() * spans.length), 1)[0]!);
  // Right to left so earlier offsets stay valid.
  chosen.sort((a, b) => b[0] - a[0]);
  let out = text;
  for (const [start, end] of chosen) {
    const kind = KINDS[Math.floor(random() * KINDS.length)]!;
    out = out.slice(0, start) + typo(out.slice(start, end), kind, random) + out.slice(end);
  }
  return out;
}

/**
 * The measurement: 1 or 2 edits (even odds) in words of 4+ letters, seeded per row from `seed`
 * and the row's index, so a copy of a split is the same on every machine.
 */
export function perturbText(text: string, seed: number, row: number): string {
  const random = mulberry32((seed ^ Math.imul(row + 1, 0x9e3779b1)) >>> 0);
  return addTypos(text, random() < 0.5 ? 1 : 2, random);
}

/** How training roughs up its rows; every share is per row and per epoch. */
export interface NoiseSettings {
  /** Share of rows that get 1-2 typos (words of 3+ letters). */
  typoRate: number;
  /** Share of rows written casually: no apostrophes, no final punctuation. */
  casualRate: number;
}

export const DEFAULT_NOISE: NoiseSettings = { typoRate: 0.5, casualRate: 0.3 };

/** A training row's text, roughed up: typos, dropped apostrophes and punctuation ("havent", "where is my card"). */
export function augmentText(text: string, noise: NoiseSettings, random: () => number): string {
  let out = text;
  if (random() < noise.casualRate) out = out.replace(/['’]/g, '').replace(/[?.!]+\s*$/u, '');
  if (random() < noise.typoRate) out = addTypos(out, random() < 0.6 ? 1 : 2, random, 3);
  // "?" without its punctuation is nothing at all: keep such a row as it was.
  return /[\p{L}\p{N}\p{S}]/u.test(out) ? out : text;
}
