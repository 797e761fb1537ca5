/** Classification and latency metrics: pure functions over predictions, shared by eval, train and bench. */

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

/** The q-th percentile (0-100) by linear interpolation between closest ranks. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}
