/** Classification and latency metrics: pure functions over predictions, shared by eval, train and bench. */
import { OUT_OF_SCOPE } from '../core/labels';

export interface LabelledPrediction {
  /** The true label. */
  label: string;
  predicted: string;
  confidence: number;
}

export function accuracy(rows: LabelledPrediction[]): number {
  return rows.filter((r) => r.predicted === r.label).length / rows.length;
}

/** F1 per label (labels with no true and no predicted rows are left out). */
export function perLabelF1(rows: LabelledPrediction[]): Map<string, { f1: number; precision: number; recall: number; support: number }> {
  const tp = new Map<string, number>();
  const predicted = new Map<string, number>();
  const actual = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const r of rows) {
    inc(actual, r.label);
    inc(predicted, r.predicted);
    if (r.label === r.predicted) inc(tp, r.label);
  }
  const out = new Map<string, { f1: number; precision: number; recall: number; support: number }>();
  for (const label of [...new Set([...actual.keys(), ...predicted.keys()])].sort()) {
    const t = tp.get(label) ?? 0;
    const precision = t / (predicted.get(label) ?? 0) || 0;
    const recall = t / (actual.get(label) ?? 0) || 0;
    out.set(label, {
      f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
      precision,
      recall,
      support: actual.get(label) ?? 0,
    });
  }
  return out;
}

/** Unweighted mean of per-label F1 over the labels that occur in the data. */
export function macroF1(rows: LabelledPrediction[]): number {
  const labels = new Set(rows.map((r) => r.label));
  const f1 = perLabelF1(rows);
  let sum = 0;
  for (const label of labels) sum += f1.get(label)!.f1;
  return sum / labels.size;
}

/** The most frequent (true → predicted) mistakes. */
export function confusedPairs(rows: LabelledPrediction[], limit = 10): { label: string; predicted: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const r of rows)
    if (r.label !== r.predicted) counts.set(`${r.label}\u0000${r.predicted}`, (counts.get(`${r.label}\u0000${r.predicted}`) ?? 0) + 1);
  return [...counts]
    .map(([key, count]) => {
      const [label, predicted] = key.split('\u0000') as [string, string];
      return { label, predicted, count };
    })
    .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label))
    .slice(0, limit);
}

/**
 * Expected calibration error (Guo et al. 2017): rows binned by confidence into `bins` equal-width
 * bins; the weighted mean gap between each bin's accuracy and its mean confidence.
 */
export function expectedCalibrationError(rows: LabelledPrediction[], bins = 15): number {
  const count = new Array<number>(bins).fill(0);
  const correct = new Array<number>(bins).fill(0);
  const confidence = new Array<number>(bins).fill(0);
  for (const r of rows) {
    const b = Math.min(bins - 1, Math.floor(r.confidence * bins));
    count[b]!++;
    confidence[b]! += r.confidence;
    if (r.label === r.predicted) correct[b]!++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++)
    if (count[b]! > 0) ece += (count[b]! / rows.length) * Math.abs(correct[b]! / count[b]! - confidence[b]! / count[b]!);
  return ece;
}

/** z for a two-sided 95% interval. */
const Z95 = 1.959963984540054;

/**
 * The Wilson score interval (95% by default) for `successes` out of `n`: where the true rate
 * plausibly lies given what a sample of `n` showed. Unlike the normal approximation it stays within
 * [0, 1] and is sensible at 0% and 100% and for small `n`. Null for `n = 0`.
 */
export function wilsonInterval(successes: number, n: number, z = Z95): [number, number] | null {
  if (!(n > 0)) return null;
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At 0% and 100% the interval touches the bound exactly (the formula gives it up to rounding).
  return [successes <= 0 ? 0 : Math.max(0, centre - half), successes >= n ? 1 : Math.min(1, centre + half)];
}

/** An accuracy with its interval, as two models' figures are compared. */
export interface RateWithInterval {
  value: number;
  interval: readonly [number, number];
}

/**
 * Whether each of two rates lies inside the other's interval: then the sample cannot tell them
 * apart, and calling one "more accurate" would be reading noise.
 */
export function withinEachOther(a: RateWithInterval, b: RateWithInterval): boolean {
  const inside = (value: number, [lo, hi]: readonly [number, number]) => value >= lo && value <= hi;
  return inside(a.value, b.interval) && inside(b.value, a.interval);
}

/** The median (the mean of the middle two for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  return percentile([...values], 50);
}

/** The q-th percentile (0-100) by linear interpolation between closest ranks. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/** How a classifier treats out-of-scope rows (`label === OUT_OF_SCOPE`) and in-scope ones. */
export interface OutOfScopeRates {
  /** Out-of-scope rows answered `out_of_scope` (the higher the better); null without such rows. */
  oos_rejected: number | null;
  /** In-scope rows wrongly answered `out_of_scope` (the lower the better); null without such rows. */
  in_scope_rejected: number | null;
  /** Accuracy on the in-scope rows alone, `out_of_scope` answers counted wrong. */
  in_scope_accuracy: number | null;
  n_oos: number;
  n_in_scope: number;
}

export function outOfScopeRates(rows: Pick<LabelledPrediction, 'label' | 'predicted'>[]): OutOfScopeRates {
  const oos = rows.filter((r) => r.label === OUT_OF_SCOPE);
  const inScope = rows.filter((r) => r.label !== OUT_OF_SCOPE);
  const share = (list: typeof rows, test: (r: (typeof rows)[number]) => boolean) =>
    list.length === 0 ? null : list.filter(test).length / list.length;
  return {
    oos_rejected: share(oos, (r) => r.predicted === OUT_OF_SCOPE),
    in_scope_rejected: share(inScope, (r) => r.predicted === OUT_OF_SCOPE),
    in_scope_accuracy: share(inScope, (r) => r.predicted === r.label),
    n_oos: oos.length,
    n_in_scope: inScope.length,
  };
}

/**
 * Area under the ROC curve of a score meant to be higher for `positives` (here: out-of-scope rows,
 * scored by how out-of-scope they look) than for `negatives`: the chance that a random positive
 * outscores a random negative, ties counting half. Rank-based, O(n log n).
 */
export function auroc(positives: number[], negatives: number[]): number {
  if (positives.length === 0 || negatives.length === 0) return Number.NaN;
  const all = [...positives.map((s) => ({ s, p: 1 })), ...negatives.map((s) => ({ s, p: 0 }))].sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j]!.s === all[i]!.s) j++;
    const averageRank = (i + 1 + j) / 2; // ranks i+1 .. j share their mean
    for (let k = i; k < j; k++) if (all[k]!.p === 1) rankSum += averageRank;
    i = j;
  }
  return (rankSum - (positives.length * (positives.length + 1)) / 2) / (positives.length * negatives.length);
}
