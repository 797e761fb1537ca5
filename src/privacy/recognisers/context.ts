/**
 * Context rules: secrets that only their neighbour words give away ("my PIN is 4821", "hunter2 is
 * my password", "born on 3rd March 1985"). A rule names trigger words, what may stand between
 * them and the value (a connector such as "is", ":" or "number"), and the value's shape.
 *
 * All rules of all modules share one scan for their keywords (a plain, case-insensitive
 * alternation of words: fast); at each keyword the rules listing it try their trigger, then their
 * value once after it (a sticky match) and, where allowed, once in the 64 characters before it.
 * The work per keyword is bounded, so the whole scan stays linear.
 */
import type { TextScan } from '../scan';
import type { Finding, Recogniser } from '../types';

export interface ContextMatch {
  /** The whole text being scanned. */
  text: string;
  /** The value's span in `text`. */
  start: number;
  end: number;
  /** What stood between trigger and value ("is", ": ", "number is"); empty before a trigger. */
  connector: string;
  /** True when other words stood between trigger and value ("pin letter said 7084"). */
  gapped: boolean;
  /** The trigger as written, and where it starts. */
  trigger: string;
  triggerStart: number;
  /** Whether the value came after the trigger (true) or before it (false). */
  after: boolean;
}

export interface ContextRule {
  category: string;
  /**
   * The words every trigger starts with, as written ("pin", "i'm", "a/c", "date of"): a fast scan
   * finds them, then `trigger` is tried where they are. A trigger starting with any other word
   * never fires.
   */
  keywords: readonly string[];
  /** Trigger words, a regular-expression source matched case-insensitively, starting at a keyword. */
  trigger: string;
  /** The value's shape after the trigger (source). */
  value?: string;
  /** Matches value and connector with case (`\p{Lu}` only means upper case then); default false. */
  caseSensitive?: boolean;
  /** What may stand between trigger and value (source); defaults to `CONNECTOR`. */
  connector?: string;
  /**
   * Up to this many other words (without digits or currency signs) may stand between trigger and
   * value when the connector alone finds none: "the pin letter said 7084". Default 0.
   */
  gap?: number;
  /** The value's shape after a gap, when stricter than `value` (a password must then look like one). */
  gapValue?: string;
  /** Tried after the other rules sharing its keyword (a bare "card"). */
  fallback?: boolean;
  /** After a value, look for this many more joined by "or", "and", a comma ("2873 or 6590"). */
  repeat?: number;
  /** The value's shape before the trigger, up to it (source, group `v` is the value), e.g. "(?<v>\d{4}) is my ". */
  before?: string;
  /** A quick test the 64 characters before the trigger must pass before `before` is tried (/\d/). */
  beforeHint?: RegExp;
  /**
   * Accepts a value, and may move its end (a value read to the end of a clause). Returns the
   * span to mask, or null to reject. Defaults to accepting the value as matched.
   */
  accept?(match: ContextMatch): [number, number] | null;
}

const WORD_END = String.raw`(?![\p{L}\p{N}])`;
/** Words and marks that may stand between a trigger and its value. */
export const CONNECTOR = String.raw`(?:[ \t]{0,4}(?:[:=#>]+|-+|\(|['’]s${WORD_END}|(?:is|was|are|were|be|it's|its|of|to|number|no\.?|nr\.?|num|code|my|the|now|just|still|changed|set|should be|will be|would be|currently|actually|on|for|card|new|old|current|reads|says|being|simply)${WORD_END})){0,5}[ \t]{0,4}`;
/** Up to `n` words that hold no digit or currency sign, shortest first. */
const gapWords = (n: number): string => String.raw`[ \t,:;?!()-]{0,4}(?:[^\s\d\p{Sc}]{1,24}[ \t,:;?!()-]{1,4}){0,${n}}?`;
const BEFORE_WINDOW = 64;

