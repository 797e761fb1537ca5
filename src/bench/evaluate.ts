/**
 * Evaluates a classifier on labelled rows: quality (accuracy, macro-F1, per-intent F1, confusions,
 * calibration) and speed (latency one query at a time, throughput in batches).
 */
import {
  accuracy,
  auroc,
  confusedPairs,
  expectedCalibrationError,
  macroF1,
  outOfScopeRates,
  percentile,
  perLabelF1,
  type LabelledPrediction,
  type OutOfScopeRates,
} from './metrics';
import type { EngineClassifyOptions } from '../core/adapter';
import { OUT_OF_SCOPE } from '../core/labels';
import type { ModelPrediction } from '../core/prediction';

export interface Classifier {
  classify(text: string, options?: EngineClassifyOptions): Promise<ModelPrediction>;
  classifyBatch?(texts: string[], options?: EngineClassifyOptions): Promise<ModelPrediction[]>;
}

/** One point of the rejection curve: what a threshold would do on these rows. */
export interface ThresholdPoint extends OutOfScopeRates {
  threshold: number;
  /** All rows, out-of-scope ones included: right when a negative is rejected, or an intent is right. */
  accuracy: number;
}

/** What the model does with out-of-scope answers on these rows. */
export interface OutOfScopeReport extends OutOfScopeRates {
  /** The threshold the answers above were made with (the model's own unless one was asked for). */
  threshold: number | null;
  /** Accuracy on the in-scope rows of the best in-scope label, rejection off. */
  in_scope_accuracy_without_rejection: number | null;
  /**
   * How well `1 - top[0].score` (the rejection score) separates out-of-scope rows from in-scope
   * ones, over every threshold at once; null without both kinds of rows.
   */
  auroc: number | null;
  /** Both rates against the threshold, from 0 (off) to 0.95. */
  curve: ThresholdPoint[];
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
  out_of_scope: OutOfScopeReport;
}

export async function evaluate(
  classifier: Classifier,
  rows: { text: string; label: string }[],
  options: { batchSize?: number; onProgress?: (done: number) => void; oosThreshold?: number } = {},
): Promise<EvalReport> {
  const predictions: ModelPrediction[] = [];
  const latencies: number[] = [];
  const call = { oosThreshold: options.oosThreshold };
  for (const row of rows) {
    const started = performance.now();
    predictions.push(await classifier.classify(row.text, call));
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
    for (let i = 0; i < rows.length; i += batchSize)
      await classifier.classifyBatch(
        rows.slice(i, i + batchSize).map((r) => r.text),
        call,
      );
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
    out_of_scope: outOfScopeReport(rows, predictions, options.oosThreshold),
  };
}

/** The rejection score of an answer: how little the best in-scope label got (1 when there is none). */
export function rejectionScore(p: ModelPrediction): number {
  return 1 - (p.top[0]?.score ?? 0);
}

const CURVE = Array.from({ length: 20 }, (_, i) => i / 20);

function outOfScopeReport(rows: { label: string }[], predictions: ModelPrediction[], threshold: number | undefined): OutOfScopeReport {
  // Every threshold's answers follow from the best in-scope label and its score alone.
  const at = (t: number) =>
    rows.map((row, i) => {
      const best = predictions[i]!.top[0];
      return { label: row.label, predicted: best && best.score >= t ? best.intent : OUT_OF_SCOPE };
    });
  const isOos = rows.map((r) => r.label === OUT_OF_SCOPE);
  const scores = predictions.map(rejectionScore);
  const hasBoth = isOos.some(Boolean) && isOos.some((x) => !x);
  return {
    ...outOfScopeRates(rows.map((row, i) => ({ label: row.label, predicted: predictions[i]!.intent }))),
    threshold: threshold ?? null,
    in_scope_accuracy_without_rejection: outOfScopeRates(at(0)).in_scope_accuracy,
    auroc: hasBoth
      ? auroc(
          scores.filter((_, i) => isOos[i]),
          scores.filter((_, i) => !isOos[i]),
        )
      : null,
    curve: CURVE.map((t) => {
      const answers = at(t);
      return { threshold: t, ...outOfScopeRates(answers), accuracy: accuracy(answers.map((a) => ({ ...a, confidence: 0 }))) };
    }),
  };
}
