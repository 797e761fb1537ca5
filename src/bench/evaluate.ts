/**
 * Evaluates a classifier on labelled rows: quality (accuracy, macro-F1, per-intent F1, confusions,
 * calibration) and speed (latency one query at a time, throughput in batches).
 */
import { accuracy, confusedPairs, expectedCalibrationError, macroF1, percentile, perLabelF1, type LabelledPrediction } from './metrics';
import type { Prediction } from '../core/prediction';

export interface Classifier {
  classify(text: string): Promise<Prediction>;
  classifyBatch?(texts: string[]): Promise<Prediction[]>;
}

export interface EvalReport {
  model: string;
  device: string;
  n: number;
  accuracy: number;
  macro_f1: number;
  ece: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  mean_ms: number;
  /** Queries per second when classified in batches of `batch_size`. */
  batched_qps?: number;
  batch_size?: number;
  truncated: number;
  per_intent_f1: Record<string, number>;
  confused_pairs: { label: string; predicted: string; count: number }[];
}

export async function evaluate(
  classifier: Classifier,
  rows: { text: string; label: string }[],
  options: { batchSize?: number; onProgress?: (done: number) => void } = {},
): Promise<EvalReport> {
  const predictions: Prediction[] = [];
  const latencies: number[] = [];
  for (const row of rows) {
    const started = performance.now();
    predictions.push(await classifier.classify(row.text));
    latencies.push(performance.now() - started);
    if (predictions.length % 500 === 0) options.onProgress?.(predictions.length);
  }
  const labelled: LabelledPrediction[] = rows.map((row, i) => ({
    label: row.label,
    predicted: predictions[i]!.intent,
    confidence: predictions[i]!.confidence,
  }));

  let batched: Pick<EvalReport, 'batched_qps' | 'batch_size'> = {};
  const batchSize = options.batchSize ?? 32;
  if (classifier.classifyBatch && batchSize > 1) {
    const started = performance.now();
    for (let i = 0; i < rows.length; i += batchSize) await classifier.classifyBatch(rows.slice(i, i + batchSize).map((r) => r.text));
    batched = { batched_qps: rows.length / ((performance.now() - started) / 1000), batch_size: batchSize };
  }

  return {
    model: predictions[0]?.model ?? 'unknown',
    device: predictions[0]?.device ?? 'unknown',
    n: rows.length,
    accuracy: accuracy(labelled),
    macro_f1: macroF1(labelled),
    ece: expectedCalibrationError(labelled),
    p50_ms: percentile(latencies, 50),
    p95_ms: percentile(latencies, 95),
    p99_ms: percentile(latencies, 99),
    mean_ms: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    ...batched,
    truncated: predictions.filter((p) => p.truncated).length,
    per_intent_f1: Object.fromEntries([...perLabelF1(labelled)].map(([label, m]) => [label, m.f1])),
    confused_pairs: confusedPairs(labelled),
  };
}
