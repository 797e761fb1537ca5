/**
 * Causal language-model training of a Llama in tfjs: next-token cross-entropy over the positions a
 * loss mask selects, optimised with AdamW (src/training/adamw.ts). `trainClm` trains every weight
 * (base pretraining); train-qlora.ts reuses `trainLoop` with only LoRA A and B as variables.
 */
import * as tf from '@tensorflow/tfjs';
import type { LlamaConfig } from '../../models/llama/config';
import type { LlamaWeights } from '../../models/llama/reference';
import { LlamaTfModel, type LlamaBatch } from '../../models/llama/tf-model';
import { mulberry32, shuffle } from '../../models/custom/random';
import { AdamW } from '../adamw';
import { TrainingError } from '../../core/errors';

/** One training sequence. `lossMask[t] = 1` makes token t a target (predicted from tokens 0..t-1); default all. */
export interface ClmExample {
  ids: number[];
  lossMask?: number[];
}

export interface ClmBatch extends LlamaBatch {
  /** 1 where the token is a target: real, selected by the loss mask, and not the first token. */
  targets: number[][];
}

/** Right-pads a batch to its longest sequence with `padId`. */
export function makeClmBatch(rows: ClmExample[], padId: number): ClmBatch {
  const T = Math.max(...rows.map((r) => r.ids.length));
  const pad = <V>(values: V[], fill: V) => [...values, ...new Array<V>(T - values.length).fill(fill)];
  return {
    ids: rows.map((r) => pad(r.ids, padId)),
    mask: rows.map((r) =>
      pad(
        r.ids.map(() => 1),
        0,
      ),
    ),
    targets: rows.map((r) => pad(r.lossMask ?? r.ids.map(() => 1), 0).map((m, t) => (t > 0 && t < r.ids.length && m ? 1 : 0))),
  };
}

/** Mean cross-entropy of predicting token t+1 from logits at t, over the targets of `batch`. */
function causalLmLoss(logits: tf.Tensor3D, batch: ClmBatch): tf.Scalar {
  return tf.tidy(() => {
    const [B, T, V] = logits.shape;
    const next = batch.ids.map((row) => row.slice(1));
    const weights = batch.targets.map((row) => row.slice(1));
    const count = weights.flat().reduce((a, b) => a + b, 0);
    if (count === 0) throw new TrainingError('causalLmLoss: the batch has no target tokens');
    const logProbs = tf.logSoftmax(logits.slice([0, 0, 0], [B, T - 1, V]));
    const oneHot = tf.oneHot(tf.tensor2d(next.flat(), [B, T - 1], 'int32'), V);
    const picked = logProbs.mul(oneHot).sum(-1); // [B, T-1]
    return picked
      .mul(tf.tensor2d(weights.flat(), [B, T - 1]))
      .sum()
      .div(-count) as tf.Scalar;
  });
}

export interface TrainLoopOptions {
  examples: ClmExample[];
  padId: number;
  steps: number;
  batchSize: number;
  learningRate: number;
  weightDecay: number;
  /** Linear warm-up steps, then cosine decay to zero. */
  warmupSteps?: number;
  seed: number;
  /**
   * Word dropout on the context: each token that is not a target (and not the first) is replaced
   * by `id` with probability `rate`, afresh for every batch. A regulariser for small data sets.
   */
  tokenDropout?: { rate: number; id: number };
  log?: (line: string) => void;
}

export interface TrainLoopResult {
  /** Loss of each step, before its update. */
  losses: number[];
  /** Tokens (padding included) the steps ran over. */
  trainTokens: number;
  seconds: number;
}

/** `tokenDropout` applied to a batch: context tokens (not targets, not position 0) replaced at random. */
export function dropTokens(rows: ClmExample[], dropout: TrainLoopOptions['tokenDropout'], random: () => number): ClmExample[] {
  if (!dropout || dropout.rate <= 0) return rows;
  return rows.map((row) => ({
    ...row,
    ids: row.ids.map((id, t) => (t > 0 && !row.lossMask?.[t] && random() < dropout.rate ? dropout.id : id)),
  }));
}

/**
 * One pass over `examples` in batches of similar length: shuffle, sort each window of 50 batches'
 * worth by length, cut into batches, shuffle the batches. Padding then costs a few percent of the
 * compute instead of about half, and the batches still mix examples from across the set.
 */
function lengthBucketedBatches(examples: readonly ClmExample[], batchSize: number, random: () => number): ClmExample[][] {
  const shuffled = shuffle([...examples], random);
  const window = batchSize * 50;
  const batches: ClmExample[][] = [];
  for (let start = 0; start < shuffled.length; start += window) {
    const sorted = shuffled.slice(start, start + window).sort((a, b) => a.ids.length - b.ids.length);
    for (let i = 0; i < sorted.length; i += batchSize) batches.push(sorted.slice(i, i + batchSize));
  }
  return shuffle(batches, random);
}

/** `steps` AdamW updates of `variables` on length-bucketed batches of `examples` (reshuffled each pass). */
export function trainLoop(model: LlamaTfModel, variables: tf.Variable[], o: TrainLoopOptions): TrainLoopResult {
  if (variables.length === 0) throw new TrainingError('trainLoop: nothing to train');
  const optimizer = new AdamW(variables, { weightDecay: o.weightDecay });
  const random = mulberry32(o.seed);
  const warmup = o.warmupSteps ?? 0;
  const losses: number[] = [];
  let batches: ClmExample[][] = [];
  let trainTokens = 0;
  const started = performance.now();
  for (let step = 0; step < o.steps; step++) {
    if (batches.length === 0) batches = lengthBucketedBatches(o.examples, o.batchSize, random);
    const batch = makeClmBatch(dropTokens(batches.pop()!, o.tokenDropout, random), o.padId);
    trainTokens += batch.ids.length * (batch.ids[0]?.length ?? 0);
    const lr =
      o.learningRate *
      (step < warmup ? (step + 1) / warmup : 0.5 * (1 + Math.cos((Math.PI * (step - warmup)) / Math.max(1, o.steps - warmup))));
    const { value, grads } = tf.variableGrads(() => causalLmLoss(model.forward(batch), batch), variables);
    optimizer.step(grads, lr);
    losses.push(value.dataSync()[0]!);
    tf.dispose([value, grads]);
    o.log?.(`step ${step + 1}/${o.steps} loss ${losses.at(-1)!.toFixed(4)} lr ${lr.toExponential(2)}`);
  }
  optimizer.dispose();
  return { losses, trainTokens, seconds: (performance.now() - started) / 1000 };
}

export interface TrainClmOptions extends TrainLoopOptions {
  config: LlamaConfig;
  weights: LlamaWeights;
}

/** Trains every weight of a Llama (pretraining); returns the trained weights in Hugging Face's names. */
export function trainClm(o: TrainClmOptions): TrainLoopResult & { weights: LlamaWeights } {
  const model = new LlamaTfModel(o.config, o.weights, { trainBase: true });
  try {
    const result = trainLoop(model, model.trainableVariables(), o);
    return { ...result, weights: model.baseWeights() };
  } finally {
    model.dispose();
  }
}