export function contextRecogniser(name: string, allRules: readonly ContextRule[]): Recogniser {
  const rules = [...allRules.filter((rule) => !rule.fallback), ...allRules.filter((rule) => rule.fallback)];
  // The shared scan finds every keyword; only the rules listing it then try their trigger there.
  const byKeyword = new Map<string, number[]>();
  for (const [i, rule] of rules.entries()) {
    for (const keyword of rule.keywords) {
      const key = keyword.toLowerCase();
      byKeyword.set(key, [...(byKeyword.get(key) ?? []), i]);
    }
  }
  const triggers = rules.map((rule) => new RegExp(String.raw`(?:${rule.trigger})(?![\p{L}\p{N}])`, 'iuy'));
  const compile = (connector: string, value: string, rule: ContextRule): RegExp =>
    new RegExp(`(${connector})(${value})`, rule.caseSensitive ? 'uy' : 'iuy');
  const afterPatterns = rules.map((rule) => (rule.value === undefined ? null : compile(rule.connector ?? CONNECTOR, rule.value, rule)));
  const gapPatterns = rules.map((rule) =>
    rule.value === undefined || !rule.gap ? null : compile(gapWords(rule.gap), rule.gapValue ?? rule.value, rule),
  );
  // A before-pattern starts with its value (group v) and ends at the trigger.
  const beforePatterns = rules.map((rule) =>
    rule.before === undefined ? null : new RegExp(`${rule.before}$`, rule.caseSensitive ? 'u' : 'iu'),
  );

  return {
    name,
    keywords: [...byKeyword.keys()],
    find(text: string, out: Finding[], scan: TextScan): void {
      for (const hit of scan.hits(name)) {
        for (const index of byKeyword.get(hit.keyword) ?? []) {
          const trigger = triggers[index]!;
          trigger.lastIndex = hit.index;
          const match = trigger.exec(text);
          if (match) applyRule(text, index, match[0], hit.index, out);
        }
      }
    },
  };

  function applyRule(text: string, index: number, trigger: string, triggerStart: number, out: Finding[]): void {
    const rule = rules[index]!;
    const triggerEnd = triggerStart + trigger.length;
    let span = tryAfter(text, index, afterPatterns[index]!, triggerEnd, false, trigger, triggerStart, out);
    span ??= tryAfter(text, index, gapPatterns[index]!, triggerEnd, true, trigger, triggerStart, out);
    for (let more = rule.repeat ?? 0; span && more > 0; more--) {
      span = tryAfter(text, index, gapPatterns[index]!, span[1], true, trigger, triggerStart, out);
    }
    const beforePattern = beforePatterns[index];
    const windowStart = Math.max(0, triggerStart - BEFORE_WINDOW);
    const window = beforePattern ? text.slice(windowStart, triggerStart) : '';
    // An end-anchored pattern is tried at every place in the window: first a cheap test.
    if (beforePattern && (!rule.beforeHint || rule.beforeHint.test(window))) {
      const found = beforePattern.exec(window);
      const value = found?.groups?.v;
      if (found && value) {
        const start = windowStart + found.index;
        accept(rule, { text, start, end: start + value.length, connector: '', gapped: false, trigger, triggerStart, after: false }, out);
      }
    }
  }

  /** Tries `pattern` (connector, then value) at `from`; returns the span accepted. */
  function tryAfter(
    text: string,
    index: number,
    pattern: RegExp | null,
    from: number,
    gapped: boolean,
    trigger: string,
    triggerStart: number,
    out: Finding[],
  ): [number, number] | null {
    if (!pattern) return null;
    pattern.lastIndex = from;
    const found = pattern.exec(text);
    if (!found) return null;
    const connector = found[1]!;
    const start = from + connector.length;
    const end = start + found[2]!.length;
    return accept(rules[index]!, { text, start, end, connector: connector.trim(), gapped, trigger, triggerStart, after: true }, out);
  }
}

function accept(rule: ContextRule, m: ContextMatch, out: Finding[]): [number, number] | null {
  if (m.end <= m.start) return null;
  const span = rule.accept ? rule.accept(m) : ([m.start, m.end] as [number, number]);
  if (!span || span[1] <= span[0]) return null;
  out.push({ start: span[0], end: span[1], category: rule.category });
  return span;
}

// ---- Helpers for rules.

/** Trims spaces and trailing punctuation (but not a closing quote's partner) off a span. */
export function trimSpan(text: string, start: number, end: number): [number, number] {
  while (start < end && /[\s"'“”‘’(]/.test(text[start]!)) start++;
  while (end > start && /[\s.,;:!?"'“”‘’)]/.test(text[end - 1]!)) end--;
  return [start, end];
}

/**
 * Extends a value over following words up to the end of its clause: a full stop, ! ? ; or a new
 * line, a conjunction or "please", at most `maxWords` more words. Used where a value may hold
 * spaces (an address, a security answer).
 */
export function extendToClauseEnd(text: string, end: number, maxWords: number, stop: (word: string) => boolean): number {
  let i = end;
  for (let words = 0; words < maxWords; words++) {
    const next = /^(,?[ \t]+)([^\s,.;!?]+)/u.exec(text.slice(i, i + 80));
    if (!next) break;
    const word = next[2]!;
    if (stop(word)) break;
    i += next[0].length;
  }
  return i;
}
