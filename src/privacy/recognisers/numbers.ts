/**
 * Digit sequences: cards (Luhn), phone numbers (libphonenumber-js), sort codes, US SSNs, and the
 * conservative default: any run of 6 or more digits, groups joined by spaces, dots, dashes,
 * slashes or underscores, that is not clearly an amount, a date, a time, a percentage or a
 * version is masked as `number`. Digits glued to letters ("AB123456C", "L01X00T47") mask the
 * whole token.
 *
 * One regular expression walks the text: at each position it first tries a look-alike (kept and
 * stepped over), then a digit sequence whose every group is checked not to start a look-alike,
 * so "12345678 2024-03-15" stops before the date.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { anyCaseList } from '../patterns';
import type { TextScan } from '../scan';
import type { Finding, Recogniser } from '../types';

// ---- Look-alikes: numbers that are not personal data and must stay readable for the classifier.

// The scan runs without the `i` flag and every alternative starts at a digit, a sign or a
// currency symbol, which keeps it fast; words before a number are read with look-behinds.
const CURRENCY_SYMBOL = String.raw`\p{Sc}`;
const CODES = 'EUR USD GBP CHF JPY CAD AUD NZD SEK NOK DKK PLN CZK HUF RON BGN TRY INR CNY HKD SGD ZAR MXN BRL AED RUB';
const CURRENCY_CODE = String.raw`(?:${anyCaseList(CODES)})(?![\p{L}])`;
const CURRENCY_WORD = String.raw`(?:${anyCaseList('euro euros pound pounds dollar dollars quid pence p cent cents bucks franc francs yen zloty zlotys złoty złotys zł zl kr kronor kroner krona rupee rupees sterling')})(?![\p{L}])`;
// 1,250.00 / 1.000,50 / 1 250,50 / 3400 / 12.5: thousands groups are bounded (see file note).
const AMOUNT_NUMBER = String.raw`(?:\d{1,3}(?:[,.' ]\d{3}){1,6}(?:[.,]\d{1,2})?|\d{1,12}(?:[.,]\d{1,2})?)(?:[ \t]?(?:${anyCaseList('k m bn million billion thousand')})(?![\p{L}]))?`;
const AMOUNT = String.raw`(?:[-+]?${CURRENCY_SYMBOL}[ \t]?${AMOUNT_NUMBER}|(?<=(?:${CURRENCY_CODE}|${CURRENCY_SYMBOL})[ \t]?)${AMOUNT_NUMBER}|${AMOUNT_NUMBER}[ \t]?(?:${CURRENCY_SYMBOL}|${CURRENCY_CODE}|${CURRENCY_WORD}))`;
const DAY = String.raw`(?:0?[1-9]|[12]\d|3[01])`;
const MONTH = String.raw`(?:0?[1-9]|1[0-2])`;
const YEAR = String.raw`(?:19|20)\d\d`;
// 2024-03-15, 15/03/2024, 03/15/24, 15.03.2024, 2024-03, 03/2024, one separator throughout. Day
// and month are range-checked so that sort codes such as 12-34-56 are not taken for dates.
const DATE = `(?:${['-', '.', '/']
  .map((sep) => {
    const s = `[${sep}]`;
    return String.raw`${YEAR}${s}${MONTH}(?:${s}${DAY})?|${DAY}${s}${MONTH}${s}(?:${YEAR}|\d\d)|${MONTH}${s}${DAY}${s}(?:${YEAR}|\d\d)|${MONTH}${s}${YEAR}`;
  })
  .join('|')})`;
// A range of two full dates ("01/03/2024-15/03/2024"). A date is otherwise not a look-alike next
// to a dash and a digit, so that "01-02-03-04-05" (a phone number) is not read as dates.
const FULL_DATE = `(?:${['-', '.', '/']
  .map((sep) => {
    const s = `[${sep}]`;
    return String.raw`${YEAR}${s}${MONTH}${s}${DAY}|${DAY}${s}${MONTH}${s}${YEAR}|${MONTH}${s}${DAY}${s}${YEAR}`;
  })
  .join('|')})`;
const DATE_RANGE = String.raw`${FULL_DATE}[ \t]?-[ \t]?${FULL_DATE}`;
const YEAR_RANGE = String.raw`${YEAR}[ \t]?[/-][ \t]?(?:${YEAR}|\d\d)`;
const TIME = String.raw`\d{1,2}(?::\d\d(?::\d\d)?|h\d\d)(?:[ \t]?[aApP]\.?[mM]\.?)?`;
const PERCENT = String.raw`\d{1,6}(?:[.,]\d{1,4})?[ \t]?(?:%|[pP]er[ \t]?[cC]ent)`;
const VERSION = String.raw`(?<=(?:[vV]|[vV]ersion[ \t]?|[vV]er\.?[ \t]?))\d{1,4}(?:\.\d{1,6}){1,4}`;
// A plain decimal with a short whole part: "3.14159", "rate 1.17245".
const DECIMAL = String.raw`(?<!\d-)\d{1,3}\.\d{1,6}`;
// A number with comma thousands reads as an amount even without a currency: "1,250", "1,250,000.50".
const THOUSANDS = String.raw`\d{1,3}(?:,\d{3}){1,6}(?:\.\d{1,2})?`;
const LOOKALIKE = String.raw`(?<!\d|\d[.,/:-])(?:${AMOUNT}|${DATE_RANGE}|${DATE}|${YEAR_RANGE}|${TIME}|${PERCENT}|${VERSION}|${DECIMAL}|${THOUSANDS})(?!\d|[.,/:-]\d)`;

// ---- Digit sequences.

// Groups joined by 1-4 spaces (optionally around one punctuation mark) or by one punctuation
// mark; "250. 100" (a full stop, then a space) is two numbers, not one. A group in parentheses
// may be followed directly by the next ("(0)20").
const JOIN = String.raw`(?:[ \t]{1,4}(?:[-./_·][ \t]{1,4})?|[-./_·]|(?<=\)))`;
const GROUP = String.raw`\(?\d+\)?`;
// Inside a sequence a look-alike is only tried where one can start: a group followed directly by
// spaces and another digit ("1234 1234 ...") cannot, and skipping the try keeps long runs cheap.
const MAY_START_LOOKALIKE = String.raw`(?=\d{1,12}(?!\d|[ \t]{1,4}\(?\d))`;
const SEQUENCE = new RegExp(
  String.raw`(?<keep>${LOOKALIKE})|(?<!\d)(?:\+|00)?${GROUP}(?:${JOIN}(?!${MAY_START_LOOKALIKE}${LOOKALIKE})${GROUP})*`,
  'gu',
);

const LETTER = /[\p{L}]/u;
const ALNUM = /[\p{L}\p{N}]/u;

/** Luhn (mod 10): every payment card number ends in this check digit; a random run passes 1 time in 10. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}

// Default countries for national numbers without a country code, most likely first.
const PHONE_COUNTRIES: CountryCode[] = ['GB', 'US', 'DE', 'FR', 'ES', 'IT', 'NL', 'IE', 'BE', 'AT', 'CH', 'PT', 'PL'];
// libphonenumber-js costs about 10 µs a call: past this many per text, a number keeps the
// category `number` (it is masked all the same).
const PHONE_CHECKS_PER_TEXT = 200;

function isPhone(candidate: string, digits: string, budget: { calls: number }): boolean {
  if (digits.length < 7 || digits.length > 17) return false;
  const international = /^(?:\+|00)/.test(candidate);
  const national = digits.startsWith('0') || candidate.startsWith('(');
  if (!international && !national && !/^\d{3}[ .-]\d{3}[ .-]\d{4}$/.test(candidate)) return false;
  if (digits.length < 7 || digits.length > 15) return false;
  const text = candidate.startsWith('00') ? `+${candidate.slice(2)}` : candidate;
  for (const country of international ? [undefined] : PHONE_COUNTRIES) {
    if (budget.calls-- <= 0) return false;
    const phone = parsePhoneNumberFromString(text, country);
    // With a country code, a possible number is enough (drama and new ranges are not "valid").
    if (international ? phone?.isPossible() : phone?.isValid()) return true;
  }
  return false;
}

function isCard(candidate: string, digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && !candidate.startsWith('+') && digits[0] !== '0' && passesLuhn(digits);
}

function categoryOf(candidate: string, digits: string, budget: { calls: number }): string {
  if (isCard(candidate, digits)) return 'card';
  // A card run on into what follows ("4111 1111 1111 1111-05"): the span stays, the category is card.
  if (digits.length > 13 && digits.length <= 23) {
    let cut = candidate.length;
    while (cut > 0 && isDigit(candidate, cut - 1)) cut--;
    while (cut > 0 && !isDigit(candidate, cut - 1)) cut--;
    const shorter = candidate.slice(0, cut);
    if (cut > 0 && isCard(shorter, shorter.replace(/\D/g, ''))) return 'card';
  }
  if (isPhone(candidate, digits, budget)) return 'phone';
  if (/^\d{2}-\d{2}-\d{2}$/.test(candidate)) return 'sort_code';
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(candidate)) return 'ip_address';
  if (/^(?!000|666|9)\d{3}[- ](?!00)\d{2}[- ](?!0000)\d{4}$/.test(candidate)) return 'national_id';
  return 'number';
}

/** The alphanumeric token around [start, end): letters and digits glued to it on either side. */
function tokenAround(text: string, start: number, end: number): [number, number] {
  while (start > 0 && isAlnum(text, start - 1)) start--;
  while (end < text.length && isAlnum(text, end)) end++;
  return [start, end];
}

