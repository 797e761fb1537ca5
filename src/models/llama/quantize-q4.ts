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
 */
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

export function quantizeQ4(data: Float32Array | Float64Array, shape: [number, number]): Q4Tensor {
  const [n, k] = shape;
  if (data.length !== n * k) throw new Error(`quantizeQ4: ${data.length} values for shape [${shape}]`);
  const blocks = q4Blocks(k);
  const bytesPerBlock = Q4_BLOCK_SIZE / 2;
  const packed = new Uint8Array(n * blocks * bytesPerBlock);
  const scales = new Float32Array(n * blocks);
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const start = b * Q4_BLOCK_SIZE;
      const end = Math.min(start + Q4_BLOCK_SIZE, k);
      let absMax = 0;
      for (let i = start; i < end; i++) absMax = Math.max(absMax, Math.abs(data[row * k + i]!));
      // Math.fround: the graph stores the scale as float32, so quantise against that value.
      const scale = Math.fround(absMax / Q4_MAX) || 1; // an all-zero block: any scale works
      scales[row * blocks + b] = scale;
      for (let j = 0; j < Q4_BLOCK_SIZE; j++) {
        const i = start + j;
        const q = i < end ? Math.min(15, Math.max(0, Math.round(data[row * k + i]! / scale) + Q4_ZERO_POINT)) : Q4_ZERO_POINT;
        const byte = (row * blocks + b) * bytesPerBlock + (j >> 1);
        packed[byte] = packed[byte]! | (j % 2 === 0 ? q : q << 4);
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
export function roundTripQ4(weights: Weights, isQ4Weight: (name: string) => boolean): Weights {
  const out: Weights = {};
  for (const [name, w] of Object.entries(weights)) {
    out[name] = isQ4Weight(name) ? { shape: w.shape, data: dequantizeQ4(quantizeQ4(w.data, w.shape as [number, number])) } : w;
  }
  return out;
}
