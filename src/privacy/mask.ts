/**
 * Privacy guard: masks personal data in customer text before it leaves the device for a remote
 * model (vLLM, Gemini). Everything that is not personal data is kept exactly as it was.
 *
 * Passes run in a fixed order, each on the output of the one before; placeholders hold no digits,
 * so a later pass never re-reads masked data:
 *   1. emails      before phones and digit runs ("john.0207946@bank.com" is one email)
 *   2. IBANs       mod-97 checked, before cards (an IBAN's digits may pass Luhn)
 *   3. cards       Luhn checked, before the generic digit runs
 *   4. phones      international (+ or 00) or grouped national numbers
 *   5. accounts    any remaining run of 8+ digits: the safety net
 * Passes 4 and 5 step over look-alikes (dates, times, year ranges, amounts) so those survive.
 *
 * Known gaps: digits other than ASCII 0-9 (e.g. Arabic-Indic) are not recognised; a look-alike
 * glued to a digit run by a dash ("12345678-2024-03-15") is masked with it.
 */

export type PersonalDataKind = 'card' | 'iban' | 'email' | 'phone' | 'account';

export interface MaskResult {
  text: string;
  masked: boolean;
  /** how many of each kind were replaced */
  counts: Partial<Record<PersonalDataKind, number>>;
}

/** Counts one replacement of `kind` and returns its placeholder, e.g. `[CARD]`. */
type Mask = (kind: PersonalDataKind) => string;

export function maskPersonalData(text: string): MaskResult {
  const counts: MaskResult['counts'] = {};
  const mask: Mask = (kind) => {
    counts[kind] = (counts[kind] ?? 0) + 1;
    return `[${kind.toUpperCase()}]`;
  };
  let out = text;
  for (const pass of [maskEmails, maskIbans, maskCards, maskPhones, maskAccountNumbers]) {
    out = pass(out, mask);
  }
  return { text: out, masked: Object.keys(counts).length > 0, counts };
}

// ---- Look-alikes: numbers that are not personal data and must stay readable for the classifier.

const DAY = String.raw`(?:0?[1-9]|[12]\d|3[01])`;
const MONTH = String.raw`(?:0?[1-9]|1[0-2])`;
const YEAR = String.raw`(?:19|20)\d\d`;
// 2024-03-15, 15/03/2024, 03/15/24, 15.03.2024. Day and month are range-checked so that sort
// codes such as 12-34-56 are not taken for dates.
const DATE = String.raw`${YEAR}[./-]${MONTH}[./-]${DAY}|(?:${DAY}[./-]${MONTH}|${MONTH}[./-]${DAY})[./-](?:${YEAR}|\d\d)`;
const YEAR_RANGE = String.raw`${YEAR}[/-]${YEAR}`;
const TIME = String.raw`\d{1,2}:\d\d(?::\d\d)?`;
const CURRENCY = String.raw`[$€£¥₹]|\b(?:EUR|USD|GBP|CHF|JPY|CAD|AUD)\b`;
// 1,250.00 / 1 250,50 / 1.000.000 / 3400 / 12.5
const NUMBER = String.raw`\d{1,3}(?:[,.\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?`;
const AMOUNT = String.raw`(?:${CURRENCY})\s?(?:${NUMBER})|(?:${NUMBER})\s?(?:${CURRENCY})`;
// Whole tokens only: not inside a longer run such as the French phone number 01.02.03.04.05.
const LOOKALIKE = String.raw`(?<!\d[.,/:-]?)(?:${DATE}|${YEAR_RANGE}|${TIME}|${AMOUNT})(?![.,/:-]?\d)`;

/** A digit group that does not start a look-alike, so "12345678 2024-03-15" stops before the date. */
const DIGITS = String.raw`(?!${LOOKALIKE})\d+`;

/** `(look-alike)|candidate`: tried left to right, a look-alike is consumed (and kept) before a candidate can start inside it. */
function orLookalike(candidate: string): RegExp {
  return new RegExp(String.raw`(${LOOKALIKE})|${candidate}`, 'g');
}

// ---- 1. Emails

// The lookbehind starts a match only at the start of a token, which keeps long inputs linear.
const EMAIL = /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/gu;

function maskEmails(text: string, mask: Mask): string {
  return text.replace(EMAIL, () => mask('email'));
}