function isLetter(text: string, i: number): boolean {
  const code = text.charCodeAt(i);
  if (code < 0x80) return (code | 32) >= 97 && (code | 32) <= 122;
  return LETTER.test(text[i]!);
}

function isDigit(text: string, i: number): boolean {
  const code = text.charCodeAt(i);
  return code >= 48 && code <= 57;
}

function isAlnum(text: string, i: number): boolean {
  const code = text.charCodeAt(i);
  if (code < 0x80) return (code >= 48 && code <= 57) || ((code | 32) >= 97 && (code | 32) <= 122);
  return ALNUM.test(text[i]!);
}

// Runs of digits (from the shared scan) joined by up to 9 characters a sequence may join them by
// make a cluster. Only a cluster with 6 or more digits is read by SEQUENCE: most numbers in a text
// are short.
/** Whether text[from, to) may join two digit runs: 1-9 of " \t.-/_·()+". */
function joins(text: string, from: number, to: number): boolean {
  if (to - from > 9) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 46 && c !== 45 && c !== 47 && c !== 95 && c !== 0xb7 && c !== 40 && c !== 41 && c !== 43) return false;
  }
  return true;
}

const PLAIN_RUN = /^\d+(?: \d+)*$/;
const NEAR_PLAIN_RUN_BEFORE = /[\p{Sc}\p{L}+(.,:/-][ \t]?$/u;
const NEAR_PLAIN_RUN_AFTER = /^(?:[ \t]?[\p{Sc}\p{L}%)]|[.,:/-]\d)/u;

