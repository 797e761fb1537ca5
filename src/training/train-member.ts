/**
 * Trains one encoder (one ensemble member) with AdamW, label smoothing and token dropout, keeping
 * the weights of the epoch with the best validation accuracy. Runs in Node on tfjs' WASM backend.
 */
import * as tf from '@tensorflow/tfjs';
import type { EncoderShape } from '../models/custom/config';
import { EncoderClassifier, initWeights, type NamedWeights } from '../models/custom/model';
import { mulberry32, shuffle } from '../models/custom/random';
import { AdamW } from './adamw';
import { makeBatch, type EncodedExample } from './batches';
import { WordPieceTokenizer, type WordPieceJson } from '../tokenizer/wordpiece';
import { augmentText, type NoiseSettings } from './typos';

/** The optimisation settings of one member, shared with the run's settings in prepare.ts. */
export interface Hyperparameters {
  epochs: number;
  batchSize: number;
  learningRate: number;
  weightDecay: number;
  dropout: number;
  /** Probability of replacing a training token with `[UNK]`: teaches robustness to unseen words. */
  tokenDropout: number;
  labelSmoothing: number;
}

export interface TrainMemberOptions extends Hyperparameters {
  shape: EncoderShape;
  /** Raw texts, tokenized anew each epoch after the typing noise is applied. */
  train: { text: string; label: number }[];
  tokenizer: WordPieceJson;
  noise: NoiseSettings;
  validation: EncodedExample[];
  seed: number;
  log?: (line: string) => void;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  validationAccuracy: number;
  seconds: number;
}

export interface TrainMemberResult {
  weights: NamedWeights;
  bestEpoch: number;
  bestValidationAccuracy: number;
  history: EpochRecord[];
  trainTokens: number;
}

export function trainMember(o: TrainMemberOptions): TrainMemberResult {
  const model = new EncoderClassifier(o.shape, initWeights(o.shape, o.seed));
  const tokenizer = new WordPieceTokenizer(o.tokenizer);
  const { unkId, padId } = tokenizer;
  const variables = Object.values(model.params);
  const optimizer = new AdamW(variables, { weightDecay: o.weightDecay });
  const random = mulberry32(o.seed ^ 0x9e3779b9);
  const batchesPerEpoch = Math.ceil(o.train.length / o.batchSize);
  const totalSteps = batchesPerEpoch * o.epochs;
  const warmupSteps = batchesPerEpoch; // one epoch of linear warm-up, then cosine decay to zero
  const history: EpochRecord[] = [];
  let best: { accuracy: number; epoch: number; weights: NamedWeights } | undefined;
  let step = 0;
  let trainTokens = 0;

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const started = performance.now();
    let lossSum = 0;
    const noisy = o.train.map((row) => ({
      ids: tokenizer.encode(augmentText(row.text, o.noise, random), o.shape.maxTokens).ids,
      label: row.label,
    }));
    for (const batchRows of lengthBucketedBatches(noisy, o.batchSize, random)) {
      const lr =
        o.learningRate *
        (step < warmupSteps
          ? (step + 1) / warmupSteps
          : 0.5 * (1 + Math.cos((Math.PI * (step - warmupSteps)) / (totalSteps - warmupSteps))));
      const augmented = batchRows.map((row) => ({ ...row, ids: row.ids.map((id) => (random() < o.tokenDropout ? unkId : id)) }));
      const batch = makeBatch(augmented, padId, o.shape.numLabels);
      trainTokens += batch.ids.size;
      const dropoutSeed = Math.floor(random() * 2 ** 31);
      const { value, grads } = tf.variableGrads(
        () =>
          tf.losses.softmaxCrossEntropy(
            batch.oneHot,
            model.forward(batch.ids, batch.mask, { dropout: o.dropout, seed: dropoutSeed }),
            undefined,
            o.labelSmoothing,
          ) as tf.Scalar,
        variables,
      );
      optimizer.step(grads, lr);
      lossSum += value.dataSync()[0]! * batchRows.length;
      tf.dispose([value, grads, batch.ids, batch.mask, batch.oneHot]);
      step++;
    }
    const accuracy = evaluateAccuracy(model, o.validation, padId, o.shape.numLabels);
    const record = { epoch, loss: lossSum / o.train.length, validationAccuracy: accuracy, seconds: (performance.now() - started) / 1000 };
    history.push(record);
    o.log?.(
      `seed ${o.seed} epoch ${epoch}/${o.epochs} loss ${record.loss.toFixed(4)} val_acc ${accuracy.toFixed(4)} (${record.seconds.toFixed(1)} s, ${tf.memory().numTensors} tensors)`,
    );
    // Ties go to the later epoch: same accuracy after more training usually means better margins.
    if (!best || accuracy >= best.accuracy) best = { accuracy, epoch, weights: model.weights() };
  }
  optimizer.dispose();
  model.dispose();
  return { weights: best!.weights, bestEpoch: best!.epoch, bestValidationAccuracy: best!.accuracy, history, trainTokens };
}

/** Logits for many rows, in batches, without dropout. */
export function predictLogits(
  model: EncoderClassifier,
  rows: EncodedExample[],
  padId: number,
  numLabels: number,
  batchSize = 128,
): Float32Array {
  const out = new Float32Array(rows.length * numLabels);
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = makeBatch(rows.slice(start, start + batchSize), padId, numLabels);
    const logits = tf.tidy(() => model.forward(batch.ids, batch.mask));
    out.set(logits.dataSync() as Float32Array, start * numLabels);
    tf.dispose([logits, batch.ids, batch.mask, batch.oneHot]);
  }
  return out;
}

function evaluateAccuracy(model: EncoderClassifier, rows: EncodedExample[], padId: number, numLabels: number): number {
  const logits = predictLogits(model, rows, padId, numLabels);
  let correct = 0;
  rows.forEach((row, i) => {
    const slice = logits.subarray(i * numLabels, (i + 1) * numLabels);
    if (slice.indexOf(Math.max(...slice)) === row.label) correct++;
  });
  return correct / rows.length;
}

/**
 * Batches of similar length (less padding, so less compute), in random order. Rows are shuffled,
 * cut into pools of 50 batches, sorted by length inside each pool, then the batches are shuffled.
 */
function lengthBucketedBatches(rows: EncodedExample[], batchSize: number, random: () => number): EncodedExample[][] {
  const shuffled = shuffle([...rows], random);
  const batches: EncodedExample[][] = [];
  const pool = batchSize * 50;
  for (let start = 0; start < shuffled.length; start += pool) {
    const sorted = shuffled.slice(start, start + pool).sort((a, b) => a.ids.length - b.ids.length);
    for (let i = 0; i < sorted.length; i += batchSize) batches.push(sorted.slice(i, i + batchSize));
  }
  return shuffle(batches, random);
}
