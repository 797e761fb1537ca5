/**
 * Spelling correction for the words a customer mistypes: a word the model's training text never
 * contained, of 4+ letters, becomes the most frequent known word one edit away (a letter dropped,
 * added, changed, or two neighbours swapped: Damerau distance 1), if there is one. "recieved",
 * "recived" and "receivedd" all read "received"; a word with no close known word is left as it is
 * for the subword pieces to carry. The known words and their counts ship in the tokenizer file.
 */

/** Words shorter than this are left alone: too many short words are one edit from another. */
const MIN_CORRECTED_LENGTH = 4;

export class SpellingCorrector {
  private readonly counts: Map<string, number>;
  private readonly alphabet: string[];
  /** Longest known word, in code points: a word longer by 2+ has no known word one edit away. */
  private readonly longest: number;

  /** `words`: each known word (normalised, as the tokenizer sees it) with its count in the training text. */
  constructor(words: readonly (readonly [string, number])[]) {
    this.counts = new Map(words);
    const letters = new Set<string>();
    for (const [word] of words) for (const ch of word) letters.add(ch);
    this.alphabet = [...letters].filter((ch) => /\p{L}/u.test(ch)).sort();
    this.longest = words.reduce((max, [word]) => Math.max(max, Array.from(word).length), 0);
  }

  get size(): number {
    return this.counts.size;
  }

  /** The word itself when known, short or not a plain run of letters; else its best known neighbour or itself. */
  correct(word: string): string {
    if (this.counts.has(word) || !/^\p{L}+$/u.test(word)) return word;
    const chars = Array.from(word);
    // The edit search is quadratic in the word's length: a 20,000-letter "word" took minutes.
    if (chars.length < MIN_CORRECTED_LENGTH || chars.length > this.longest + 1) return word;
    let best = word;
    let bestCount = 0;
    const consider = (candidate: string) => {
      const count = this.counts.get(candidate);
      // Ties go to the alphabetically first word, so the choice never depends on the order tried.
      if (count !== undefined && (count > bestCount || (count === bestCount && candidate < best))) {
        best = candidate;
        bestCount = count;
      }
    };
    for (let i = 0; i <= chars.length; i++) {
      const head = chars.slice(0, i).join('');
      const tail = chars.slice(i).join('');
      if (i < chars.length) consider(head + chars.slice(i + 1).join('')); // drop
      if (i + 1 < chars.length) consider(head + chars[i + 1] + chars[i] + chars.slice(i + 2).join('')); // swap
      for (const ch of this.alphabet) {
        consider(head + ch + tail); // insert
        if (i < chars.length) consider(head + ch + chars.slice(i + 1).join('')); // change
      }
    }
    return best;
  }
}

/** Known words and counts from training texts, for the tokenizer file: words seen at least `minCount` times. */
export function countWords(words: Iterable<string>, minCount = 2): [string, number][] {
  const counts = new Map<string, number>();
  for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  return [...counts].filter(([, n]) => n >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}