function countDigits(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) n++;
  }
  return n;
}

export const numbers: Recogniser = {
  name: 'numbers',
  find(text: string, out: Finding[], scan: TextScan): void {
    const budget = { calls: PHONE_CHECKS_PER_TEXT };
    const runs = scan.digitRuns;
    let handledUntil = 0;
    for (let i = 0; i < scan.digitRunCount;) {
      let j = i;
      let digits = runs[2 * i + 1]! - runs[2 * i]!;
      while (j + 1 < scan.digitRunCount && joins(text, runs[2 * j + 1]!, runs[2 * j + 2]!)) {
        j++;
        digits += runs[2 * j + 1]! - runs[2 * j]!;
      }
      const clusterStart = runs[2 * i]!;
      const clusterEnd = runs[2 * j + 1]!;
      i = j + 1;
      if (clusterEnd <= handledUntil || digits < 6) continue;
      handledUntil = readCluster(text, clusterStart, clusterEnd, handledUntil, budget, out);
    }
    // Digits glued to a letter: the whole token is judged ("L01X00T47", "AB12CD34").
    let tokenEnd = 0;
    for (let i = 0; i < scan.digitRunCount; i++) {
      const start = runs[2 * i]!;
      const end = runs[2 * i + 1]!;
      if (start < tokenEnd) continue;
      const glued = (start > 0 && isLetter(text, start - 1)) || (end < text.length && isLetter(text, end));
      if (!glued) continue;
      const [tokenStart, tokenStop] = tokenAround(text, start, end);
      tokenEnd = tokenStop;
      const category = tokenCategory(text.slice(tokenStart, tokenStop));
      if (category) out.push({ start: tokenStart, end: tokenStop, category });
    }
  },
};

