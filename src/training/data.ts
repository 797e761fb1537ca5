/** Reading labelled CSV files and splitting them, for training and evaluation in Node. */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { TrainingError } from '../core/errors';
import { mulberry32, shuffle } from '../models/custom/random';

export interface Example {
  text: string;
  label: string;
}

/**
 * Rows of a CSV with a `text` column and a `label` (or Banking77's `category`) column.
 * Throws, naming the file, when the columns are missing or a row is empty.
 */
export function readLabelledCsv(path: string): Example[] {
  const records = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
  if (records.length === 0) throw new TrainingError({ message: `${path}: no rows`, file: path });
  const labelColumn = ['label', 'category', 'intent'].find((c) => c in records[0]!);
  if (!('text' in records[0]!) || !labelColumn) {
    throw new TrainingError({
      message: `${path}: expected columns "text" and "label" (or "category"), found: ${Object.keys(records[0]!).join(', ')}`,
      file: path,
    });
  }
  return records.map((r, i) => {
    const text = r.text?.trim() ?? '';
    const label = r[labelColumn]?.trim() ?? '';
    if (!text || !label) throw new TrainingError({ message: `${path}: row ${i + 2} has an empty text or label`, file: path });
    return { text, label };
  });
}

/**
 * Splits off `fraction` of each label's rows (at least one when a label has two or more), so the
 * validation split has every intent in the training split's proportions. Deterministic per seed.
 */
export function stratifiedSplit(rows: Example[], fraction: number, seed: number): { train: Example[]; validation: Example[] } {
  const byLabel = new Map<string, Example[]>();
  for (const row of rows) byLabel.set(row.label, [...(byLabel.get(row.label) ?? []), row]);
  const random = mulberry32(seed);
  const train: Example[] = [];
  const validation: Example[] = [];
  for (const label of [...byLabel.keys()].sort()) {
    const group = shuffle([...byLabel.get(label)!], random);
    const n = group.length < 2 ? 0 : Math.max(1, Math.round(group.length * fraction));
    validation.push(...group.slice(0, n));
    train.push(...group.slice(n));
  }
  return { train, validation };
}

/** Labels in first-seen order; Banking77's file order when `known` (its categories.json) is given and covers them. */
export function labelSet(rows: Example[], known?: readonly string[]): string[] {
  const seen = [...new Set(rows.map((r) => r.label))];
  if (known && seen.every((l) => known.includes(l)) && seen.length === known.length) return [...known];
  return seen.sort();
}
