/**
 * NF4, the 4-bit NormalFloat data type of QLoRA (Dettmers et al. 2023): 16 code values placed at
 * quantiles of N(0, 1), rescaled to [-1, 1], with an exact zero. Weights are quantised in blocks of
 * 64: each block is divided by its absolute maximum (kept as float32) and every value is replaced
 * by the index of the nearest code. Two codes share a byte, the first in the high nibble, as in
 * bitsandbytes. (QLoRA's "double quantisation" of the absmax constants is not done here.)
 *
 * A base frozen "in NF4" is stored quantised and dequantised for the forward pass: training sees
 * exactly the weights a 4-bit base would give it.
 */
import { ModelFormatError } from '../../core/errors';

/** The 16 NF4 values, as bitsandbytes defines them (ascending). */
export const NF4_CODE = Float32Array.from([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495,
  0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
  0.7229568362236023, 1.0,
]);

const NF4_BLOCK_SIZE = 64;

export interface Nf4Tensor {
  shape: number[];
  /** Element count (the last byte may hold only one code). */
  length: number;
  /** Two 4-bit code indices per byte, element 2i in the high nibble. */
  codes: Uint8Array;
  /** One float32 scale per block of NF4_BLOCK_SIZE elements: the block's absolute maximum. */
  absmax: Float32Array;
  blockSize: number;
}

/** Index of the code nearest to `x` (x in [-1, 1]): the midpoints between neighbours are the thresholds. */
function nearestCode(x: number): number {
  let index = 0;
  while (index < 15 && x > (NF4_CODE[index]! + NF4_CODE[index + 1]!) / 2) index++;
  return index;
}

export function quantizeNf4(data: ArrayLike<number>, shape: number[], blockSize = NF4_BLOCK_SIZE): Nf4Tensor {
  const length = data.length;
  if (shape.reduce((a, b) => a * b, 1) !== length) throw new ModelFormatError(`NF4: shape [${shape}] does not hold ${length} values`);
  const blocks = Math.ceil(length / blockSize);
  const absmax = new Float32Array(blocks);
  const codes = new Uint8Array(Math.ceil(length / 2));
  for (let b = 0; b < blocks; b++) {
    const end = Math.min(length, (b + 1) * blockSize);
    let max = 0;
    for (let i = b * blockSize; i < end; i++) max = Math.max(max, Math.abs(data[i]!));
    absmax[b] = max;
    const scale = max === 0 ? 0 : 1 / max;
    for (let i = b * blockSize; i < end; i++) {
      const code = nearestCode(data[i]! * scale);
      codes[i >> 1] = codes[i >> 1]! | (i % 2 === 0 ? code << 4 : code);
    }
  }
  return { shape: [...shape], length, codes, absmax, blockSize };
}

/** The code index of element i. */
export function nf4CodeAt(q: Nf4Tensor, i: number): number {
  const byte = q.codes[i >> 1]!;
  return i % 2 === 0 ? byte >> 4 : byte & 0x0f;
}

export function dequantizeNf4(q: Nf4Tensor): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = NF4_CODE[nf4CodeAt(q, i)]! * q.absmax[Math.floor(i / q.blockSize)]!;
  return out;
}

/** What a frozen NF4 base contributes to the forward pass: the weight after a quantise/dequantise round trip. */
export function nf4RoundTrip(data: ArrayLike<number>, shape: number[], blockSize = NF4_BLOCK_SIZE): Float32Array {
  return dequantizeNf4(quantizeNf4(data, shape, blockSize));
}