// ---- 2. IBANs

// Country code, two check digits, then 11-30 alphanumerics: either compact or in groups of four.
const IBAN_CANDIDATE = /\b[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)\b/gi;

function maskIbans(text: string, mask: Mask): string {
  return text.replace(IBAN_CANDIDATE, (candidate) => {
    // The grouped form may run on into the next short word ("BE68 5390 0754 7034 from"): drop
    // trailing groups until the checksum holds.
    for (let end = candidate.length; end > 0; end = candidate.lastIndexOf(' ', end - 1)) {
      if (isValidIban(candidate.slice(0, end))) return mask('iban') + candidate.slice(end);
    }
    return candidate;
  });
}

/**
 * ISO 13616 (mod 97): move country code and check digits to the end, read letters as 10-35; a
 * valid IBAN leaves remainder 1. A mistyped IBAN fails, and its digits fall to the later passes.
 */
export function isValidIban(candidate: string): boolean {
  const iban = candidate.replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  let remainder = 0;
  for (const char of iban.slice(4) + iban.slice(0, 4)) {
    const value = parseInt(char, 36); // '0'-'9' are 0-9, 'A'-'Z' are 10-35
    remainder = (remainder * (value < 10 ? 10 : 100) + value) % 97; // digit by digit: no BigInt needed
  }
  return remainder === 1;
}

// ---- 3. Cards

// A digit run with one kind of separator throughout ("4111 1111 1111 1111", "3782-822463-10005").
// No card number starts with 0, and none follows "+": that keeps "0044 ..." and "+44 ..." phones out.
const CARD_CANDIDATE = /(?<![\d+])[1-9]\d*(?:([ -])\d+(?:\1\d+)*)?/g;

function maskCards(text: string, mask: Mask): string {
  return text.replace(CARD_CANDIDATE, (candidate) => {
    const digits = candidate.replace(/\D/g, '');
    return digits.length >= 13 && digits.length <= 19 && passesLuhn(digits) ? mask('card') : candidate;
  });
}

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

// ---- 4. Phones

// Digit groups joined by one space, dot or dash; parentheses may also stand alone ("(415)555-2671").
const PHONE_GROUP = String.raw`(?!${LOOKALIKE})(?:\(\d+\)|\d+)`;
const PHONE_CANDIDATE = orLookalike(String.raw`(?<![\w+])\+?${PHONE_GROUP}(?:(?:[ .-]|(?<=\))|(?=\())${PHONE_GROUP})*`);
const NORTH_AMERICAN = /^(?:1[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]\d{4}$/;

function maskPhones(text: string, mask: Mask): string {
  return text.replace(PHONE_CANDIDATE, (match, lookalike?: string) =>
    lookalike === undefined && isPhoneNumber(match) ? mask('phone') : match,
  );
}

function isPhoneNumber(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '');
  if (/^(?:\+|00)[1-9]/.test(candidate)) {
    // E.164: country code and subscriber number together have at most 15 digits.
    const length = candidate.startsWith('00') ? digits.length - 2 : digits.length;
    return length >= 8 && length <= 15;
  }
  // National numbers must be visibly grouped (a bare run is left to the account pass) and look
  // dialled: trunk prefix 0, an area code in parentheses, or the North American 3-3-4 shape.
  // That keeps grouped account numbers and sort codes ("12-34-56 12345678") out.
  if (digits.length < 9 || digits.length > 12 || !/[ .()-]/.test(candidate)) return false;
  return digits.startsWith('0') || candidate.startsWith('(') || NORTH_AMERICAN.test(candidate);
}

// ---- 5. Account-number-like runs

// Anything still holding 8+ digits joined by single spaces or dashes: account numbers, sort code
// plus account, cards and phones that failed their checks. Shorter numbers (PINs, "ending 1234",
// 6-digit codes, order numbers) are not identifying on their own and stay.
const ACCOUNT_CANDIDATE = orLookalike(String.raw`(?<!\d)\d+(?:[ -]${DIGITS})*`);

function maskAccountNumbers(text: string, mask: Mask): string {
  return text.replace(ACCOUNT_CANDIDATE, (match, lookalike?: string) =>
    lookalike === undefined && match.replace(/\D/g, '').length >= 8 ? mask('account') : match,
  );
}
