/**
 * The text recognisers read: what a person sees, with the tricks that hide data from a pattern
 * undone. Masking then replaces the matching spans of the *original* text, so everything outside
 * a masked span stays byte-identical.
 *
 * - Unicode NFKC, code point by code point (fullwidth, mathematical, circled and superscript
 *   forms become plain ones);
 * - invisible characters dropped: zero-width spaces and joiners, soft hyphen, bidi controls,
 *   variation selectors (Default_Ignorable_Code_Point), other control and format characters,
 *   and combining marks (a strike-through mark on each digit must not split a number);
 * - digits of any script (\p{Nd}) read as 0-9; every space separator as ' ', every dash and the
 *   minus sign as '-', fraction and division slashes as '/';
 * - Cyrillic and Greek look-alikes of Latin letters read as Latin inside a word that also holds
 *   Latin letters or digits ("раssword" with Cyrillic а and р);
 * - O/o read as 0 and I/l/| as 1 inside a token that is otherwise digits ("4532 O151").
 *
 * Combining marks are not composed with the letter before them: "Jose\u0301" reads "Jose".
 *
 * Only characters that may change are looked at one by one: printable ASCII and the letters of
 * common scripts (Latin, Greek, Cyrillic, Hebrew, Arabic, CJK, Hangul), which NFKC leaves alone,
 * are copied in bulk. The offsets are kept as a list of segments, not one entry per character.
 */

/** Where the normalised text came from, in segments: each is one to one, or many to many. */
export interface NormalisedText {
  /** The text the recognisers match against. */
  text: string;
  /** Start of each segment in the normalised text, ascending; empty when the text is unchanged. */
  segmentStarts: number[];
  /** Start of each segment in the original text. */
  originalStarts: number[];
  /** End of each segment in the original text, or -1 for a one-to-one segment. */
  originalEnds: number[];
}

/** Maps a span of the normalised text back to the original text it was read from. */
export function originalSpan(norm: NormalisedText, start: number, end: number): [number, number] {
  if (norm.segmentStarts.length === 0) return [start, end];
  const first = segmentOf(norm, start);
  const last = segmentOf(norm, end - 1);
  const from =
    norm.originalEnds[first] === -1 ? norm.originalStarts[first]! + (start - norm.segmentStarts[first]!) : norm.originalStarts[first]!;
  const to =
    norm.originalEnds[last] === -1 ? norm.originalStarts[last]! + (end - 1 - norm.segmentStarts[last]!) + 1 : norm.originalEnds[last]!;
  return [from, to];
}

function segmentOf(norm: NormalisedText, offset: number): number {
  let low = 0;
  let high = norm.segmentStarts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (norm.segmentStarts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return low;
}

// Characters that may need work: anything but printable ASCII (with tab and line breaks) and the
// letters of common scripts, which NFKC keeps and which hide nothing. A table, not a regular
// expression: a character class of many ranges is slow to scan with.
const SAFE_RANGES: [number, number][] = [
  [0x09, 0x0a],
  [0x0d, 0x0d],
  [0x20, 0x7e],
  [0xc0, 0xd6],
  [0xd8, 0xf6],
  [0xf8, 0x131],
  [0x134, 0x13e],
  [0x141, 0x148],
  [0x14a, 0x17e],
  [0x386, 0x386],
  [0x388, 0x3ce],
  [0x400, 0x4ff],
  [0x5d0, 0x5ea],
  [0x621, 0x63a],
  [0x641, 0x64a],
  [0x3041, 0x3096],
  [0x30a1, 0x30fa],
  [0x4e00, 0x9fff],
  [0xac00, 0xd7a3],
];
const NEEDS_WORK = new Uint8Array(0x10000).fill(1);
for (const [from, to] of SAFE_RANGES) NEEDS_WORK.fill(0, from, to + 1);

const NOT_PLAIN_ASCII = /[^\t\n\r\x20-\x7e]/;

/** The offset of the next character at or after `from` that needs work, or the text's length. */
function nextToWorkOn(text: string, from: number): number {
  for (let i = from; i < text.length; i++) if (NEEDS_WORK[text.charCodeAt(i)]) return i;
  return text.length;
}
const DROP = /[\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Mn}\p{Me}]/u;
const ND = /\p{Nd}/u;

