/**
 * The custom intent classifier: a small Transformer encoder (Vaswani et al. 2017) with pre-layer
 * normalisation, mean-pooled into a linear classifier. Written with tfjs ops so that it trains
 * with autograd; `onnx-export.ts` writes the same computation as an ONNX graph, and the parity
 * test holds the two to 1e-3.
 *
 *   tokens ─ embed + position ─┬─ [ LN ─ self-attention ─ + ] ─ [ LN ─ MLP ─ + ] ─ × layers
 *                              └────────── residual ───────┘
 *   ─ LN ─ mean over real tokens ─ linear ─ logits (one per intent)
 */
import * as tf from '@tensorflow/tfjs';
import type { EncoderShape } from './config';
import { embeddingLookup, matMul } from './tf-ops';
import { mulberry32, normalSampler } from './random';
import { ModelFormatError } from '../../core/errors';

/** Weights by name, in plain arrays: what training saves, export reads and the parity test loads. */
export type NamedWeights = Record<string, { shape: number[]; data: Float32Array }>;

/** Every parameter's name and shape, in a fixed order. The names are shared with the ONNX export. */
export function parameterShapes(s: EncoderShape): [string, number[]][] {
  const out: [string, number[]][] = [
    ['embed.tokens', [s.vocabSize, s.dModel]],
    ['embed.positions', [s.maxTokens, s.dModel]],
  ];
  for (let i = 0; i < s.layers; i++) {
    const p = `layers.${i}.`;
    out.push([p + 'ln1.gamma', [s.dModel]], [p + 'ln1.beta', [s.dModel]]);
    for (const proj of ['q', 'k', 'v', 'o']) out.push([`${p}attn.${proj}.w`, [s.dModel, s.dModel]], [`${p}attn.${proj}.b`, [s.dModel]]);
    out.push([p + 'ln2.gamma', [s.dModel]], [p + 'ln2.beta', [s.dModel]]);
    out.push([p + 'mlp.up.w', [s.dModel, s.ffn]], [p + 'mlp.up.b', [s.ffn]]);
    out.push([p + 'mlp.down.w', [s.ffn, s.dModel]], [p + 'mlp.down.b', [s.dModel]]);
  }
  out.push(['final_ln.gamma', [s.dModel]], ['final_ln.beta', [s.dModel]]);
  out.push(['head.w', [s.dModel, s.numLabels]], ['head.b', [s.numLabels]]);
  return out;
}

export function countParameters(s: EncoderShape): number {
  return parameterShapes(s).reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
}

/** GPT-2 style initialisation: N(0, 0.02) matrices, zero biases, unit LayerNorm gains. */
export function initWeights(s: EncoderShape, seed: number): NamedWeights {
  const normal = normalSampler(mulberry32(seed));
  const weights: NamedWeights = {};
  for (const [name, shape] of parameterShapes(s)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('.gamma')) data.fill(1);
    else if (shape.length === 2) for (let i = 0; i < data.length; i++) data[i] = 0.02 * normal();
    weights[name] = { shape, data };
  }
  return weights;
}

export const LAYER_NORM_EPSILON = 1e-5;
/** Added to attention scores of padding keys: exp(-1e4) is 0 in float32. */
export const MASKED_SCORE = -1e4;

export interface ForwardOptions {
  /** Dropout probability while training; 0 (the default) at inference. */
  dropout?: number;
  /** Seed for this step's dropout masks, so a run is reproducible. */
  seed?: number;
}

export class EncoderClassifier {
  readonly params: Record<string, tf.Variable>;

  constructor(
    readonly shape: EncoderShape,
    weights: NamedWeights,
  ) {
    this.params = {};
    for (const [name, expected] of parameterShapes(shape)) {
      const w = weights[name];
      if (!w || w.shape.join() !== expected.join())
        throw new ModelFormatError(`weight ${name}: expected shape [${expected}], got [${w?.shape}]`);
      const initial = tf.tensor(w.data, w.shape);
      this.params[name] = tf.variable(initial, true); // tf names must be unique per process: let tf pick
      initial.dispose();
    }
  }

