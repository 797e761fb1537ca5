/**
 * Writes the trained ensemble as one ONNX graph (opset 17, plus onnxruntime's contrib operators
 * FastGelu and SkipSimplifiedLayerNormalization in com.microsoft, and SimplifiedLayerNormalization,
 * which onnxruntime registers in the default domain, so other runtimes may lack it): the
 * same computation as `EncoderClassifier.forward` in model.ts for every member, with the members
 * run together rather than one after another. Each weight is stored once for all members, stacked
 * on a leading member axis M, and every step of the encoder is one operator for the whole
 * ensemble: batched matrix products `[M, B*T, d] x [M, d, d']`, one attention over `[M, B, H]`,
 * one normalisation per position in the network. The members' logits are summed and divided
 * by members x the calibration temperature (their mean, calibrated), then a softmax.
 *
 *   inputs:  input_ids [batch, seq] int64, attention_mask [batch, seq] int64 (1 = real token)
 *   outputs: logits [batch, labels] (calibrated), probabilities [batch, labels] (their softmax)
 *
 * Why this layout: with one stack of operators per member the five-member graph ran 424
 * operators (after onnxruntime's own fusions); stacked it runs 68, whatever the member count, and
 * onnxruntime creates the session 3-4x faster (fewer initializers to fold, fewer nodes to
 * optimise). Per query, most of the time is the matrix products themselves (~12 tokens a query:
 * small products, ~14 GFLOP/s on one WASM thread against ~21 for a 512x512 product).
 *
 * Weight preparation is written into the graph as operators on initializers only, which
 * onnxruntime constant-folds when it creates the session (so they cost nothing per query):
 *  - int8 weights: `Cast -> Mul` by their per-channel scales, exactly DequantizeLinear's value*scale;
 *  - Q, K and V concatenated into one `[M, d, 3d]` projection;
 *  - each LayerNorm's gain and bias folded into the projection that follows it (`h*g + b` times
 *    `W` is `h` times `g·W`, plus `b·W`), so the normalisations run with unit gain;
 *  - everything written into the residual stream (token and position embeddings, the attention
 *    output and feed-forward down projections and their biases) centred: each row minus its mean.
 *    The stream then has mean zero over its features, so LayerNorm's mean subtraction is a no-op
 *    and LayerNorm is RMS normalisation: com.microsoft `SkipSimplifiedLayerNormalization`, which
 *    also does the residual addition. onnxruntime's WASM kernel for it takes ~10 µs on `[5, 12,
 *    128]` where `LayerNormalization` takes ~60 (the latter accumulates in double); the whole
 *    graph is ~7-9% faster for it.
 * All of it is the same function, float32 rounding apart: max |probability difference| ~1e-6
 * against the tfjs model on the test split (custom-model-parity.test.ts).
 *
 * GELU is com.microsoft `FastGelu`: the same tanh approximation as model.ts, one operator instead
 * of nine. onnxruntime-node (the parity tests), onnxruntime-web WASM and its WebGPU EP (Chromium
 * on SwiftShader: probabilities within 1e-6 of WASM, test/e2e/webgpu-parity.test.ts) run every
 * operator here. Tried and not kept (timed on the probe set, onnxruntime-web WASM, one thread):
 * one 2-D MatMul per member (prepacked weights, but 5x the operators: no faster) and com.microsoft
 * `MultiHeadAttention` with the members as its batch (1.5% faster; its WebGPU kernel rejected a
 * key padding mask in onnxruntime-web 1.30): attention is written with standard operators.
 */
import type { EncoderShape } from './config';
import { LAYER_NORM_EPSILON, MASKED_SCORE, type NamedWeights } from './model';
import { isQuantized, storeWeights, type QuantizedTensor, type StoredWeight } from './quantize';
import { DataType, GraphBuilder } from '../onnx/graph-builder';
import { ConfigError, ModelFormatError } from '../../core/errors';
import { concatTyped } from '../../core/typed-arrays';

const MS = { domain: 'com.microsoft' };

export interface ExportOptions {
  shape: EncoderShape;
  members: NamedWeights[];
  temperature: number;
  weights: 'int8' | 'fp32';
  metadata?: Record<string, string>;
}

export function exportEnsembleToOnnx(o: ExportOptions): Uint8Array {
  return exportStoredEnsemble({ ...o, members: o.members.map((w) => storeWeights(w, o.weights)) });
}

export interface StoredExportOptions {
  shape: EncoderShape;
  /** Each member's weights as the file stores them (int8 + scales, or float32), by parameter name. */
  members: Record<string, StoredWeight>[];
  temperature: number;
  metadata?: Record<string, string>;
}

/**
 * The graph for weights that are already in their stored form: what a re-export of a shipped file
 * uses, so that its int8 values and scales are written back bit for bit rather than quantised again.
 */