/** Cyrillic and Greek letters drawn like Latin ones. One to one, so offsets do not move. */
const CONFUSABLES: Record<string, string> = {
  а: 'a',
  е: 'e',
  о: 'o',
  р: 'p',
  с: 'c',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  һ: 'h',
  ӏ: 'l',
  ԛ: 'q',
  ԝ: 'w',
  А: 'A',
  В: 'B',
  Е: 'E',
  К: 'K',
  М: 'M',
  Н: 'H',
  О: 'O',
  Р: 'P',
  С: 'C',
  Т: 'T',
  У: 'Y',
  Х: 'X',
  І: 'I',
  Ј: 'J',
  Ѕ: 'S',
  α: 'a',
  ο: 'o',
  ρ: 'p',
  ν: 'v',
  τ: 't',
  ι: 'i',
  κ: 'k',
  υ: 'u',
  Α: 'A',
  Β: 'B',
  Ε: 'E',
  Ζ: 'Z',
  Η: 'H',
  Ι: 'I',
  Κ: 'K',
  Μ: 'M',
  Ν: 'N',
  Ο: 'O',
  Ρ: 'P',
  Τ: 'T',
  Υ: 'Y',
  Χ: 'X',
};
const GREEK_OR_CYRILLIC = /[\u0370-\u052f]/;
// A Greek or Cyrillic letter; its word is mapped if it also holds Latin letters or digits.
const MIXED_SCRIPT = /[\u0370-\u052f]/g;
const isAsciiAlnum = (code: number): boolean => (code >= 48 && code <= 57) || ((code | 32) >= 97 && (code | 32) <= 122);
const isWordChar = (code: number): boolean => isAsciiAlnum(code) || (code >= 0x370 && code <= 0x52f);

// A digit next to O/o/I/l/|, found first; then the whole token is checked.
const DIGIT_LOOKALIKE = /\d[OoIl|]|[OoIl|]\d/g;
const isLookalikeTokenChar = (code: number): boolean =>
  (code >= 48 && code <= 57) || code === 79 || code === 111 || code === 73 || code === 108 || code === 124;
const ALNUM = /[\p{L}\p{N}]/u;

export function normalise(original: string): NormalisedText {
  // Most texts are plain ASCII: one quick regular-expression test says so.
  const norm: NormalisedText =
    NOT_PLAIN_ASCII.test(original) && nextToWorkOn(original, 0) < original.length
      ? normaliseSlow(original)
      : { text: original, segmentStarts: [], originalStarts: [], originalEnds: [] };
  if (GREEK_OR_CYRILLIC.test(norm.text)) norm.text = replaceInTokens(norm.text, MIXED_SCRIPT, isWordChar, mapConfusables);
  DIGIT_LOOKALIKE.lastIndex = 0;
  if (DIGIT_LOOKALIKE.test(norm.text)) norm.text = replaceInTokens(norm.text, DIGIT_LOOKALIKE, isLookalikeTokenChar, mapDigitLookalikes);
  return norm;
}

/**
 * For each place `anchor` matches, takes the token around it (characters `inToken`) and replaces
 * it by `map(token)`, which must keep its length. Tokens are replaced once.
 */
function replaceInTokens(
  text: string,
  anchor: RegExp,
  inToken: (code: number) => boolean,
  map: (text: string, start: number, end: number) => string | null,
): string {
  const parts: string[] = [];
  let copied = 0; // text before this is in parts
  let seen = 0; // tokens before this were looked at
  anchor.lastIndex = 0;
  for (let hit = anchor.exec(text); hit; hit = anchor.exec(text)) {
    let start = hit.index;
    let end = hit.index + hit[0].length;
    if (start < seen) continue;
    while (start > seen && inToken(text.charCodeAt(start - 1))) start--;
    while (end < text.length && inToken(text.charCodeAt(end))) end++;
    const mapped = map(text, start, end);
    if (mapped !== null) {
      parts.push(text.slice(copied, start), mapped);
      copied = end;
    }
    seen = end;
    anchor.lastIndex = end;
  }
  if (copied === 0) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}

/** The token text[start, end) with its Greek and Cyrillic look-alikes read as Latin, if it holds Latin letters or digits. */
function mapConfusables(text: string, start: number, end: number): string | null {
  let latin = false;
  for (let i = start; i < end && !latin; i++) latin = isAsciiAlnum(text.charCodeAt(i));
  if (!latin) return null;
  let out = '';
  for (const char of text.slice(start, end)) out += CONFUSABLES[char] ?? char;
  return out;
}

/** "O151" → "0151" when the token is digits and look-alikes only, with at least two real digits. */
function mapDigitLookalikes(text: string, start: number, end: number): string | null {
  if ((start > 0 && ALNUM.test(text[start - 1]!)) || (end < text.length && ALNUM.test(text[end]!))) return null;
  const token = text.slice(start, end);
  if ((token.match(/\d/g)?.length ?? 0) < 2 || !/[OoIl|]/.test(token)) return null;
  return token.replace(/[Oo]/g, '0').replace(/[Il|]/g, '1');
}

// NFKC of one BMP code point, cached: long non-Latin texts repeat few distinct characters.
const bmpCache: (string | undefined)[] = [];

