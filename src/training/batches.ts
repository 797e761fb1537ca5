import * as tf from '@tensorflow/tfjs';

/** A training row after tokenisation: ids (already truncated) and the label's index. */
export interface EncodedExample {
  ids: number[];
  label: number;
}

export interface Batch {
  /** `[batch, time]` int32, right-padded with the pad id to the longest row. */
  ids: tf.Tensor2D;
  /** `[batch, time]` float32, 1 for real tokens. */
  mask: tf.Tensor2D;
  oneHot: tf.Tensor2D;
}

export function makeBatch(rows: EncodedExample[], padId: number, numLabels: number): Batch {
  const time = Math.max(1, ...rows.map((r) => r.ids.length));
  const ids = new Int32Array(rows.length * time).fill(padId);
  const mask = new Float32Array(rows.length * time);
  rows.forEach((row, b) => {
    ids.set(row.ids, b * time);
    mask.fill(1, b * time, b * time + row.ids.length);
  });
  return {
    ids: tf.tensor2d(ids, [rows.length, time], 'int32'),
    mask: tf.tensor2d(mask, [rows.length, time]),
    oneHot: tf.tidy(
      () =>
        tf
          .oneHot(
            tf.tensor1d(
              rows.map((r) => r.label),
              'int32',
            ),
            numLabels,
          )
          .toFloat() as tf.Tensor2D,
    ),
  };
}
