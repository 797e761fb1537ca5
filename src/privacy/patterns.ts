/**
 * Regular-expression pieces shared by the recognisers. Every quantifier that a match attempt may
 * retry from many positions is bounded, so scanning stays linear in the length of the text.
 * Sources are written for the `u` and `i` flags.
 */

// ---- Case

/** A case-insensitive source for a word, for regular expressions that must keep case elsewhere (or run without `i`). */
const anyCase = (word: string): string =>
  word.replace(/\p{L}/gu, (c) => (c.toLowerCase() === c.toUpperCase() ? c : `[${c.toLowerCase()}${c.toUpperCase()}]`));
export const anyCaseList = (list: string): string => list.split(' ').map(anyCase).join('|');

// ---- Keywords

// Letters and digits as far as the keyword scan is concerned (it runs without the `u` flag: fast).
const KEYWORD_EDGE = 'A-Za-z0-9\\u00c0-\\u024f';
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/**
 * One regular expression matching any of `words` (lower case) as a whole word, any case. Written
 * as a trie ("pa(?:ss(?:word|code)|yee)") so that each position costs one character test, not
 * one per word.
 */
export function keywordPattern(words: Iterable<string>): RegExp {
  return new RegExp(`\\b${trieSource(words, true)}`, 'gi');
}

/** The trie of `words` as a regular-expression source, with word-end checks or without. */
export function trieSource(words: Iterable<string>, wordEnds: boolean): string {
  interface Node {
    end: boolean;
    next: Map<string, Node>;
  }
  const root: Node = { end: false, next: new Map() };
  for (const word of words) {
    let node = root;
    for (const char of word) {
      if (!node.next.has(char)) node.next.set(char, { end: false, next: new Map() });
      node = node.next.get(char)!;
    }
    node.end = true;
  }
  // Word edges with \b where the edge character is ASCII (cheap to scan for), else a look-ahead.
  const end = (last: string): string => (!wordEnds ? '' : /\w/.test(last) ? '\\b' : `(?![${KEYWORD_EDGE}])`);
  const source = (node: Node, last: string): string => {
    const branches = [...node.next.entries()].map(([char, child]) => (char === ' ' ? '[ \\t]+' : escapeRegExp(char)) + source(child, char));
    if (node.end) branches.push(end(last));
    return branches.length === 1 ? branches[0]! : `(?:${branches.join('|')})`;
  };
  return source(root, '');
}

// ---- Numbers written as words (English, German, French, Spanish, Italian, Dutch).