function normaliseCodePoint(char: string, code: number): string {
  if (code < 0x10000) {
    const cached = bmpCache[code];
    if (cached !== undefined) return cached;
  }
  let out = '';
  if (!DROP.test(char)) {
    for (const c of char.normalize('NFKC')) out += mapChar(c);
  }
  if (code < 0x10000) bmpCache[code] = out;
  return out;
}

function mapChar(c: string): string {
  if (c.length === 1 && c.charCodeAt(0) < 0x80) return c;
  if (DROP.test(c)) return '';
  if (ND.test(c)) return String(digitValue(c.codePointAt(0)!));
  if (/[\p{Zs}]/u.test(c)) return ' ';
  if (/[\p{Zl}\p{Zp}]/u.test(c)) return '\n';
  if (/[\p{Pd}\u2212]/u.test(c)) return '-';
  if (c === '\u2044' || c === '\u2215') return '/';
  return c;
}

/**
 * Unicode puts each script's digits 0-9 on consecutive code points, in blocks of ten that may
 * follow each other (mathematical digits): count back to the first digit of the run.
 */
function digitValue(code: number): number {
  let first = code;
  while (first > 0 && ND.test(String.fromCodePoint(first - 1))) first--;
  return (code - first) % 10;
}

const UTF16 = new TextDecoder('utf-16le');

/** Where the normalised text is written: pieces joined at the end, or one buffer of code units. */
interface Sink {
  /** Appends text[from, to). */
  add(text: string, from: number, to: number): void;
  finish(): string;
}

/** For texts with few characters to change: slices, joined once. */
function sliceSink(): Sink {
  const parts: string[] = [];
  return {
    add: (text, from, to) => void parts.push(from === 0 && to === text.length ? text : text.slice(from, to)),
    finish: () => parts.join(''),
  };
}

/** For texts with many: UTF-16 code units in one buffer, decoded once (no garbage per character). */
function bufferSink(size: number): Sink {
  let buffer = new Uint16Array(size + 64);
  let length = 0;
  return {
    add(text, from, to) {
      if (length + (to - from) > buffer.length) {
        const grown = new Uint16Array(Math.max(buffer.length * 2, length + (to - from)));
        grown.set(buffer);
        buffer = grown;
      }
      for (let i = from; i < to; i++) buffer[length++] = text.charCodeAt(i);
    },
    finish: () => UTF16.decode(buffer.subarray(0, length)),
  };
}

/** Whether more than 1 in 64 of the first 64 Ki characters needs work. */
function dense(text: string): boolean {
  const end = Math.min(text.length, 65_536);
  let count = 0;
  for (let i = 0; i < end; i++) count += NEEDS_WORK[text.charCodeAt(i)]!;
  return count * 64 > end;
}

function normaliseSlow(original: string): NormalisedText {
  const sink = dense(original) ? bufferSink(original.length) : sliceSink();
  let length = 0; // of the normalised text so far
  const append = (piece: string, from = 0, to = piece.length): void => {
    sink.add(piece, from, to);
    length += to - from;
  };
  const segmentStarts: number[] = [];
  const originalStarts: number[] = [];
  const originalEnds: number[] = [];
  let done = 0; // of the original text copied or replaced so far

  /**
   * Appends original[from, to), or `replacement` of the same length ("٤" read as "4"), one to
   * one, joining the previous one-to-one segment.
   */
  const copy = (from: number, to: number, replacement?: string): void => {
    if (from === to) return;
    const last = segmentStarts.length - 1;
    const joins = last >= 0 && originalEnds[last] === -1 && originalStarts[last]! + (length - segmentStarts[last]!) === from;
    if (!joins) {
      segmentStarts.push(length);
      originalStarts.push(from);
      originalEnds.push(-1);
    }
    if (replacement === undefined) append(original, from, to);
    else append(replacement);
  };

  for (let at = nextToWorkOn(original, 0); at < original.length; at = nextToWorkOn(original, done)) {
    const code = original.codePointAt(at)!;
    const char = code < 0x10000 ? original[at]! : String.fromCodePoint(code);
    copy(done, at);
    const piece = code < 0x20 || code === 0x7f ? '' : normaliseCodePoint(char, code);
    if (piece.length === char.length) copy(at, at + char.length, piece);
    else if (piece) {
      segmentStarts.push(length);
      originalStarts.push(at);
      originalEnds.push(at + char.length);
      append(piece);
    }
    done = at + char.length;
  }
  copy(done, original.length);
  if (segmentStarts.length === 0) {
    // Everything was dropped: keep one segment so that offsets still map.
    segmentStarts.push(0);
    originalStarts.push(0);
    originalEnds.push(original.length);
  }
  return { text: sink.finish(), segmentStarts, originalStarts, originalEnds };
}