  /**
   * Logits `[batch, numLabels]` for token ids `[batch, time]` (int32) with a 0/1 float mask of the
   * same shape marking real tokens. Time may be shorter than `maxTokens`.
   */
  forward(ids: tf.Tensor2D, mask: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor2D {
    const { dModel: d, heads } = this.shape;
    const [batch, time] = ids.shape;
    const p = this.params;
    let seed = options.seed ?? 0;
    const drop = (x: tf.Tensor) => (options.dropout ? tf.dropout(x, options.dropout, undefined, seed++) : x);

    let x = embeddingLookup(p['embed.tokens'] as tf.Tensor2D, ids).add(p['embed.positions']!.slice([0, 0], [time, d]));
    x = drop(x).reshape([batch * time, d]);

    // Padding keys get MASKED_SCORE, broadcast over heads and query positions: [batch, 1, 1, time].
    const keyBias = tf.sub(1, mask).mul(MASKED_SCORE).reshape([batch, 1, 1, time]);

    for (let i = 0; i < this.shape.layers; i++) {
      const l = `layers.${i}.`;
      const h = layerNorm(x, p[l + 'ln1.gamma']!, p[l + 'ln1.beta']!);
      const attended = this.selfAttention(h, keyBias, l, batch, time, heads);
      x = x.add(drop(attended));
      const g = layerNorm(x, p[l + 'ln2.gamma']!, p[l + 'ln2.beta']!);
      const up = gelu(linear(g, p[l + 'mlp.up.w']!, p[l + 'mlp.up.b']!));
      x = x.add(drop(linear(up, p[l + 'mlp.down.w']!, p[l + 'mlp.down.b']!)));
    }
    x = layerNorm(x, p['final_ln.gamma']!, p['final_ln.beta']!).reshape([batch, time, d]);

    // Mean over real tokens only, so padding never changes a prediction.
    const m = mask.expandDims(2);
    const pooled = x.mul(m).sum(1).div(m.sum(1)) as tf.Tensor2D;
    return linear(drop(pooled), p['head.w']!, p['head.b']!) as tf.Tensor2D;
  }

  /** Multi-head scaled dot-product attention over `h` `[batch*time, d]`. */
  private selfAttention(h: tf.Tensor, keyBias: tf.Tensor, l: string, batch: number, time: number, heads: number): tf.Tensor {
    const p = this.params;
    const d = this.shape.dModel;
    const dh = d / heads;
    // [batch*time, d] -> [batch*heads, time, dh]
    const split = (t: tf.Tensor) =>
      t
        .reshape([batch, time, heads, dh])
        .transpose([0, 2, 1, 3])
        .reshape([batch * heads, time, dh]);
    const q = split(linear(h, p[l + 'attn.q.w']!, p[l + 'attn.q.b']!));
    const k = split(linear(h, p[l + 'attn.k.w']!, p[l + 'attn.k.b']!));
    const v = split(linear(h, p[l + 'attn.v.w']!, p[l + 'attn.v.b']!));

    const scores = matMul(q, k.transpose([0, 2, 1]))
      .mul(1 / Math.sqrt(dh))
      .reshape([batch, heads, time, time])
      .add(keyBias);
    const weights = tf.softmax(scores).reshape([batch * heads, time, time]);
    const context = matMul(weights, v) // [batch*heads, time, dh] -> [batch*time, d]
      .reshape([batch, heads, time, dh])
      .transpose([0, 2, 1, 3])
      .reshape([batch * time, d]);
    return linear(context, p[l + 'attn.o.w']!, p[l + 'attn.o.b']!);
  }

  /** Current weights as plain arrays (a copy). */
  weights(): NamedWeights {
    const out: NamedWeights = {};
    for (const [name, v] of Object.entries(this.params)) out[name] = { shape: [...v.shape], data: v.dataSync() as Float32Array };
    return out;
  }

  dispose(): void {
    Object.values(this.params).forEach((v) => v.dispose());
  }
}

function linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return matMul(x, w).add(b);
}

function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return x
    .sub(mean)
    .mul(tf.rsqrt(variance.add(LAYER_NORM_EPSILON)))
    .mul(gamma)
    .add(beta);
}

/** GELU, tanh approximation (Hendrycks & Gimpel); `x*x*x` is faster than pow on WASM. */
const GELU_C = Math.sqrt(2 / Math.PI);
function gelu(x: tf.Tensor): tf.Tensor {
  const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(GELU_C);
  return x.mul(0.5).mul(tf.tanh(inner).add(1));
}
