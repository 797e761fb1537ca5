/**
 * How much arithmetic a query costs, and how fast this machine does arithmetic: together a floor
 * under the latency that no engine on this machine can beat (FLOPs per query / matmul rate).
 *
 * FLOPs count the matrix products only, a multiply-add as 2. Element-wise work (biases,
 * LayerNorm, softmax, GELU, residual adds, pooling) and the embedding lookup are left out: they
 * are memory-bound and a few percent of the products at these widths.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { EncoderShape } from '../models/custom/config';
import { DataType, GraphBuilder } from '../models/onnx/graph-builder';
import { percentile } from './metrics';

export interface FlopCount {
  /** Q, K, V and output projections: 4 x [T,d]x[d,d]. */
  projections: number;
  /** Scores Q·Kᵀ and the weighted sum of V, over all heads: 2 x [T,d]x[d,T]-sized. */
  attention: number;
  /** Up and down: [T,d]x[d,ffn] and [T,ffn]x[ffn,d]. */
  feedForward: number;
  /** The head on the pooled vector: [1,d]x[d,labels]. */
  classifier: number;
  total: number;
}

/**
 * FLOPs for one query of `tokens` tokens (batch 1, no padding) through `members` encoders of this
 * shape. `tokens` may be fractional (a mean); the attention term is quadratic in it.
 */
export function flopsPerQuery(shape: EncoderShape, tokens: number, members = 1): FlopCount {
  const { dModel: d, ffn, layers, numLabels } = shape;
  const T = tokens;
  const perMember = {
    projections: layers * 4 * (2 * T * d * d),
    attention: layers * 2 * (2 * T * T * d),
    feedForward: layers * 2 * (2 * T * d * ffn),
    classifier: 2 * d * numLabels,
  };
  const projections = members * perMember.projections;
  const attention = members * perMember.attention;
  const feedForward = members * perMember.feedForward;
  const classifier = members * perMember.classifier;
  return { projections, attention, feedForward, classifier, total: projections + attention + feedForward + classifier };
}

/** What the matmul timing needs from an onnxruntime package: onnxruntime-web and -node both fit. */
export interface MatmulOrt {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => Tensor;
}

export interface MatmulRate {
  /** Side of the square matrices. */
  size: number;
  runs: number;
  /** Median wall time of one `session.run`. */
  medianMs: number;
  /** 2·n³ / median time: the rate the floor divides by. */
  gflops: number;
  /** 2·n³ / fastest time: what the machine does when nothing else runs. */
  peakGflops: number;
}

export interface MatmulOptions {
  size?: number;
  warmup?: number;
  runs?: number;
  /** Passed to `InferenceSession.create` as they are (execution providers, threads, ...). */
  sessionOptions?: InferenceSession.SessionOptions;
}

/** A one-node graph: input A [n,n] times a constant B [n,n], as a model multiplies activations by its weights. */
export function squareMatmulModel(size: number): Uint8Array {
  const g = new GraphBuilder('square_matmul');
  const a = g.input('a', DataType.FLOAT, [size, size]);
  const b = g.initializer('b', seededMatrix(size, 2), [size, size]);
  g.node('MatMul', [a, b], {}, { outputs: ['c'] });
  g.output('c', DataType.FLOAT, [size, size]);
  return g.toBytes({ '': 17 });
}

/** Times an fp32 square matmul in onnxruntime: warm-up runs first, then the median of `runs`. */
export async function measureMatmulRate(ort: MatmulOrt, o: MatmulOptions = {}): Promise<MatmulRate> {
  const size = o.size ?? 512;
  const runs = o.runs ?? 20;
  const session = await ort.InferenceSession.create(squareMatmulModel(size), o.sessionOptions);
  try {
    const feeds = { a: new ort.Tensor('float32', seededMatrix(size, 1), [size, size]) };
    for (let i = 0; i < (o.warmup ?? 3); i++) await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await session.run(feeds);
      times.push(performance.now() - started);
    }
    const medianMs = percentile(times, 50);
    const gflops = (ms: number) => (2 * size ** 3) / (ms * 1e6);
    return { size, runs, medianMs, gflops: gflops(medianMs), peakGflops: gflops(Math.min(...times)) };
  } finally {
    await session.release();
  }
}

/** Values in [-1, 1) from a small LCG: the timing must not depend on the data, but zeros would be suspicious. */
function seededMatrix(size: number, seed: number): Float32Array {
  const out = new Float32Array(size * size);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}