export function exportStoredEnsemble(o: StoredExportOptions): Uint8Array {
  const g = new GraphBuilder('intent_encoder_ensemble');
  const { dModel: d, heads: H, numLabels } = o.shape;
  const M = o.members.length;
  const dh = d / H;
  if (M === 0) throw new ConfigError('an ensemble needs at least one member');
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  const attentionMask = g.input('attention_mask', DataType.INT64, ['batch', 'sequence']);
  const axes = (...values: number[]) => g.constInt64(values);

  // ---- Weights, stacked over members: [M, ...shape]; biases and gains as [M, 1, n] rows. ----
  const stacked = new Map<string, string>();
  const weight = (name: string): string => {
    let out = stacked.get(name);
    if (!out) stacked.set(name, (out = stackWeight(g, name, o.members)));
    return out;
  };
  const row = (name: string) => g.node('Unsqueeze', [weight(name), axes(1)]);
  /** A projection `[M, din, dout]` and its bias row, with the LayerNorm `ln` before it folded in. */
  const foldLayerNorm = (w: string, b: string, ln: string): [string, string] => [
    g.node('Mul', [w, g.node('Unsqueeze', [weight(`${ln}.gamma`), axes(2)])]),
    g.node('Add', [g.node('MatMul', [row(`${ln}.beta`), w]), b]),
  ];

  // ---- Shared by every member and layer: shapes and masks. ----
  const mask = g.node('Cast', [attentionMask], { to: DataType.FLOAT }); // [B,T]
  const seqLen = g.node('Slice', [g.node('Shape', [ids]), axes(1), axes(2)]); // [T]
  // Padding keys get MASKED_SCORE, broadcast over members, heads and query positions: [B,1,1,T].
  const keyBias = g.node('Unsqueeze', [g.node('Mul', [g.node('Sub', [g.constFloat(1), mask]), g.constFloat(MASKED_SCORE)]), axes(1, 2)]);
  const headsShape = g.node('Concat', [axes(M, -1), seqLen, axes(3, H, dh)], { axis: 0 }); // [M,B,T,3,H,dh]
  const tokensShape = g.node('Concat', [axes(M, -1), seqLen, axes(d)], { axis: 0 }); // [M,B,T,d]
  const mask3 = g.node('Unsqueeze', [mask, axes(2)]); // [B,T,1]
  const tokenCount = g.node('ReduceSum', [mask, axes(1)], { keepdims: 1 }); // [B,1]
  const invSqrtDh = g.constFloat(1 / Math.sqrt(dh));
  const unitGain = g.constFloat(new Array<number>(d).fill(1));
  const epsilon = { float: LAYER_NORM_EPSILON };

  const linear = (x: string, w: string, b: string) => g.node('Add', [g.node('MatMul', [x, w]), b]);

  /** Every row minus its mean (last axis): what the residual stream is made of, so that it stays centred. */
  const centred = (w: string) => g.node('Sub', [w, g.node('ReduceMean', [w], { axes: [-1], keepdims: 1 })]);
  // The residual stream has mean zero over its features (see centred), so LayerNorm without its
  // affine part is RMS normalisation; gain and bias live in the next projection.
  const normalise = (x: string) => g.node('SimplifiedLayerNormalization', [x, unitGain], { axis: -1, epsilon });
  /** The residual `x + update`, normalised, in one operator: [normalised, the sum]. */
  const addAndNormalise = (x: string, update: string): [string, string] => {
    const [normalised, , , sum] = g.nodeOutputs('SkipSimplifiedLayerNormalization', [x, update, unitGain], 4, { epsilon }, MS);
    return [normalised!, sum!];
  };

  // ---- Embeddings: [M,B,T,d], then the residual stream as [M, B*T, d]. ----
  const tokens = g.node('Gather', [centred(weight('embed.tokens')), ids], { axis: 1 });
  const positions = g.node('Slice', [g.node('Unsqueeze', [centred(weight('embed.positions')), axes(1)]), axes(0), seqLen, axes(2)]); // [M,1,T,d]
  let x = g.node('Reshape', [g.node('Add', [tokens, positions]), axes(M, -1, d)]);
  let normalised = normalise(x);

  for (let i = 0; i < o.shape.layers; i++) {
    const l = `layers.${i}`;
    const proj = (p: string) =>
      g.node(
        'Concat',
        ['q', 'k', 'v'].map((n) => weight(`${l}.attn.${n}.${p}`)),
        { axis: p === 'w' ? 2 : 1 },
      );
    const [wQkv, bQkv] = foldLayerNorm(proj('w'), g.node('Unsqueeze', [proj('b'), axes(1)]), `${l}.ln1`);
    const qkv = linear(normalised, wQkv, bQkv); // [M, B*T, 3d]

    // Members, batch rows and heads all become batch axes of one attention: [1, M, B, H, T, dh].
    const split = g.node('Transpose', [g.node('Reshape', [qkv, headsShape])], { perm: [3, 0, 1, 4, 2, 5] }); // [3,M,B,H,T,dh]
    const [q, k, v] = g.nodeOutputs('Split', [split], 3, { axis: 0 }) as [string, string, string];
    const kT = g.node('Transpose', [k], { perm: [0, 1, 2, 3, 5, 4] });
    const scores = g.node('Add', [g.node('Mul', [g.node('MatMul', [q, kT]), invSqrtDh]), keyBias]);
    const context = g.node('MatMul', [g.node('Softmax', [scores], { axis: -1 }), v]); // [1,M,B,H,T,dh]
    // -> [M,B,T,H,dh,1] (the split's leftover axis moved last), then [M, B*T, d].
    const merged = g.node('Reshape', [g.node('Transpose', [context], { perm: [1, 2, 4, 3, 5, 0] }), axes(M, -1, d)]);
    const attended = linear(merged, centred(weight(`${l}.attn.o.w`)), centred(row(`${l}.attn.o.b`)));
    [normalised, x] = addAndNormalise(x, attended);

    const [wUp, bUp] = foldLayerNorm(weight(`${l}.mlp.up.w`), row(`${l}.mlp.up.b`), `${l}.ln2`);
    const up = g.node('FastGelu', [linear(normalised, wUp, bUp)], {}, MS);
    [normalised, x] = addAndNormalise(x, linear(up, centred(weight(`${l}.mlp.down.w`)), centred(row(`${l}.mlp.down.b`))));
  }

  // Mean over real tokens only, so padding never changes a prediction: [M,B,d].
  const final = g.node('Reshape', [normalised, tokensShape]);
  const pooled = g.node('Div', [g.node('ReduceSum', [g.node('Mul', [final, mask3]), axes(2)], { keepdims: 0 }), tokenCount]);
  const [wHead, bHead] = foldLayerNorm(weight('head.w'), row('head.b'), 'final_ln');
  const memberLogits = linear(pooled, wHead, bHead); // [M,B,labels]

  const summed = g.node('ReduceSum', [memberLogits, axes(0)], { keepdims: 0 });
  const logits = g.node('Div', [summed, g.constFloat(M * o.temperature)], {}, { outputs: ['logits'] });
  g.node('Softmax', [logits], { axis: -1 }, { outputs: ['probabilities'] });
  g.output('logits', DataType.FLOAT, ['batch', numLabels]);
  g.output('probabilities', DataType.FLOAT, ['batch', numLabels]);
  return g.toBytes({ '': 17, 'com.microsoft': 1 }, o.metadata);
}

