/**
 * One pass over the normalised text that the recognisers share, because on a long text each
 * scan of it is what costs: where the runs of digits are, and where the recognisers' keywords
 * are. A recogniser then works from these places instead of scanning the whole text again.
 */
import { keywordPattern } from './patterns';

export interface KeywordHit {
  /** Where the keyword starts in the text. */
  index: number;
  /** The keyword as its owner listed it (lower case, single spaces). */
  keyword: string;
}

export interface TextScan {
  readonly text: string;
  /** Start and end of each run of the digits 0-9, in text order: run i is [runs[2i], runs[2i + 1]). */
  readonly digitRuns: Int32Array;
  readonly digitRunCount: number;
  /**
   * The runs with a letter just before them (or one or two of " \t.-" and then a letter), and
   * those with a letter just after (or one of those and a letter), by run number, in text
   * order: the few places most identifiers can be ("GB82", "AB 12", "12345678Z", "4AB").
   */
  readonly letterBefore: Int32Array;
  readonly letterBeforeCount: number;
  readonly letterAfter: Int32Array;
  readonly letterAfterCount: number;
  /** The hits of the keywords `owner` registered, in text order. */
  hits(owner: string): readonly KeywordHit[];
}

/** Every recogniser's keywords, found in one scan by one regular expression (a trie). */
export class KeywordIndex {
  private readonly owners = new Map<string, string[]>();
  private readonly pattern: RegExp | null;

  constructor(lists: readonly { owner: string; keywords: readonly string[] }[]) {
    for (const { owner, keywords } of lists) {
      for (const keyword of keywords) {
        const key = keyword.toLowerCase();
        const owners = this.owners.get(key) ?? [];
        if (!owners.includes(owner)) owners.push(owner);
        this.owners.set(key, owners);
      }
    }
    this.pattern = this.owners.size ? keywordPattern(this.owners.keys()) : null;
  }

  /** Hits per owner. A hit on "card verification" is also one on "card" for whoever listed that. */
  find(text: string): Map<string, KeywordHit[]> {
    const hits = new Map<string, KeywordHit[]>();
    if (!this.pattern) return hits;
    const pattern = this.pattern;
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
      const matched = match[0].toLowerCase();
      if (!/[ \t]/.test(matched)) {
        this.deliver(hits, matched, match.index);
        continue;
      }
      const words = matched.split(/[ \t]+/);
      for (let n = 1; n <= words.length; n++) this.deliver(hits, words.slice(0, n).join(' '), match.index);
    }
    return hits;
  }

  private deliver(hits: Map<string, KeywordHit[]>, keyword: string, index: number): void {
    for (const owner of this.owners.get(keyword) ?? []) {
      let list = hits.get(owner);
      if (!list) hits.set(owner, (list = []));
      list.push({ index, keyword });
    }
  }
}

/** The runs with a letter before or after them, in text order, each once. */
export function* runsNextToLetters(scan: TextScan): Generator<number> {
  let a = 0;
  let b = 0;
  while (a < scan.letterBeforeCount || b < scan.letterAfterCount) {
    const x = a < scan.letterBeforeCount ? scan.letterBefore[a]! : Infinity;
    const y = b < scan.letterAfterCount ? scan.letterAfter[b]! : Infinity;
    if (x <= y) a++;
    if (y <= x) b++;
    yield Math.min(x, y);
  }
}

const isLetter = (code: number): boolean => ((code | 32) >= 97 && (code | 32) <= 122) || code >= 0xc0;
const isJoiner = (code: number): boolean => code === 32 || code === 9 || code === 46 || code === 45;

/** A growable list of run numbers. */
class RunList {
  items = new Int32Array(256);
  count = 0;
  push(run: number): void {
    if (this.count === this.items.length) {
      const grown = new Int32Array(this.items.length * 2);
      grown.set(this.items);
      this.items = grown;
    }
    this.items[this.count++] = run;
  }
}

export function scanText(text: string, keywords: KeywordIndex): TextScan {
  // A plain loop, not a regular expression: a text of many short numbers would otherwise leave
  // one match object per number for the garbage collector.
  let runs = new Int32Array(1024);
  let count = 0;
  const before = new RunList();
  const after = new RunList();
  const length = text.length;
  for (let i = 0; i < length; i++) {
    let code = text.charCodeAt(i);
    if (code < 48 || code > 57) continue;
    const start = i;
    do code = ++i < length ? text.charCodeAt(i) : 0;
    while (code >= 48 && code <= 57);
    if (2 * count + 2 > runs.length) {
      const grown = new Int32Array(runs.length * 2);
      grown.set(runs);
      runs = grown;
    }
    runs[2 * count] = start;
    runs[2 * count + 1] = i;
    const before1 = start > 0 ? text.charCodeAt(start - 1) : 0;
    if (
      isLetter(before1) ||
      (isJoiner(before1) &&
        start > 1 &&
        (isLetter(text.charCodeAt(start - 2)) ||
          (isJoiner(text.charCodeAt(start - 2)) && start > 2 && isLetter(text.charCodeAt(start - 3)))))
    ) {
      before.push(count);
    }
    if (isLetter(code) || (isJoiner(code) && i + 1 < length && isLetter(text.charCodeAt(i + 1)))) after.push(count);
    count++;
  }
  const hits = keywords.find(text);
  return {
    text,
    digitRuns: runs,
    digitRunCount: count,
    letterBefore: before.items,
    letterBeforeCount: before.count,
    letterAfter: after.items,
    letterAfterCount: after.count,
    hits: (owner) => hits.get(owner) ?? [],
  };
}
