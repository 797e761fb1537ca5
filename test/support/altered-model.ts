/** Model files changed the way the integrity tests need: valid ONNX whose weights compute NaN. */
import onnxProto from 'onnx-proto';

/** The first LayerNorm's gains, all members stacked `[members, d]`: NaN there reaches every output. */
export const NAN_TENSOR = 'layers.0.ln1.gamma';

/** `model` (an ONNX file) with the float initializer `tensor` set to NaN: it still parses and loads. */
export function withNaNWeights(model: Uint8Array, tensor = NAN_TENSOR): Uint8Array {
  const decoded = onnxProto.onnx.ModelProto.decode(model);
  const initializer = decoded.graph?.initializer?.find((t) => t.name === tensor);
  if (!initializer) throw new Error(`the model has no initializer ${tensor}`);
  if (initializer.dataType !== onnxProto.onnx.TensorProto.DataType.FLOAT) throw new Error(`${tensor} is not float32`);
  const count = (initializer.dims ?? []).reduce((a: number, b) => a * Number(b), 1);
  initializer.rawData = new Uint8Array(new Float32Array(count).fill(NaN).buffer);
  initializer.floatData = [];
  return onnxProto.onnx.ModelProto.encode(decoded).finish();
}
