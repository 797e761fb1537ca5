/**
 * Reads the members' weights back out of an exported ONNX file (int8 tensors dequantised), in
 * the shape `EncoderClassifier` takes. Used by the parity test, and to fine-tune a shipped model.
 */
import { readInitializers } from '../onnx/graph-builder';
import type { EncoderShape } from './config';
import { parameterShapes, type NamedWeights } from './model';
import { dequantize, quantizationAxis } from './quantize';

export function readEnsembleWeights(onnxBytes: Uint8Array, shape: EncoderShape, members: number): NamedWeights[] {
  const tensors = readInitializers(onnxBytes);
  return Array.from({ length: members }, (_, m) => {
    const weights: NamedWeights = {};
    for (const [name, dims] of parameterShapes(shape)) {
      const stored = `m${m}.${name}`;
      const plain = tensors.get(stored);
      const int8 = tensors.get(`${stored}.int8`);
      const scale = tensors.get(`${stored}.scale`);
      const axis = quantizationAxis(name, dims);
      if (plain) weights[name] = { shape: dims, data: plain.data as Float32Array };
      else if (int8 && scale && axis !== undefined) {
        weights[name] = {
          shape: dims,
          data: dequantize({ shape: dims as [number, number], values: int8.data as Int8Array, scales: scale.data as Float32Array, axis }),
        };
      } else throw new Error(`the ONNX file has no weight ${stored}`);
    }
    return weights;
  });
}
