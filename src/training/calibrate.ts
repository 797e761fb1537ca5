/**
 * Temperature scaling (Guo et al. 2017): one scalar T that divides the logits, chosen to minimise
 * the negative log-likelihood on the validation split. It changes no prediction, only confidences.
 */

/** Mean negative log-likelihood of `labels` under softmax(logits / T); logits are row-major [n, k]. */
export function nll(logits: Float32Array, labels: number[], k: number, temperature: number): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = logits.subarray(i * k, (i + 1) * k);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v / temperature);
    let sum = 0;
    for (const v of row) sum += Math.exp(v / temperature - max);
    total += Math.log(sum) + max - row[labels[i]!]! / temperature;
  }
  return total / labels.length;
}

/** Golden-section search for T in [0.05, 20] on a log scale; NLL is unimodal in log T. */
export function fitTemperature(logits: Float32Array, labels: number[], k: number): number {
  const f = (logT: number) => nll(logits, labels, k, Math.exp(logT));
  let lo = Math.log(0.05);
  let hi = Math.log(20);
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = f(a);
  let fb = f(b);
  for (let i = 0; i < 60; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = f(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = f(b);
    }
  }
  return Math.exp((lo + hi) / 2);
}