/**
 * One parameter of every member as a single initializer `[M, ...shape]` (float32), or as int8
 * values `[M, rows, cols]` named `<name>.int8` with scales `<name>.scale` (`[M, rows, 1]` for
 * embedding rows, `[M, 1, cols]` for linear-layer columns) behind `Cast -> Mul`. Returns the
 * float32 tensor to compute with. `onnx-weights.ts` reads these back.
 */
function stackWeight(g: GraphBuilder, name: string, members: Record<string, StoredWeight>[]): string {
  const parts = members.map((m, i) => {
    const w = m[name];
    if (!w) throw new ModelFormatError(`member ${i} has no weight ${name}`);
    return w;
  });
  const first = parts[0]!;
  if (parts.some((w) => w.shape.join() !== first.shape.join() || isQuantized(w) !== isQuantized(first))) {
    throw new ModelFormatError(`weight ${name}: the members store it in different shapes or formats`);
  }
  const dims = [parts.length, ...first.shape];
  if (!isQuantized(first))
    return g.initializer(
      name,
      concatTyped(
        parts.map((w) => (w as { data: Float32Array }).data),
        Float32Array,
      ),
      dims,
    );
  const quantized = parts as QuantizedTensor[];
  if (quantized.some((q) => q.axis !== first.axis))
    throw new ModelFormatError(`weight ${name}: the members quantise it along different axes`);
  const [rows, cols] = first.shape;
  const values = new Int8Array(parts.length * rows * cols);
  quantized.forEach((q, i) => values.set(q.values, i * rows * cols));
  const scaleDims = first.axis === 0 ? [parts.length, rows, 1] : [parts.length, 1, cols];
  const asFloat = g.node('Cast', [g.initializer(`${name}.int8`, values, dims)], { to: DataType.FLOAT });
  return g.node('Mul', [
    asFloat,
    g.initializer(
      `${name}.scale`,
      concatTyped(
        quantized.map((q) => q.scales),
        Float32Array,
      ),
      scaleDims,
    ),
  ]);
}
