/**
 * Two tfjs ops with hand-written gradients, because the WASM backend's built-in ones are slow or
 * missing (measured on this project's 2-core machines; see the README, "Training"):
 *  - matMul with a transposed operand runs at ~1-2 GFLOP/s against ~17 for a plain one, and the
 *    built-in matMul gradient uses transposed operands. Transposing explicitly first is ~4x faster.
 *  - gather has no gradient on WASM at all (it needs UnsortedSegmentSum); scatterND sums rows.
 */
import * as tf from '@tensorflow/tfjs';

/** Last two axes swapped, materialised, so the following matMul is a plain one. */
function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const n = perm.length;
  [perm[n - 2], perm[n - 1]] = [perm[n - 1]!, perm[n - 2]!];
  return tf.transpose(x, perm);
}

/** `a @ b` for rank-2 or batched rank-3 operands, with a gradient that avoids transposed matmuls. */
type GradFunc = Parameters<typeof tf.customGrad>[0];

export const matMul = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      return [tf.matMul(dy as tf.Tensor2D, swapLast(sb) as tf.Tensor2D), tf.matMul(swapLast(sa) as tf.Tensor2D, dy as tf.Tensor2D)];
    },
  };
}) as unknown as GradFunc) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * Rows of `table` picked by `ids` (int32, any shape): the embedding lookup. The gradient scatters
 * `dy` back into a zero table, summing rows picked more than once.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const flat = ids.reshape([-1]);
  const lookup = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([flat]);
    return {
      value: tf.gather(t as tf.Tensor2D, flat),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const indices = (saved[0] as tf.Tensor1D).expandDims(1);
        return tf.scatterND(indices, dy, t.shape);
      },
    };
  }) as unknown as GradFunc) as (t: tf.Tensor) => tf.Tensor;
  const rows = lookup(table);
  return rows.reshape([...ids.shape, table.shape[1]]);
}
