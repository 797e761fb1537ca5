/**
 * IBANs in any case and with any separators ("GB82 WEST 1234 5698 7654 32", "de89.3704.0044...",
 * "gb82-west-..."). The country's IBAN length (from `ibantools`) says where the IBAN ends, so a
 * grouped IBAN is not run on into the next word. A wrong check digit still masks: a mistyped IBAN
 * is still someone's account.
 */
import { getCountrySpecifications, validateIBAN, ValidationErrorsIBAN } from 'ibantools';
import type { TextScan } from '../scan';
import type { Finding, Recogniser } from '../types';

const SPECS = getCountrySpecifications();
// Country code and check digits, then up to 34 letters and digits with up to two separators each.
// Tried only where a run of digits (from the shared scan) has two letters just before it.
const CANDIDATE_AT = /[a-zA-Z]{2}[ \t.-]{0,2}\d{2}(?:[ \t.\-/]{0,2}[a-zA-Z0-9]){8,34}/y;
const isLetter = (code: number): boolean => (code | 32) >= 97 && (code | 32) <= 122;
const isSeparator = (code: number): boolean => code === 32 || code === 9 || code === 46 || code === 45;
const ALNUM = /[a-z0-9]/i;
const TOLERATED = new Set([ValidationErrorsIBAN.WrongIBANChecksum, ValidationErrorsIBAN.WrongAccountBankBranchChecksum]);

/** True when `candidate` (any case, any separators) is an IBAN, or one with a mistyped check digit. */
function isIbanLike(candidate: string): boolean {
  const iban = candidate.replace(/[^a-z0-9]/gi, '').toUpperCase();
  const spec = SPECS[iban.slice(0, 2)];
  if (!spec?.chars || iban.length !== spec.chars) return false;
  const result = validateIBAN(iban);
  return result.valid || result.errorCodes.every((code) => TOLERATED.has(code));
}

export const iban: Recogniser = {
  name: 'iban',
  find(text: string, out: Finding[], scan: TextScan): void {
    let handledUntil = 0;
    for (let k = 0; k < scan.letterBeforeCount; k++) {
      const i = scan.letterBefore[k]!;
      const digitsStart = scan.digitRuns[2 * i]!;
      if (digitsStart < handledUntil || scan.digitRuns[2 * i + 1]! - digitsStart < 2) continue;
      // Two letters just before the digits, with up to two separators between ("GB82", "gb 82").
      let at = digitsStart;
      for (let separators = 0; separators < 2 && at > 0 && isSeparator(text.charCodeAt(at - 1)); separators++) at--;
      const start = at - 2;
      if (start < 0 || !isLetter(text.charCodeAt(start)) || !isLetter(text.charCodeAt(start + 1))) continue;
      if (start > 0 && ALNUM_ANY.test(text[start - 1]!)) continue;
      CANDIDATE_AT.lastIndex = start;
      const candidate = CANDIDATE_AT.exec(text);
      if (!candidate) continue;
      const length = ibanLength(text, start, candidate[0]);
      if (length > 0) {
        out.push({ start, end: start + length, category: 'iban' });
        handledUntil = start + length;
      }
    }
  },
};

const ALNUM_ANY = /[\p{L}\p{N}]/u;

/** How many characters from `start` are an IBAN, or 0. */
function ibanLength(text: string, start: number, candidate: string): number {
  const spec = SPECS[candidate.slice(0, 2).toUpperCase()];
  if (!spec?.chars) return 0;
  // Walk to the country's length in letters and digits; the IBAN must end at a group boundary.
  let count = 0;
  let end = 0;
  for (; end < candidate.length && count < spec.chars; end++) if (ALNUM.test(candidate[end]!)) count++;
  if (count < spec.chars) return 0;
  const next = text[start + end];
  if (next !== undefined && ALNUM.test(next)) return 0;
  return isIbanLike(candidate.slice(0, end)) ? end : 0;
}
