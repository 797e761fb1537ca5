/**
 * AdamW (Loshchilov & Hutter 2019): Adam with weight decay applied to the weights directly rather
 * than through the gradient. tfjs has Adam but no AdamW. Decay applies to matrices only, not to
 * biases or LayerNorm gains.
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay: number;
}

export class AdamW {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private t = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;

  constructor(
    private readonly variables: tf.Variable[],
    private readonly options: AdamWOptions,
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    // tidy disposes the zerosLike tensors; tf.variable copies them, and tidy leaves variables alone.
    this.m = tf.tidy(() => variables.map((v) => tf.variable(tf.zerosLike(v), false)));
    this.v = tf.tidy(() => variables.map((v) => tf.variable(tf.zerosLike(v), false)));
  }

  /** One update. `grads` is keyed by variable name, as `tf.variableGrads` returns it. */
  step(grads: tf.NamedTensorMap, learningRate: number): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      this.variables.forEach((w, i) => {
        const g = grads[w.name];
        if (!g) return;
        const m = this.m[i]!;
        const v = this.v[i]!;
        m.assign(m.mul(this.beta1).add(g.mul(1 - this.beta1)));
        v.assign(v.mul(this.beta2).add(g.square().mul(1 - this.beta2)));
        let update = m.div(c1).div(v.div(c2).sqrt().add(this.epsilon));
        if (w.rank >= 2) update = update.add(w.mul(this.options.weightDecay));
        w.assign(w.sub(update.mul(learningRate)));
      });
    });
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}
