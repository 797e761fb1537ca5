/**
 * Writes the trained ensemble as one ONNX graph (opset 17): the same computation as
 * `EncoderClassifier.forward` in model.ts, node for node, for each member; the members' logits
 * are averaged and divided by the calibration temperature.
 *
 *   inputs:  input_ids [batch, seq] int64, attention_mask [batch, seq] int64 (1 = real token)
 *   outputs: logits [batch, labels] (calibrated), probabilities [batch, labels] (their softmax)
 */
import type { EncoderShape } from './config';
import { GELU_C, LAYER_NORM_EPSILON, MASKED_SCORE, parameterShapes, type NamedWeights } from './model';
import { quantizationAxis, quantizeInt8 } from './quantize';
import { DataType, GraphBuilder } from '../onnx/graph-builder';

export interface ExportOptions {
  shape: EncoderShape;
  members: NamedWeights[];
  temperature: number;
  weights: 'int8' | 'fp32';
  metadata?: Record<string, string>;
}

export function exportEnsembleToOnnx(o: ExportOptions): Uint8Array {
  const g = new GraphBuilder('intent_encoder_ensemble');
  const { dModel: d, heads } = o.shape;
  const dh = d / heads;
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  const attentionMask = g.input('attention_mask', DataType.INT64, ['batch', 'sequence']);

  // Shared by every member: the float mask, the additive key bias and the sequence length.
  const mask = g.node('Cast', [attentionMask], { to: DataType.FLOAT });
  const keyBias = g.node('Unsqueeze', [
    g.node('Mul', [g.node('Sub', [g.constFloat(1), mask]), g.constFloat(MASKED_SCORE)]),
    g.constInt64([1, 2]),
  ]); // [B,1,1,T]
  const seqLen = g.node('Slice', [g.node('Shape', [ids]), g.constInt64([1]), g.constInt64([2])]);
  const mask3 = g.node('Unsqueeze', [mask, g.constInt64([2])]); // [B,T,1]
  const tokenCount = g.node('ReduceSum', [mask, g.constInt64([1])], { keepdims: 1 }); // [B,1]
  const headShape = g.constInt64([0, 0, heads, dh]);
  const modelShape = g.constInt64([0, 0, d]);
  const invSqrtDh = g.constFloat(1 / Math.sqrt(dh));

  const memberLogits = o.members.map((weights, m) => {
    const w = (name: string) => weightInput(g, `m${m}.${name}`, name, weights, o.weights);
    const linear = (x: string, prefix: string) => g.node('Add', [g.node('MatMul', [x, w(prefix + '.w')]), w(prefix + '.b')]);
    const layerNorm = (x: string, prefix: string) =>
      g.node('LayerNormalization', [x, w(prefix + '.gamma'), w(prefix + '.beta')], { axis: -1, epsilon: { float: LAYER_NORM_EPSILON } });

    const positions = g.node('Slice', [w('embed.positions'), g.constInt64([0]), seqLen, g.constInt64([0])]);
    let x = g.node('Add', [g.node('Gather', [w('embed.tokens'), ids], { axis: 0 }), positions]); // [B,T,d]

    for (let i = 0; i < o.shape.layers; i++) {
      const l = `layers.${i}`;
      const h = layerNorm(x, `${l}.ln1`);
      const split = (t: string, perm: number[]) => g.node('Transpose', [g.node('Reshape', [t, headShape])], { perm });
      const q = split(linear(h, `${l}.attn.q`), [0, 2, 1, 3]); // [B,H,T,dh]
      const kT = split(linear(h, `${l}.attn.k`), [0, 2, 3, 1]); // [B,H,dh,T]
      const v = split(linear(h, `${l}.attn.v`), [0, 2, 1, 3]);
      const scores = g.node('Add', [g.node('Mul', [g.node('MatMul', [q, kT]), invSqrtDh]), keyBias]);
      const context = g.node('MatMul', [g.node('Softmax', [scores], { axis: -1 }), v]); // [B,H,T,dh]
      const merged = g.node('Reshape', [g.node('Transpose', [context], { perm: [0, 2, 1, 3] }), modelShape]);
      x = g.node('Add', [x, linear(merged, `${l}.attn.o`)]);

      const up = linear(layerNorm(x, `${l}.ln2`), `${l}.mlp.up`);
      x = g.node('Add', [x, linear(gelu(g, up), `${l}.mlp.down`)]);
    }
    x = layerNorm(x, 'final_ln');
    const pooled = g.node('Div', [g.node('ReduceSum', [g.node('Mul', [x, mask3]), g.constInt64([1])], { keepdims: 0 }), tokenCount]);
    return linear(pooled, 'head');
  });

  const summed = memberLogits.reduce((acc, logits) => g.node('Add', [acc, logits]));
  const logits = g.node('Div', [summed, g.constFloat(o.members.length * o.temperature)], {}, { outputs: ['logits'] });
  g.node('Softmax', [logits], { axis: -1 }, { outputs: ['probabilities'] });
  g.output('logits', DataType.FLOAT, ['batch', o.shape.numLabels]);
  g.output('probabilities', DataType.FLOAT, ['batch', o.shape.numLabels]);
  return g.toBytes({ '': 17 }, o.metadata);
}

/** GELU, tanh approximation, exactly as model.ts computes it. */
function gelu(g: GraphBuilder, x: string): string {
  const cube = g.node('Mul', [g.node('Mul', [x, x]), x]);
  const inner = g.node('Mul', [g.node('Add', [x, g.node('Mul', [cube, g.constFloat(0.044715)])]), g.constFloat(GELU_C)]);
  return g.node('Mul', [g.node('Mul', [x, g.constFloat(0.5)]), g.node('Add', [g.node('Tanh', [inner]), g.constFloat(1)])]);
}

/** Adds one weight as an initializer (int8 + scales behind a DequantizeLinear, or float32); returns the tensor to compute with. */
function weightInput(g: GraphBuilder, stored: string, name: string, weights: NamedWeights, format: 'int8' | 'fp32'): string {
  const w = weights[name];
  if (!w) throw new Error(`missing weight ${name}`);
  const axis = quantizationAxis(name, w.shape);
  if (format === 'fp32' || axis === undefined) return g.initializer(stored, w.data, w.shape);
  const q = quantizeInt8(w.data, w.shape as [number, number], axis);
  return g.node(
    'DequantizeLinear',
    [g.initializer(`${stored}.int8`, q.values, w.shape), g.initializer(`${stored}.scale`, q.scales, [q.scales.length])],
    { axis },
  );
}

/** Parameter names, exported for tests that read the weights back. */
export const memberWeightNames = (shape: EncoderShape): string[] => parameterShapes(shape).map(([name]) => name);
