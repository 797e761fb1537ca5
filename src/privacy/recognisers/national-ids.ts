/**
 * National ids whose shape gives them away without context words, where letters would otherwise
 * split their digits into short, unmasked pieces: UK National Insurance numbers ("AB 12 34 56 C"),
 * Spanish DNI/NIE with their check letter and Italian codici fiscali. All-digit ids (US SSN, Dutch
 * BSN, Polish PESEL, German tax id, Belgian national number, French NIR) are 6+ digit runs: the
 * numbers recogniser masks them.
 */
import { runsNextToLetters, type TextScan } from '../scan';
import type { Finding, Recogniser } from '../types';

const E = String.raw`(?![\p{L}\p{N}])`;
const SEP = String.raw`[ \t.-]?`;

// In capitals only, so that "on 20 24-06" is not read as one. Written in lower case and together
// ("ab123456c") these ids are digit runs glued to letters, which the numbers recogniser masks.
const NINO = String.raw`(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]${SEP}\d\d${SEP}\d\d${SEP}\d\d${SEP}[A-D]?`;
const DNI = String.raw`\d{8}${SEP}[A-Z]`;
const NIE = String.raw`[XYZ]${SEP}\d{7}${SEP}[A-Z]`;
const OMOCODE = '[0-9LMNPQRSTUV]';
const CODICE_FISCALE = String.raw`[A-Z]{6}${OMOCODE}{2}[ABCDEHLMPRST]${OMOCODE}{2}[A-Z]${OMOCODE}{3}[A-Z]`;
// Tried only where a run of digits (from the shared scan) sits as one of these ids needs: two
// capitals before it (NINO), eight digits (DNI), X/Y/Z before seven (NIE), six letters before two
// (codice fiscale). French NIR and the all-digit ids are digit runs the numbers recogniser masks.
const ID_AT = new RegExp(`(?:${NINO}|${DNI}|${NIE}|${CODICE_FISCALE})${E}`, 'uy');
const UPPER = /[A-Z]/;
const LETTER = /[A-Za-z]/;
const ALNUM = /[\p{L}\p{N}]/u;

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** The Spanish DNI/NIE check letter holds: a wrong one is more likely an unrelated code. */
function spanishCheckHolds(value: string): boolean {
  const compact = value.replace(/[^0-9A-Z]/gi, '').toUpperCase();
  const match = /^([XYZ]?)(\d{7,8})([A-Z])$/.exec(compact);
  if (!match) return true; // not a DNI/NIE shape: another id matched
  const number = Number(String('XYZ'.indexOf(match[1]!) >= 0 ? 'XYZ'.indexOf(match[1]!) : '') + match[2]!);
  return DNI_LETTERS[number % 23] === match[3];
}

const NONE: number[] = [];

/** Where an id could start, given the run of digits [start, end): each shape's guess, or -1. */
function candidateStarts(text: string, start: number, end: number): number[] {
  // Quick test first: eight digits, or a letter just before (a separator between allowed).
  const length = end - start;
  let letterAt = start - 1;
  const before = start > 0 ? text.charCodeAt(letterAt) : 0;
  if (before === 32 || before === 9 || before === 46 || before === 45) letterAt--;
  const letter = letterAt >= 0 ? text.charCodeAt(letterAt) | 32 : 0;
  if (length !== 8 && !(letter >= 97 && letter <= 122)) return NONE;
  const starts: number[] = [];
  let at = start;
  if (at > 0 && /[ \t.-]/.test(text[at - 1]!)) at--;
  if (at >= 2 && UPPER.test(text[at - 1]!) && UPPER.test(text[at - 2]!)) starts.push(at - 2); // NINO
  if (length === 8) starts.push(start); // DNI
  if (length === 7 && at >= 1 && /[XYZ]/.test(text[at - 1]!)) starts.push(at - 1); // NIE
  if (length === 2 && start >= 6 && LETTER.test(text[start - 6]!) && /^[A-Za-z]{6}$/.test(text.slice(start - 6, start)))
    starts.push(start - 6); // codice fiscale
  return starts;
}

export const nationalIds: Recogniser = {
  name: 'national_id',
  find(text: string, out: Finding[], scan: TextScan): void {
    let handledUntil = 0;
    // Every shape has a letter before its digits, or after them (a DNI's check letter).
    for (const i of runsNextToLetters(scan)) {
      for (const start of candidateStarts(text, scan.digitRuns[2 * i]!, scan.digitRuns[2 * i + 1]!)) {
        if (start < handledUntil || (start > 0 && ALNUM.test(text[start - 1]!))) continue;
        ID_AT.lastIndex = start;
        const match = ID_AT.exec(text);
        if (!match || !spanishCheckHolds(match[0])) continue;
        out.push({ start, end: start + match[0].length, category: 'national_id' });
        handledUntil = start + match[0].length;
        break;
      }
    }
  },
};