/** Reads the cluster [clusterStart, clusterEnd) into sequences and look-alikes; returns where the text is handled up to. */
function readCluster(
  text: string,
  clusterStart: number,
  clusterEnd: number,
  handledUntil: number,
  budget: { calls: number },
  out: Finding[],
): number {
  const cluster = text.slice(clusterStart, clusterEnd);
  // Digits and single spaces only, with nothing that could make an amount or a percentage at
  // either end: one sequence, no need to look for look-alikes inside ("1234 1234 1234 ...").
  if (
    PLAIN_RUN.test(cluster) &&
    !NEAR_PLAIN_RUN_BEFORE.test(text.slice(Math.max(0, clusterStart - 4), clusterStart)) &&
    !NEAR_PLAIN_RUN_AFTER.test(text.slice(clusterEnd, clusterEnd + 12))
  ) {
    return judge(text, clusterStart, cluster, handledUntil, budget, out);
  }
  // Sequences and look-alikes are tried at each place in the cluster (sticky), never past it. A
  // leading "+" or "(" belongs to the number.
  let at = clusterStart;
  if (at > 0 && /[+(]/.test(text[at - 1]!)) at--;
  // Digits joined to the cluster by ":" or "," belong to a look-alike ("10:30 12345678").
  while (at > 1 && /[:,]/.test(text[at - 1]!) && isDigit(text, at - 2)) for (at -= 2; at > 0 && isDigit(text, at - 1);) at--;
  at = Math.max(handledUntil, at);
  while (at < clusterEnd) {
    SEQUENCE.lastIndex = at;
    const match = SEQUENCE.exec(text);
    if (!match || match[0].length === 0) {
      at++;
      continue;
    }
    if (match.groups?.keep !== undefined) handledUntil = Math.max(handledUntil, match.index + match[0].length);
    else handledUntil = Math.max(handledUntil, judge(text, match.index, match[0], handledUntil, budget, out));
    at = Math.max(at + 1, match.index + match[0].length);
  }
  return handledUntil;
}

/** A token of letters and digits that is an id: "L01X00T47", "RSSMRA85T10A562S", "AB12CD34"; not "2FA", "iPhone15". */
function tokenCategory(token: string): string | null {
  const digits = countDigits(token);
  if (digits >= 6) return 'number';
  const digitGroups = token.match(/\d+/g)?.length ?? 0;
  return (digits >= 5 && token.length >= 7) || (digits >= 4 && digitGroups >= 2 && token.length >= 6) ? 'id' : null;
}

/** Reports the digit sequence `candidate` at `start` if it is personal data; returns where the text is handled up to. */
function judge(text: string, start: number, candidate: string, handledUntil: number, budget: { calls: number }, out: Finding[]): number {
  let end = start + candidate.length;
  if (start < handledUntil) return handledUntil;
  // Parentheses around the whole number, or one without its partner, are punctuation:
  // "(020 7946 0958)" keeps them, "(0)20 7946 0958" and "(415) 555-2671" are the number's.
  const wrapped = candidate.startsWith('(') && candidate.endsWith(')') && candidate.indexOf(')') === candidate.length - 1;
  if (wrapped || (candidate.endsWith(')') && !candidate.includes('('))) {
    candidate = candidate.slice(0, -1);
    end--;
  }
  if (wrapped || (candidate.startsWith('(') && !candidate.includes(')'))) {
    candidate = candidate.slice(1);
    start++;
  }
  const digits = candidate.replace(/\D/g, '');
  const glued = (start > 0 && LETTER.test(text[start - 1]!)) || (end < text.length && LETTER.test(text[end]!));
  if (glued) {
    // "AB123456C", "ID12345678": the whole token goes with the number.
    const [tokenStart, tokenEnd] = tokenAround(text, start, end);
    if (digits.length >= 6) {
      out.push({ start: Math.min(start, tokenStart), end: Math.max(end, tokenEnd), category: 'number' });
      return Math.max(end, tokenEnd);
    }
    return end;
  }
  if (digits.length < 6) return end;
  out.push({ start, end, category: categoryOf(candidate, digits, budget) });
  return end;
}
