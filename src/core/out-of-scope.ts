/**
 * The out-of-scope rule, one place for every on-device model: given a probability for each output
 * label (the in-scope labels, and `out_of_scope` where the model has it), answer the best in-scope
 * label, or `out_of_scope` when that label's probability is below the threshold. A model trained
 * with an `out_of_scope` class pushes the in-scope probabilities down on negatives, and a message
 * unlike anything seen in training spreads them thin: one rule catches both.
 */
import { OUT_OF_SCOPE } from './labels';
import type { Prediction, ScoredIntent } from './prediction';

export type Decision = Pick<Prediction, 'intent' | 'confidence' | 'top'>;

/**
 * `scores[i]` is the probability of `labels[i]`. `threshold` 0 never rejects; `top` holds the
 * `topK` best in-scope labels. For `out_of_scope`, `confidence` is `1 - top[0].score`.
 */
export function decide(scores: ArrayLike<number>, labels: readonly string[], topK: number, threshold: number): Decision {
  const inScope: ScoredIntent[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] !== OUT_OF_SCOPE) inScope.push({ intent: labels[i]!, score: scores[i]! });
  inScope.sort((a, b) => b.score - a.score);
  const top = inScope.slice(0, Math.max(1, topK));
  const best = top[0]!;
  if (best.score < threshold) return { intent: OUT_OF_SCOPE, confidence: 1 - best.score, top };
  return { intent: best.intent, confidence: best.score, top };
}

/** The threshold a call uses: the caller's, else the model's own, else none. */
export function effectiveThreshold(requested: number | undefined, stored: number | undefined): number {
  return requested ?? stored ?? 0;
}
