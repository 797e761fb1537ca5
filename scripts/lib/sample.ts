/**
 * `eval --limit N`: a sample of N rows stratified by label and seeded, instead of the first N rows
 * of a file that is sorted by label (Banking77's test split: the first 300 rows are 8 intents).
 */
import { mulberry32, shuffle } from '../../src/models/custom/random';

export interface StratifiedSample<T> {
  /** The rows drawn, in the order they have in the input. */
  rows: T[];
  /** Rows drawn per label, labels in order of first appearance in the input. */
  perLabel: Record<string, number>;
}

/**
 * `n` rows of `rows` (all of them when `n` is at least their number), each label getting its share
 * of `n` in proportion to its rows (largest remainders; ties, and the labels left out when `n` is
 * smaller than the number of labels, decided by the seed), the rows of each label drawn at random
 * with `seed`. The same input, `n` and seed give the same sample.
 */
export function stratifiedSample<T extends { label: string }>(rows: readonly T[], n: number, seed: number): StratifiedSample<T> {
  if (!Number.isInteger(n) || n < 0) throw new Error(`sample size must be a non-negative integer, got ${n}`);
  const byLabel = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const indices = byLabel.get(row.label);
    if (indices) indices.push(i);
    else byLabel.set(row.label, [i]);
  });
  const labels = [...byLabel.keys()];
  const random = mulberry32(seed);
  const take = new Map<string, number>();
  if (n >= rows.length) {
    for (const label of labels) take.set(label, byLabel.get(label)!.length);
  } else {
    // Largest remainder: floors first, then one more for the labels with the largest fractions;
    // a seeded order breaks ties (every label has the same fraction when the labels are balanced).
    const order = new Map(shuffle([...labels], random).map((label, i) => [label, i]));
    const shares = labels.map((label) => {
      const exact = (n * byLabel.get(label)!.length) / rows.length;
      return { label, floor: Math.floor(exact), fraction: exact - Math.floor(exact) };
    });
    let left = n - shares.reduce((sum, s) => sum + s.floor, 0);
    for (const s of shares) take.set(s.label, s.floor);
    const byFraction = [...shares].sort((a, b) => b.fraction - a.fraction || order.get(a.label)! - order.get(b.label)!);
    for (const s of byFraction) {
      if (left === 0) break;
      take.set(s.label, take.get(s.label)! + 1);
      left--;
    }
  }
  const chosen: number[] = [];
  const perLabel: Record<string, number> = {};
  for (const label of labels) {
    const k = take.get(label)!;
    if (k === 0) continue;
    perLabel[label] = k;
    chosen.push(...shuffle([...byLabel.get(label)!], random).slice(0, k));
  }
  chosen.sort((a, b) => a - b);
  return { rows: chosen.map((i) => rows[i]!), perLabel };
}