const UNIT_WORDS = [
  'zero',
  'oh',
  'nought',
  'nil',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'null',
  'eins',
  'zwei',
  'drei',
  'vier',
  'fünf',
  'funf',
  'sechs',
  'sieben',
  'acht',
  'neun',
  'zéro',
  'un',
  'une',
  'deux',
  'trois',
  'quatre',
  'cinq',
  'sept',
  'huit',
  'neuf',
  'cero',
  'uno',
  'dos',
  'tres',
  'cuatro',
  'cinco',
  'seis',
  'siete',
  'ocho',
  'nueve',
  'due',
  'tre',
  'quattro',
  'cinque',
  'sei',
  'sette',
  'otto',
  'nove',
  'nul',
  'een',
  'twee',
  'vijf',
  'zes',
  'zeven',
  'negen',
];
const TEEN_WORDS = ['ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS_WORDS = ['twenty', 'thirty', 'forty', 'fourty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALE_WORDS = ['hundred', 'thousand'];
const REPEAT_WORDS = ['double', 'triple', 'treble'];

const DIGIT_OF: Record<string, string> = {};
for (const [i, w] of ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'].entries()) DIGIT_OF[w] = String(i);
for (const [w, d] of Object.entries({
  oh: 0,
  nought: 0,
  nil: 0,
  null: 0,
  nul: 0,
  zéro: 0,
  cero: 0,
  un: 1,
  une: 1,
  uno: 1,
  eins: 1,
  een: 1,
}))
  DIGIT_OF[w] = String(d);
for (const [w, d] of Object.entries({ zwei: 2, deux: 2, dos: 2, due: 2, twee: 2, drei: 3, trois: 3, tres: 3, tre: 3 }))
  DIGIT_OF[w] = String(d);
for (const [w, d] of Object.entries({ vier: 4, quatre: 4, cuatro: 4, quattro: 4, fünf: 5, funf: 5, cinq: 5, cinco: 5, cinque: 5, vijf: 5 }))
  DIGIT_OF[w] = String(d);
for (const [w, d] of Object.entries({ sechs: 6, seis: 6, sei: 6, zes: 6, sieben: 7, sept: 7, siete: 7, sette: 7, zeven: 7 }))
  DIGIT_OF[w] = String(d);
for (const [w, d] of Object.entries({ acht: 8, huit: 8, ocho: 8, otto: 8, neun: 9, neuf: 9, nueve: 9, nove: 9, negen: 9 }))
  DIGIT_OF[w] = String(d);
for (const [i, w] of TEEN_WORDS.entries()) DIGIT_OF[w] = String(10 + i);
Object.assign(DIGIT_OF, {
  twenty: '20',
  thirty: '30',
  forty: '40',
  fourty: '40',
  fifty: '50',
  sixty: '60',
  seventy: '70',
  eighty: '80',
  ninety: '90',
});

/** Every number word. */
export const NUMBER_WORD_LIST: readonly string[] = [...TENS_WORDS, ...TEEN_WORDS, ...UNIT_WORDS, ...SCALE_WORDS, ...REPEAT_WORDS];

/** One number word, not part of a longer word. */
export const NUMBER_WORD = `(?:${[...TENS_WORDS, ...TEEN_WORDS, ...UNIT_WORDS, ...SCALE_WORDS, ...REPEAT_WORDS]
  .sort((a, b) => b.length - a.length)
  .join('|')})(?![\\p{L}])`;
/** Between spoken digits: spaces, a comma, dash or slash, or "and". */
export const NUMBER_SEPARATOR = String.raw`(?:[ \t]*[,/-][ \t]*|[ \t]{1,4}(?:and[ \t]{1,4})?)`;
/** A run of digits and number words: "four five three two", "oh seven seven double oh 9". */
export const NUMBER_WORD_RUN = (min: number, max: number): string =>
  `(?:${NUMBER_WORD}|\\d{1,4})(?:${NUMBER_SEPARATOR}(?:${NUMBER_WORD}|\\d{1,4})){${min - 1},${max - 1}}`;

/** The digits a run of number words spells ("forty two" → "42", "double five" → "55"); approximate for scales. */
export function spokenDigits(run: string): string {
  let out = '';
  let repeat = 1;
  let pendingTens = '';
  for (const token of run.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (!token || token === 'and') continue;
    if (REPEAT_WORDS.includes(token)) {
      repeat = token === 'double' ? 2 : 3;
      continue;
    }
    let piece: string;
    if (/^\d+$/.test(token)) piece = token;
    else if (token === 'hundred') piece = '00';
    else if (token === 'thousand') piece = '000';
    else piece = DIGIT_OF[token] ?? '';
    if (pendingTens && piece.length === 1 && piece !== '0') {
      out += pendingTens[0] + piece;
      pendingTens = '';
      continue;
    }
    out += pendingTens;
    pendingTens = '';
    if (TENS_WORDS.includes(token)) pendingTens = piece;
    else out += piece.repeat(repeat);
    repeat = 1;
  }
  return out + pendingTens;
}

// ---- Dates, for dates of birth and card expiry (the default number rule keeps dates).

const MONTH_NAME = String.raw`(?:jan(?:uary|vier|uar|uari)?|feb(?:ruary|ruar|ruari|brero|braio)?|f[ée]v(?:rier)?|mar(?:ch|s|zo|t)?|m[äa]rz|maart|apr(?:il|ile)?|avr(?:il)?|abr(?:il)?|may|mai|mei|mayo|maggio|jun(?:e|i|io)?|juin|giugno|jul(?:y|i|io)?|juil(?:let)?|luglio|aug(?:ust|ustus)?|ao[uû]t|ago(?:sto)?|sep(?:t(?:ember|embre)?)?|sett(?:embre)?|oct(?:ober|obre|ubre)?|okt(?:ober)?|ott(?:obre)?|nov(?:ember|embre)?|dec(?:ember|embre)?|dez(?:ember)?|d[ée]c(?:embre)?|dic(?:iembre|embre)?|ene(?:ro)?|genn(?:aio)?)\.?(?![\p{L}])`;
const ORDINAL_DAY = String.raw`(?:[0-3]?\d)(?:st|nd|rd|th|er|e|º|\.)?`;
const YEAR_LONG = String.raw`(?:1[89]|20)\d\d`;
const YEAR_ANY = String.raw`(?:${YEAR_LONG}|'?\d\d)`;
/** Numeric dates with any separator, day-first, month-first or year-first. */
export const DATE_NUMERIC = String.raw`(?:\d{1,2}[ \t]?[./-][ \t]?\d{1,2}[ \t]?[./-][ \t]?(?:\d{4}|\d{2})|\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2} \d{1,2} \d{4}|[0-3]\d[01]\d(?:1[89]|20)\d\d)(?!\d)`;
/** "3rd March 1985", "the 3rd of March, 1985", "March 3rd, 1985", "3 de marzo de 1985", "March 1985". */
export const DATE_TEXT = String.raw`(?:(?:the[ \t]+)?${ORDINAL_DAY}(?:[ \t]+(?:of|de))?[ \t]+${MONTH_NAME}(?:,?[ \t]+(?:de[ \t]+|del[ \t]+)?${YEAR_ANY})?|${MONTH_NAME}[ \t]+(?:the[ \t]+)?${ORDINAL_DAY}(?:,?[ \t]+${YEAR_ANY})?|${MONTH_NAME},?[ \t]+${YEAR_LONG})(?![\p{L}\p{N}])`;
/** Any date of birth: numeric, written, or a year alone ("born in 1985"). */
export const DATE_ANY = String.raw`(?:${DATE_TEXT}|${DATE_NUMERIC}|${YEAR_LONG}(?!\d))`;
/** Card expiry: 05/27, 05-2027, 0527, May 2027, May '27. */
export const EXPIRY = String.raw`(?:(?:0?[1-9]|1[0-2])[ \t]?[/.-][ \t]?(?:20)?\d\d(?![/.-]?\d)|(?:0[1-9]|1[0-2])[ \t]?\d\d(?!\d)|${MONTH_NAME}[ \t]+(?:${YEAR_LONG}|'?\d\d)(?!\d))`;
