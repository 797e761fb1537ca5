/**
 * Symmetric int8 weight quantisation, per channel: each output column of a linear layer (and each
 * row of an embedding table) gets its own scale, max|w| / 127. Activations stay float32: the graph
 * turns the int8 values back into float32 (value * scale) with ops that onnxruntime constant-folds
 * when it loads the file, so the file is 4x smaller and the arithmetic is float32, for a
 * negligible accuracy cost.
 */
import type { NamedWeights } from './model';

export interface QuantizedTensor {
  shape: [number, number];
  values: Int8Array;
  scales: Float32Array;
  /** The axis that has one scale per index: 0 for embedding rows, 1 for linear-layer columns. */
  axis: 0 | 1;
}

/** Which axis carries the scales for a weight of this name; undefined for weights kept in float. */
export function quantizationAxis(name: string, shape: number[]): 0 | 1 | undefined {
  if (shape.length !== 2) return undefined;
  return name.startsWith('embed.') ? 0 : 1;
}

function quantizeInt8(data: Float32Array, shape: [number, number], axis: 0 | 1): QuantizedTensor {
  const [rows, cols] = shape;
  const channels = axis === 0 ? rows : cols;
  const scales = new Float32Array(channels);
  const channel = (r: number, c: number) => (axis === 0 ? r : c);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const ch = channel(r, c);
      scales[ch] = Math.max(scales[ch]!, Math.abs(data[r * cols + c]!));
    }
  }
  for (let ch = 0; ch < channels; ch++) scales[ch] = scales[ch]! / 127 || 1; // an all-zero channel: any scale works
  const values = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) values[r * cols + c] = Math.round(data[r * cols + c]! / scales[channel(r, c)]!);
  }
  return { shape, values, scales, axis };
}

/** A weight as an ONNX file stores it: int8 values with per-channel scales, or plain float32. */
export type StoredWeight = QuantizedTensor | { shape: number[]; data: Float32Array };

export function isQuantized(w: StoredWeight): w is QuantizedTensor {
  return 'values' in w;
}

/** One member's weights as the file stores them: every quantisable tensor in int8 when `format` asks for it. */
export function storeWeights(weights: NamedWeights, format: 'int8' | 'fp32'): Record<string, StoredWeight> {
  const out: Record<string, StoredWeight> = {};
  for (const [name, w] of Object.entries(weights)) {
    const axis = quantizationAxis(name, w.shape);
    out[name] = format === 'fp32' || axis === undefined ? w : quantizeInt8(w.data, w.shape as [number, number], axis);
  }
  return out;
}

/** Float values exactly as `DequantizeLinear` (and the export's Cast -> Mul) computes them: value * scale (zero point 0). */
export function dequantize(q: QuantizedTensor): Float32Array {
  const [rows, cols] = q.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = q.values[r * cols + c]! * q.scales[q.axis === 0 ? r : c]!;
  }
  return out;
}

/** The weights a quantised export computes with: every quantisable tensor round-tripped through int8. */
export function roundTripInt8(weights: NamedWeights): NamedWeights {
  const out: NamedWeights = {};
  for (const [name, w] of Object.entries(weights)) {
    const axis = quantizationAxis(name, w.shape);
    out[name] = axis === undefined ? w : { shape: w.shape, data: dequantize(quantizeInt8(w.data, w.shape as [number, number], axis)) };
  }
  return out;
}
