/**
 * Reads the members' weights back out of an exported ONNX file, in the shape `EncoderClassifier`
 * takes (int8 tensors dequantised), or as the file stores them (for a re-export that keeps the int8
 * values and scales bit for bit). Used by the parity tests, the re-export script, and to fine-tune
 * a shipped model.
 *
 * Two layouts are read: the stacked one `onnx-export.ts` writes (one initializer per parameter,
 * `[members, ...shape]`, int8 ones as `<name>.int8` + `<name>.scale`), and the earlier one with an
 * initializer per member (`m<i>.<name>`, int8 ones as `m<i>.<name>.int8` + `m<i>.<name>.scale`).
 */
import { readInitializers } from '../onnx/graph-builder';
import type { EncoderShape } from './config';
import { parameterShapes, type NamedWeights } from './model';
import { dequantize, isQuantized, quantizationAxis, type StoredWeight } from './quantize';
import { ModelFormatError } from '../../core/errors';

export function readEnsembleWeights(onnxBytes: Uint8Array, shape: EncoderShape, members: number): NamedWeights[] {
  return readStoredEnsemble(onnxBytes, shape, members).map((stored) => {
    const weights: NamedWeights = {};
    for (const [name, w] of Object.entries(stored)) weights[name] = isQuantized(w) ? { shape: w.shape, data: dequantize(w) } : w;
    return weights;
  });
}

export function readStoredEnsemble(onnxBytes: Uint8Array, shape: EncoderShape, members: number): Record<string, StoredWeight>[] {
  const tensors = readInitializers(onnxBytes);
  const out = Array.from({ length: members }, () => ({}) as Record<string, StoredWeight>);
  for (const [name, dims] of parameterShapes(shape)) {
    const size = dims.reduce((a, b) => a * b, 1);
    const axis = quantizationAxis(name, dims);
    const channels = axis === undefined ? 0 : dims[axis]!;
    // A tensor of every member stacked on the first axis: member m's part.
    const part = <T extends Float32Array | Int8Array>(data: T, m: number, n: number, what: string): T => {
      if (data.length !== members * n)
        throw new ModelFormatError(`the ONNX file's ${what} holds ${data.length} values, not ${members} x ${n}`);
      return data.subarray(m * n, (m + 1) * n) as T;
    };
    const plain = tensors.get(name);
    const int8 = tensors.get(`${name}.int8`);
    const scale = tensors.get(`${name}.scale`);
    for (let m = 0; m < members; m++) {
      const store = (w: StoredWeight) => (out[m]![name] = w);
      if (plain) store({ shape: dims, data: part(plain.data as Float32Array, m, size, name) });
      else if (int8 && scale && axis !== undefined) {
        store({
          shape: dims as [number, number],
          values: part(int8.data as Int8Array, m, size, `${name}.int8`),
          scales: part(scale.data as Float32Array, m, channels, `${name}.scale`),
          axis,
        });
      } else {
        // The earlier layout: one initializer (or int8 + scale pair) per member.
        const stored = `m${m}.${name}`;
        const memberPlain = tensors.get(stored);
        const memberInt8 = tensors.get(`${stored}.int8`);
        const memberScale = tensors.get(`${stored}.scale`);
        if (memberPlain) store({ shape: dims, data: memberPlain.data as Float32Array });
        else if (memberInt8 && memberScale && axis !== undefined) {
          store({ shape: dims as [number, number], values: memberInt8.data as Int8Array, scales: memberScale.data as Float32Array, axis });
        } else throw new ModelFormatError(`the ONNX file has no weight ${name} (nor ${stored})`);
      }
    }
  }
  return out;
}
