/**
 * Numbers spelled out: "four five three two zero one five one ...", "oh seven seven double oh
 * nine", in English and the main European languages, digits mixed in. A run that spells 6 or more
 * digits is masked like a digit run: `card` when it spells a Luhn-valid 13-19 digit number, else
 * `number`. Shorter runs ("four eight two one") are left to the context rules (PIN, CVV, codes).
 */
import { NUMBER_SEPARATOR, NUMBER_WORD, NUMBER_WORD_LIST, spokenDigits, trieSource } from '../patterns';
import type { TextScan } from '../scan';
import type { Finding, Recogniser } from '../types';
import { passesLuhn } from './numbers';

// The shared scan finds number words; from each, the run is read forwards (greedy, never retried
// from inside) and digits just before it are taken in ("4532 zero one five ...").
const RUN = new RegExp(`(?:${NUMBER_WORD}|\\d+)(?:${NUMBER_SEPARATOR}(?:${NUMBER_WORD}|\\d+))*`, 'iuy');
const DIGITS_BEFORE = new RegExp(`(?<![\\p{L}\\p{N}])(?:\\d{1,4}${NUMBER_SEPARATOR}){1,8}$`, 'u');
// Number words written together: "fourfoureightninesix...". Found where a word starts with two
// number words glued together, then the whole word is split.
const GLUED = new RegExp(`\\b${trieSource(NUMBER_WORD_LIST, false)}${trieSource(NUMBER_WORD_LIST, false)}`, 'gi');
const WORD_REST = /[A-Za-z\u00c0-\u024f]*/y;
const LONGEST_NUMBER_WORD = Math.max(...NUMBER_WORD_LIST.map((word) => word.length));
const NUMBER_WORDS = new Set(NUMBER_WORD_LIST);

/** Splits `word` into number words (shortest split by dynamic programming), or null. Linear in its length. */
function splitNumberWords(word: string): string[] | null {
  const lower = word.toLowerCase();
  const best: (number | undefined)[] = [0]; // best[i]: fewest words spelling lower[0, i)
  const from: number[] = [0];
  for (let i = 1; i <= lower.length; i++) {
    for (let k = 2; k <= Math.min(LONGEST_NUMBER_WORD, i); k++) {
      const before = best[i - k];
      if (before === undefined || !NUMBER_WORDS.has(lower.slice(i - k, i))) continue;
      if (best[i] === undefined || before + 1 < best[i]!) {
        best[i] = before + 1;
        from[i] = i - k;
      }
    }
  }
  if (best[lower.length] === undefined) return null;
  const words: string[] = [];
  for (let i = lower.length; i > 0; i = from[i]!) words.unshift(lower.slice(from[i]!, i));
  return words;
}

function report(digits: string, start: number, length: number, out: Finding[]): void {
  if (digits.length < 6) return;
  const category = digits.length >= 13 && digits.length <= 19 && passesLuhn(digits) ? 'card' : 'number';
  out.push({ start, end: start + length, category });
}

export const numberWords: Recogniser = {
  name: 'number_words',
  keywords: NUMBER_WORD_LIST,
  find(text: string, out: Finding[], scan: TextScan): void {
    let handledUntil = 0;
    for (const hit of scan.hits('number_words')) {
      if (hit.index < handledUntil) continue;
      RUN.lastIndex = hit.index;
      const run = RUN.exec(text)![0];
      // One word on its own ("one", "un") spells at most 3 digits: only digits just before it can
      // make 6 ("1234 56 one"), and those need a digit two characters back at most.
      if (run.length === hit.keyword.length && !/\d[ \t,/-]{0,3}$/.test(text.slice(Math.max(0, hit.index - 4), hit.index))) continue;
      const before = DIGITS_BEFORE.exec(text.slice(Math.max(handledUntil, hit.index - 48), hit.index))?.[0] ?? '';
      const start = hit.index - before.length;
      report(spokenDigits(before + run), start, before.length + run.length, out);
      handledUntil = hit.index + run.length;
    }
    GLUED.lastIndex = 0;
    for (let hit = GLUED.exec(text); hit; hit = GLUED.exec(text)) {
      WORD_REST.lastIndex = hit.index;
      const word = WORD_REST.exec(text)![0];
      GLUED.lastIndex = hit.index + word.length;
      if (word.length < 18) continue; // six number words are at least 18 letters
      const words = splitNumberWords(word);
      if (words) report(spokenDigits(words.join(' ')), hit.index, word.length, out);
    }
  },
};
