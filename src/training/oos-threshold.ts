/**
 * Choosing the out-of-scope threshold on validation data. Rejection grows with the threshold for
 * in-scope and out-of-scope messages alike, so the rule is: fix what rejection may cost in-scope
 * customers (a share of in-scope validation rows turned away) and take the highest threshold
 * within it, which turns away the most out-of-scope messages that cost allows.
 */
import { OUT_OF_SCOPE } from '../core/labels';
import { auroc } from '../bench/metrics';
import { TrainingError } from '../core/errors';

export interface ThresholdChoice {
  threshold: number;
  /** On the validation rows the choice was made on. */
  validation: { in_scope_rejected: number; oos_rejected: number | null; auroc: number | null; n_in_scope: number; n_oos: number };
  /** The budget: the share of in-scope validation rows the threshold may reject. */
  maxInScopeRejected: number;
}

/**
 * `best[i]` is the probability of the best in-scope label for a row labelled `labels[i]`. Rounded
 * down to 3 decimals so the stored value never rejects more than measured.
 */
export function chooseOosThreshold(labels: readonly string[], best: readonly number[], maxInScopeRejected: number): ThresholdChoice {
  const inScope = best.filter((_, i) => labels[i] !== OUT_OF_SCOPE).sort((a, b) => a - b);
  const oos = best.filter((_, i) => labels[i] === OUT_OF_SCOPE);
  if (inScope.length === 0) throw new TrainingError('choosing an out-of-scope threshold needs in-scope validation rows');
  // Rows scoring below the k-th smallest in-scope score are rejected: at most k of them.
  const k = Math.floor(maxInScopeRejected * inScope.length);
  const threshold = Math.floor(inScope[Math.min(k, inScope.length - 1)]! * 1000) / 1000;
  const scores = best.map((b) => 1 - b);
  return {
    threshold,
    maxInScopeRejected,
    validation: {
      in_scope_rejected: inScope.filter((s) => s < threshold).length / inScope.length,
      oos_rejected: oos.length === 0 ? null : oos.filter((s) => s < threshold).length / oos.length,
      auroc:
        oos.length === 0
          ? null
          : auroc(
              scores.filter((_, i) => labels[i] === OUT_OF_SCOPE),
              scores.filter((_, i) => labels[i] !== OUT_OF_SCOPE),
            ),
      n_in_scope: inScope.length,
      n_oos: oos.length,
    },
  };
}
