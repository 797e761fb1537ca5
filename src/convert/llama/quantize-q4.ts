/**
 * 4-bit block quantisation in the layout of onnxruntime's `com.microsoft` `MatMulNBits` (bits 4,
 * block_size 32), for a linear weight W stored [N = out, K = in] as Hugging Face stores it:
 *
 *   - each row n is cut into ceil(K / 32) blocks of 32 values (the last one zero-padded);
 *   - each block gets one scale, max|w| / 7, and its values become round(w / scale) + 8 in 0..15;
 *   - `packed` is [N, kBlocks, 16] uint8, two values a byte, the first in the low nibble;
 *   - `scales` is [N * kBlocks] float; there are no zero points, so the implicit one is 8.
 *
 * A value is recovered as (q - 8) * scale, which is what `dequantizeQ4` returns, so a float
 * reference can run on exactly the weights the quantised graph computes with.
 *
 * For a q4f16 graph the scales are stored as float16: `quantizeQ4(..., 'float16')` rounds each scale
 * to a float16 value first and quantises against that, so (q - 8) * scale is still exactly what the
 * graph computes with. The same packed layout (and, with zero point 8 implied, the same meaning) is
 * what `com.microsoft` `GatherBlockQuantized` reads for uint8 data, so one 4-bit table serves both an
 * embedding lookup and a tied output head.
 */
import { f16Round } from './half';
import { ModelFormatError } from '../../core/errors';

export const Q4_BLOCK_SIZE = 32;
const Q4_ZERO_POINT = 8;
const Q4_MAX = 7;

export interface Q4Tensor {
  /** [N, K]: output features, input features. */
  shape: [number, number];
  /** [N, ceil(K / 32), 16] uint8. */
  packed: Uint8Array;
  /** [N * ceil(K / 32)] float. */
  scales: Float32Array;
}

export function q4Blocks(k: number): number {
  return Math.ceil(k / Q4_BLOCK_SIZE);
}

/** float32 scales (q4) or scales rounded to float16 values (q4f16; still held in a Float32Array). */
export type Q4ScaleType = 'float32' | 'float16';

/** The smallest positive float16 (a subnormal): a block whose scale would round below it uses it. */
const F16_MIN_SCALE = 2 ** -24;
const F16_MAX = 65504;

export function quantizeQ4(data: Float32Array | Float64Array, shape: [number, number], scaleType: Q4ScaleType = 'float32'): Q4Tensor {
  const [n, k] = shape;
  if (data.length !== n * k) throw new ModelFormatError(`quantizeQ4: ${data.length} values for shape [${shape}]`);
  const blocks = q4Blocks(k);
  const bytesPerBlock = Q4_BLOCK_SIZE / 2;
  const packed = new Uint8Array(n * blocks * bytesPerBlock);
  const scales = new Float32Array(n * blocks);
  // (Written for speed: a 1B model has a billion values. Same arithmetic as the plain form:
  // q = clamp(round(w / scale) + 8, 0, 15), two values a byte, the first in the low nibble.)
  const quantise = (w: number, scale: number) => {
    const q = Math.round(w / scale) + Q4_ZERO_POINT;
    return q < 0 ? 0 : q > 15 ? 15 : q; // NaN stays NaN, and packs as 0
  };
  let out = 0;
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const base = row * k + b * Q4_BLOCK_SIZE;
      const length = Math.min(Q4_BLOCK_SIZE, k - b * Q4_BLOCK_SIZE);
      let absMax = 0;
      for (let i = 0; i < length; i++) {
        const v = data[base + i]!;
        const a = v < 0 ? -v : v;
        if (a > absMax || a !== a) absMax = a; // a NaN weight makes the block's scale NaN, as it should
        if (absMax !== absMax) break;
      }
      // Math.fround: the graph stores the scale as float32, so quantise against that value.
      let scale = Math.fround(absMax / Q4_MAX);
      if (scaleType === 'float16' && scale !== 0) scale = Math.max(F16_MIN_SCALE, f16Round(Math.min(scale, F16_MAX)));
      scale ||= 1; // an all-zero block: any scale works
      scales[row * blocks + b] = scale;
      if (length === Q4_BLOCK_SIZE) {
        for (let j = 0; j < Q4_BLOCK_SIZE; j += 2)
          packed[out++] = quantise(data[base + j]!, scale) | (quantise(data[base + j + 1]!, scale) << 4);
      } else {
        for (let j = 0; j < Q4_BLOCK_SIZE; j += 2) {
          const low = j < length ? quantise(data[base + j]!, scale) : Q4_ZERO_POINT;
          const high = j + 1 < length ? quantise(data[base + j + 1]!, scale) : Q4_ZERO_POINT;
          packed[out++] = low | (high << 4);
        }
      }
    }
  }
  return { shape, packed, scales };
}

/** The float [N, K] weight that `MatMulNBits` computes with: (q - 8) * scale. */
export function dequantizeQ4(t: Q4Tensor): Float32Array {
  const [n, k] = t.shape;
  const blocks = q4Blocks(k);
  const out = new Float32Array(n * k);
  for (let row = 0; row < n; row++) {
    for (let i = 0; i < k; i++) {
      const b = Math.floor(i / Q4_BLOCK_SIZE);
      const j = i % Q4_BLOCK_SIZE;
      const byte = t.packed[(row * blocks + b) * (Q4_BLOCK_SIZE / 2) + (j >> 1)]!;
      const q = j % 2 === 0 ? byte & 0x0f : byte >> 4;
      out[row * k + i] = (q - Q4_ZERO_POINT) * t.scales[row * blocks + b]!;
    }
  }
  return out;
}

/** A name → tensor record; structurally the same as `LlamaWeights`. */
type Weights = Record<string, { shape: number[]; data: Float32Array | Float64Array }>;

/**
 * The weights a q4 export computes with: every tensor that `isQ4Weight` selects round-tripped
 * through 4 bits, the rest unchanged. Run the float reference on these to check a q4 graph.
 */
export function roundTripQ4(weights: Weights, isQ4Weight: (name: string) => boolean, scaleType: Q4ScaleType = 'float32'): Weights {
  const out: Weights = {};
  for (const [name, w] of Object.entries(weights)) {
    out[name] = isQ4Weight(name) ? { shape: w.shape, data: dequantizeQ4(quantizeQ4(w.data, w.shape as [number, number], scaleType)) } : w;
  }
  return out;
}
