/**
 * The privacy corpus (test/fixtures/privacy) and its leak rule, shared by the unit test and
 * `npm run privacy:report` so both count the same way.
 *
 * Leak rule: normalise masked text and secret (NFKC, lower case, any-script digits to 0-9, then
 * only letters and digits kept); a secret leaks when the normalised masked text holds any run of
 * min(5, length) consecutive characters of the normalised secret. A benign message is "changed"
 * when the masked text differs from it at all.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface SecretMessage {
  category: string;
  text: string;
  secrets: string[];
}

export interface BenignMessage {
  category: string;
  text: string;
}

export const CORPUS_DIR = fileURLToPath(new URL('../../test/fixtures/privacy/', import.meta.url));

/** Each non-empty line as JSON; a bad line is an error naming the file and the line. */
function readJsonl<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, i) => {
      if (line.trim() === '') return [];
      try {
        return [JSON.parse(line) as T];
      } catch (error) {
        throw new Error(`${file}:${i + 1}: not a JSON line (${(error as Error).message})`);
      }
    });
}

export function loadCorpus(dir = CORPUS_DIR): { secrets: SecretMessage[]; benign: BenignMessage[] } {
  return { secrets: readJsonl<SecretMessage>(`${dir}/secrets.jsonl`), benign: readJsonl<BenignMessage>(`${dir}/benign.jsonl`) };
}

const ND = /\p{Nd}/u;

/** NFKC, lower case, any-script digits as 0-9, letters and digits only. */
export function normaliseForLeak(text: string): string {
  let out = '';
  for (const char of text.normalize('NFKC').toLowerCase()) {
    if (ND.test(char)) out += String(digitValue(char.codePointAt(0)!));
    else if (/[\p{L}\p{N}]/u.test(char)) out += char;
  }
  return out;
}

function digitValue(code: number): number {
  let first = code;
  while (ND.test(String.fromCodePoint(first - 1))) first--;
  return (code - first) % 10;
}

/** The first window of the secret found in the masked text, or null when it does not leak. */
export function leakedWindow(maskedText: string, secret: string): string | null {
  const haystack = normaliseForLeak(maskedText);
  const needle = normaliseForLeak(secret);
  const size = Math.min(5, needle.length);
  if (size === 0) return null;
  for (let i = 0; i + size <= needle.length; i++) {
    const window = needle.slice(i, i + size);
    if (haystack.includes(window)) return window;
  }
  return null;
}

export interface CategoryFigures {
  category: string;
  messages: number;
  secrets: number;
  leaked: number;
}

export interface Leak {
  category: string;
  text: string;
  masked: string;
  secret: string;
  window: string;
}

export interface BenignChange {
  category: string;
  text: string;
  masked: string;
}

export interface CorpusReport {
  categories: CategoryFigures[];
  totals: { messages: number; secrets: number; leaked: number };
  leaks: Leak[];
  benign: {
    messages: number;
    changed: number;
    changedShare: number;
    byCategory: { category: string; messages: number; changed: number }[];
  };
  changes: BenignChange[];
}

/** Masks every corpus message with `mask` and counts leaks and benign changes per category. */
export function evaluateCorpus(mask: (text: string) => string, corpus = loadCorpus()): CorpusReport {
  const figures = new Map<string, CategoryFigures>();
  const leaks: Leak[] = [];
  for (const message of corpus.secrets) {
    const entry = figures.get(message.category) ?? { category: message.category, messages: 0, secrets: 0, leaked: 0 };
    figures.set(message.category, entry);
    const masked = mask(message.text);
    entry.messages++;
    for (const secret of message.secrets) {
      entry.secrets++;
      const window = leakedWindow(masked, secret);
      if (window !== null) {
        entry.leaked++;
        leaks.push({ category: message.category, text: message.text, masked, secret, window });
      }
    }
  }
  const categories = [...figures.values()].sort((a, b) => a.category.localeCompare(b.category));
  const totals = categories.reduce(
    (t, c) => ({ messages: t.messages + c.messages, secrets: t.secrets + c.secrets, leaked: t.leaked + c.leaked }),
    {
      messages: 0,
      secrets: 0,
      leaked: 0,
    },
  );

  const byCategory = new Map<string, { category: string; messages: number; changed: number }>();
  const changes: BenignChange[] = [];
  for (const message of corpus.benign) {
    const entry = byCategory.get(message.category) ?? { category: message.category, messages: 0, changed: 0 };
    byCategory.set(message.category, entry);
    entry.messages++;
    const masked = mask(message.text);
    if (masked !== message.text) {
      entry.changed++;
      changes.push({ category: message.category, text: message.text, masked });
    }
  }
  const benignMessages = corpus.benign.length;
  return {
    categories,
    totals,
    leaks,
    benign: {
      messages: benignMessages,
      changed: changes.length,
      changedShare: benignMessages ? changes.length / benignMessages : 0,
      byCategory: [...byCategory.values()].sort((a, b) => a.category.localeCompare(b.category)),
    },
    changes,
  };
}
