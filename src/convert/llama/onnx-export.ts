/**
 * Writes a Llama as one ONNX graph (opset 17, plus `com.microsoft` for the 4-bit variants) with the
 * inputs and outputs transformers.js feeds and reads for LlamaForCausalLM, so that
 * `AutoModelForCausalLM.from_pretrained` can run it with its KV cache. The computation is
 * `llamaForward` in reference.ts, node for node, plus the cache:
 *
 *   inputs:  input_ids, position_ids [batch_size, sequence_length] int64,
 *            attention_mask [batch_size, total_sequence_length] int64 (1 = real token, past included),
 *            past_key_values.{i}.key / .value [batch_size, KVH, past_sequence_length, D] (float, float16 for q4f16),
 *            num_logits_to_keep: int64 scalar (0: logits for every position; k: for the last k only)
 *   outputs: logits [batch_size, num_logits, vocab_size] float,
 *            present.{i}.key / .value [batch_size, KVH, total_sequence_length, D] (past + new, after RoPE)
 *
 * The cache's head count and head size are numbers, not names: transformers.js builds the empty
 * first-step cache from these dims and fills in only `batch_size` (and a 0 past length). It feeds
 * `num_logits_to_keep` = 1 while generating (only the last position's logits are used), which
 * saves the output head on every prompt position: for a 128K vocabulary the larger part of a prefill.
 *
 * dtypes:
 * - `fp32`: float32 throughout; linear weights stored transposed for MatMul.
 * - `q4`: every linear layer and the output head as `com.microsoft` `MatMulNBits` (4 bits, blocks of
 *   32, float32 scales, see quantize-q4.ts), activations float32. The embedding table is 4-bit too,
 *   in MatMulNBits's own layout, when it is large (`EMBEDDING_Q4_MIN_BYTES`, or when asked) and the
 *   hidden size is a multiple of 32; a tied head then multiplies by that very table (packed bytes
 *   and scales stored once). The lookup (`embeddingLookup`):
 *     `unpack` (q4's default): Gather of the packed rows and their scales, nibbles split with
 *       integer Mod/Div, (q - 8) * scale: plain ONNX ops, so it runs on every backend;
 *     `gather-block-quantized` (q4f16's default): `com.microsoft` `GatherBlockQuantized`, one kernel;
 *       it wants scales shaped like its data, so a tied head's scales are stored a second time.
 *   GatherBlockQuantized has no kernel in the CPU (WASM) provider of the onnxruntime-web build
 *   transformers.js 4.3.1 loads (`ort-wasm-simd-threaded.asyncify`, 1.31-dev): q4, which serves WASM
 *   as well as WebGPU, must not use it; q4f16 runs only on WebGPU (with shader-f16) or in Node, which
 *   both have it. Otherwise (small models such as the bundled demo) the table stays float32 and a
 *   tied head gets its own 4-bit copy.
 * - `q4f16`: the q4 weights with float16 scales, float16 activations into and out of every linear
 *   layer, attention and the KV cache in float16. RMSNorm (its sum of squares would overflow
 *   float16), the residual stream, the softmax and the logits stay float32.
 *
 * The graph is declared from the config alone (`buildLlamaGraph`); the weights' bytes are produced
 * from each Hugging Face tensor by `plan.produce`, so an exporter can stream a checkpoint tensor by
 * tensor (merge-export.ts) or hold it in memory (`exportLlamaOnnx`).
 */
import { ropeInverseFrequencies, validateLlamaConfig, type LlamaConfig } from '../../models/llama/config';
import { f32ToF16 } from './half';
import { DataType, type DataTypeCode, type TensorBytes } from '../../models/onnx/graph-builder';
import { encodeOnnxInline, OnnxGraph } from './onnx-writer';
import { Q4_BLOCK_SIZE, q4Blocks, quantizeQ4, roundTripQ4, type Q4ScaleType, type Q4Tensor } from './quantize-q4';
import { llamaParameterShapes, type LlamaWeights } from '../../models/llama/reference';
import { ModelFormatError } from '../../core/errors';

export type LlamaOnnxDtype = 'fp32' | 'q4' | 'q4f16';
/** How a 4-bit export stores the embedding table: 4 bits (GatherBlockQuantized) or float32. */
export type EmbeddingStorage = 'q4' | 'float';
/** How the graph reads a 4-bit embedding table. */
export type EmbeddingLookup = 'unpack' | 'gather-block-quantized';

export interface LlamaExportOptions {
  dtype: LlamaOnnxDtype;
  /** 4-bit variants only. Default `auto`: 4 bits for a large table (`EMBEDDING_Q4_MIN_BYTES`) when hidden_size is a multiple of 32. */
  embedding?: EmbeddingStorage | 'auto';
  /** How a 4-bit table is read (see above): default `unpack` for q4, `gather-block-quantized` for q4f16. */
  embeddingLookup?: EmbeddingLookup;
  /** Declare the `num_logits_to_keep` input (default true). */
  numLogitsToKeep?: boolean;
  metadata?: Record<string, string>;
}

/** Added to the scores of masked keys before softmax: exp() of it is exactly 0 in float32. */
const MASKED_SCORE = -1e9;
const EMBED = 'model.embed_tokens.weight';
const HEAD = 'lm_head.weight';

/** Whether a 4-bit export stores this weight in 4 bits as a MatMulNBits weight: the linear layers and lm_head. */
export function isQ4Weight(name: string): boolean {
  return /\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$/.test(name) || name === HEAD;
}

/**
 * `auto` stores the embedding table in 4 bits from this size of float32 table on (a 128K x 2048
 * table is 1 GiB). Below it the table is small beside the rest and stays float32: on the bundled
 * demo (2,002 x 128, 1 MiB) 4 bits saved 1 MB and cost 0.4 points of test accuracy.
 */
const EMBEDDING_Q4_MIN_BYTES = 64 * 2 ** 20;

/** The embedding storage a 4-bit export of this shape uses (always float for fp32). */
export function embeddingStorage(
  c: Pick<LlamaConfig, 'hidden_size' | 'vocab_size'>,
  dtype: LlamaOnnxDtype,
  requested: EmbeddingStorage | 'auto' = 'auto',
): EmbeddingStorage {
  if (dtype === 'fp32') return 'float';
  const fits = c.hidden_size % Q4_BLOCK_SIZE === 0;
  if (requested === 'q4' && !fits)
    throw new ModelFormatError(`a 4-bit embedding table needs hidden_size to be a multiple of ${Q4_BLOCK_SIZE}, got ${c.hidden_size}`);
  if (requested === 'auto') return fits && c.vocab_size * c.hidden_size * 4 >= EMBEDDING_Q4_MIN_BYTES ? 'q4' : 'float';
  return requested;
}

/**
 * The weights the 4-bit graph computes with, for running the float reference against it: every
 * MatMulNBits weight round-tripped through 4 bits (scales as float16 values for q4f16), and the
 * embedding table too when it is stored in 4 bits. For a tied model (no `lm_head.weight`) the 4-bit
 * head is added as `lm_head.weight`, which the reference then uses in place of the embedding table.
 */
export function llamaQ4Weights(
  weights: LlamaWeights,
  scaleType: Q4ScaleType = 'float32',
  embedding: EmbeddingStorage | 'auto' = 'auto',
): LlamaWeights {
  const embed = weights[EMBED];
  const withHead = weights[HEAD] || !embed ? weights : { ...weights, [HEAD]: embed };
  const out = roundTripQ4(withHead, isQ4Weight, scaleType) as LlamaWeights;
  if (embed && embeddingStorage({ vocab_size: embed.shape[0]!, hidden_size: embed.shape[1]! }, 'q4', embedding) === 'q4') {
    out[EMBED] = roundTripQ4({ [EMBED]: embed }, () => true, scaleType)[EMBED]!;
  }
  return out;
}

/** A declared graph and how to fill its weights from Hugging Face tensors. */
export interface LlamaGraphPlan {
  readonly graph: OnnxGraph;
  readonly dtype: LlamaOnnxDtype;
  readonly embedding: EmbeddingStorage;
  /** The Hugging Face tensors the graph's weights come from (all of `llamaParameterShapes`). */
  readonly sources: readonly string[];
  /** The graph weights derived from one Hugging Face tensor ([] for a tensor the graph does not use). */
  produce(name: string, data: Float32Array): { name: string; data: TensorBytes }[];
}

const float32 = (data: Float32Array | Float64Array) => (data instanceof Float32Array ? data : Float32Array.from(data));

export function buildLlamaGraph(c: LlamaConfig, options: LlamaExportOptions): LlamaGraphPlan {
  validateLlamaConfig(c);
  const { dtype } = options;
  const quantised = dtype !== 'fp32';
  const f16 = dtype === 'q4f16';
  const embedding = embeddingStorage(c, dtype, options.embedding);
  const act: DataTypeCode = f16 ? DataType.FLOAT16 : DataType.FLOAT;
  const scaleType: Q4ScaleType = f16 ? 'float16' : 'float32';
  const g = new OnnxGraph('llama', { '': 17, 'com.microsoft': 1 }, options.metadata);
  const { hidden_size: h, head_dim: d, num_attention_heads: heads, num_key_value_heads: kvHeads, vocab_size: vocab } = c;
  const group = heads / kvHeads;
  const shapes = llamaParameterShapes(c);
  const shapeOf = (name: string) => {
    const s = shapes[name];
    if (!s) throw new ModelFormatError(`no tensor ${name} in a Llama of this shape`);
    return s;
  };

  // Declared weights, by the Hugging Face tensor they come from.
  const q4Names = (name: string) => ({ packed: `${name}_Q4`, scales: `${name}_scales` });
  const declareQ4 = (name: string, n: number, k: number) => {
    const { packed, scales } = q4Names(name);
    return {
      packed: g.weight(packed, DataType.UINT8, [n, q4Blocks(k), Q4_BLOCK_SIZE / 2]),
      scales: g.weight(scales, act, [n * q4Blocks(k)]),
    };
  };
  const matMulNBits = (x: string, w: { packed: string; scales: string }, n: number, k: number) =>
    g.node('MatMulNBits', [x, w.packed, w.scales], { K: k, N: n, bits: 4, block_size: Q4_BLOCK_SIZE }, { domain: 'com.microsoft' });
  /** x W^T for a Hugging Face [out, in] weight: MatMul on W^T, or MatMulNBits on the 4-bit W. x is of type `act`. */
  const linear = (x: string, name: string): string => {
    const [n, k] = shapeOf(name) as [number, number];
    if (quantised) return matMulNBits(x, declareQ4(name, n, k), n, k);
    return g.node('MatMul', [x, g.weight(`${name}_transposed`, DataType.FLOAT, [k, n])]);
  };
  const toAct = (x: string) => (f16 ? g.node('Cast', [x], { to: DataType.FLOAT16 }) : x);
  const toFloat = (x: string) => (f16 ? g.node('Cast', [x], { to: DataType.FLOAT }) : x);
  const ints = (values: number[]) => g.constInt64(values);

  // Inputs.
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const past = Array.from({ length: c.num_hidden_layers }, (_, i) => ({
    key: g.input(`past_key_values.${i}.key`, act, ['batch_size', kvHeads, 'past_sequence_length', d]),
    value: g.input(`past_key_values.${i}.value`, act, ['batch_size', kvHeads, 'past_sequence_length', d]),
  }));
  const keep = options.numLogitsToKeep === false ? undefined : g.input('num_logits_to_keep', DataType.INT64, []);

  // Rotary tables for these positions: angle = position * theta^(-2i/D), duplicated over both halves.
  const invFreq = Float32Array.from(ropeInverseFrequencies(c));
  const positions = g.node('Unsqueeze', [g.node('Cast', [positionIds], { to: DataType.FLOAT }), ints([2])]); // [B,T,1]
  const freqs = g.node('Mul', [positions, g.initializer('rope.inv_freq', invFreq, [d / 2])]); // [B,T,D/2]
  const angles = g.node('Concat', [freqs, freqs], { axis: -1 }); // [B,T,D]
  const cos = toAct(g.node('Unsqueeze', [g.node('Cos', [angles]), ints([1])])); // [B,1,T,D]
  const sin = toAct(g.node('Unsqueeze', [g.node('Sin', [angles]), ints([1])]));
  const rope = (x: string) => {
    const x1 = g.node('Slice', [x, ints([0]), ints([d / 2]), ints([3])]);
    const x2 = g.node('Slice', [x, ints([d / 2]), ints([d]), ints([3])]);
    const rotated = g.node('Concat', [g.node('Neg', [x2]), x1], { axis: 3 });
    return g.node('Add', [g.node('Mul', [x, cos]), g.node('Mul', [rotated, sin])]);
  };

  // Attention bias [B,1,1,T,S]: 0 where query t (absolute position past + t) may read key s (s <= past + t,
  // and s not padding), MASKED_SCORE elsewhere. S = past + T. Always float32: the softmax is.
  const scalar = (x: string) => g.node('Squeeze', [x, ints([0])]);
  const pastLength = scalar(g.node('Shape', [past[0]!.key], { start: 2, end: 3 }));
  const totalLength = g.node('Add', [pastLength, scalar(g.node('Shape', [ids], { start: 1, end: 2 }))]);
  const zero = g.initializer('scalar.zero', BigInt64Array.of(0n), []);
  const one = g.initializer('scalar.one', BigInt64Array.of(1n), []);
  const keyIndex = g.node('Range', [zero, totalLength, one]); // [S]
  const queryIndex = g.node('Unsqueeze', [g.node('Range', [pastLength, totalLength, one]), ints([1])]); // [T,1]
  const causal = g.node('Cast', [g.node('LessOrEqual', [keyIndex, queryIndex])], { to: DataType.FLOAT }); // [T,S]
  const notPadding = g.node('Unsqueeze', [g.node('Cast', [attentionMask], { to: DataType.FLOAT }), ints([1, 2, 3])]); // [B,1,1,1,S]
  const allowed = g.node('Mul', [causal, notPadding]);
  const bias = g.node('Mul', [g.node('Sub', [allowed, g.constFloat(1)]), g.constFloat(-MASKED_SCORE)]);

  /** RMSNorm in float32 (x float32), result in the activation type. */
  const rmsNorm = (x: string, gain: string) => {
    const meanSquare = g.node('ReduceMean', [g.node('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const inverseRms = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [meanSquare, g.constFloat(c.rms_norm_eps)])])]);
    return toAct(g.node('Mul', [g.node('Mul', [x, inverseRms]), g.weight(gain, DataType.FLOAT, [h])]));
  };
  const splitHeads = (x: string, count: number) =>
    g.node('Transpose', [g.node('Reshape', [x, ints([0, 0, count, d])])], { perm: [0, 2, 1, 3] });

  // Embedding: the residual stream x is float32 in every variant.
  let embedQ4: { packed: string; scales: string } | undefined;
  const lookup: EmbeddingLookup = options.embeddingLookup ?? (f16 ? 'gather-block-quantized' : 'unpack');
  let x: string;
  if (embedding === 'q4') {
    const blocks = q4Blocks(h);
    const packed = g.weight(`${EMBED}_Q4`, DataType.UINT8, [vocab, blocks, Q4_BLOCK_SIZE / 2]);
    let gathered: string; // [B,T,blocks,32], of the activation type
    if (lookup === 'gather-block-quantized') {
      // GatherBlockQuantized wants scales of the data's rank: one per (row, block).
      const scales = g.weight(`${EMBED}_scales`, act, [vocab, blocks, 1]);
      embedQ4 = { packed, scales };
      gathered = g.node(
        'GatherBlockQuantized',
        [packed, ids, scales],
        { bits: 4, block_size: Q4_BLOCK_SIZE, gather_axis: 0, quantize_axis: 2 },
        { domain: 'com.microsoft' },
      );
    } else {
      // [vocab, blocks] scales: the shape MatMulNBits also takes, so a tied head shares them.
      const scales = g.weight(`${EMBED}_scales`, act, [vocab, blocks]);
      embedQ4 = { packed, scales };
      const rows = g.node('Cast', [g.node('Gather', [packed, ids], { axis: 0 })], { to: DataType.INT32 }); // [B,T,blocks,16]
      const sixteen = g.initializer('scalar.sixteen', Int32Array.of(16), []);
      const low = g.node('Unsqueeze', [g.node('Mod', [rows, sixteen]), ints([-1])]); // each byte's first value
      const high = g.node('Unsqueeze', [g.node('Div', [rows, sixteen]), ints([-1])]);
      const nibbles = g.node('Reshape', [g.node('Concat', [low, high], { axis: -1 }), ints([0, 0, blocks, Q4_BLOCK_SIZE])]);
      const centred = g.node('Sub', [g.node('Cast', [nibbles], { to: act }), g.constOf(8, act)]);
      const rowScales = g.node('Unsqueeze', [g.node('Gather', [scales, ids], { axis: 0 }), ints([-1])]); // [B,T,blocks,1]
      gathered = g.node('Mul', [centred, rowScales]);
    }
    x = toFloat(g.node('Reshape', [gathered, ints([0, 0, h])]));
  } else {
    x = g.node('Gather', [g.weight(EMBED, DataType.FLOAT, [vocab, h]), ids], { axis: 0 }); // [B,T,H]
  }

  const scale = 1 / Math.sqrt(d);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `model.layers.${i}`;
    const a = rmsNorm(x, `${l}.input_layernorm.weight`);
    const q = rope(splitHeads(linear(a, `${l}.self_attn.q_proj.weight`), heads)); // [B,NH,T,D]
    const k = rope(splitHeads(linear(a, `${l}.self_attn.k_proj.weight`), kvHeads)); // [B,KVH,T,D]
    const v = splitHeads(linear(a, `${l}.self_attn.v_proj.weight`), kvHeads);
    const keys = g.node('Concat', [past[i]!.key, k], { axis: 2 }, { outputs: [`present.${i}.key`] }); // [B,KVH,S,D]
    const values = g.node('Concat', [past[i]!.value, v], { axis: 2 }, { outputs: [`present.${i}.value`] });

    // Grouped-query attention without copying the cache: view the query heads as [B,KVH,group,T,D]
    // (query head = kv head * group + g, as HF's repeat_kv) and broadcast keys/values over the group axis.
    const groupedQ = g.node('Reshape', [q, ints([0, kvHeads, group, -1, d])]);
    const keysT = g.node('Transpose', [g.node('Unsqueeze', [keys, ints([2])])], { perm: [0, 1, 2, 4, 3] }); // [B,KVH,1,D,S]
    // float16: scale the queries before the product (smaller numbers), the softmax in float32.
    const scores = f16
      ? g.node('Add', [toFloat(g.node('MatMul', [g.node('Mul', [groupedQ, g.constOf(scale, DataType.FLOAT16)]), keysT])), bias])
      : g.node('Add', [g.node('Mul', [g.node('MatMul', [groupedQ, keysT]), g.constFloat(scale)]), bias]);
    const probs = toAct(g.node('Softmax', [scores], { axis: -1 })); // [B,KVH,group,T,S]
    const context = g.node('MatMul', [probs, g.node('Unsqueeze', [values, ints([2])])]); // [B,KVH,group,T,D]
    const merged = g.node('Reshape', [
      g.node('Transpose', [g.node('Reshape', [context, ints([0, heads, -1, d])])], { perm: [0, 2, 1, 3] }),
      ints([0, 0, heads * d]),
    ]);
    x = g.node('Add', [x, toFloat(linear(merged, `${l}.self_attn.o_proj.weight`))]);

    const m = rmsNorm(x, `${l}.post_attention_layernorm.weight`);
    const gate = linear(m, `${l}.mlp.gate_proj.weight`);
    const swish = g.node('Mul', [g.node('Mul', [gate, g.node('Sigmoid', [gate])]), linear(m, `${l}.mlp.up_proj.weight`)]);
    x = g.node('Add', [x, toFloat(linear(swish, `${l}.mlp.down_proj.weight`))]);
  }

  // Only the positions asked for reach the head: the last k (Slice from -k), or all of them (k = 0).
  if (keep) {
    const start = g.node('Reshape', [g.node('Neg', [keep]), ints([1])]);
    x = g.node('Slice', [x, start, ints([2 ** 53 - 1]), ints([1])]);
  }
  const final = rmsNorm(x, 'model.norm.weight');
  let logits: string;
  if (!c.tie_word_embeddings) logits = linear(final, HEAD);
  else if (!quantised) logits = g.node('MatMul', [final, g.weight(`${HEAD}_transposed`, DataType.FLOAT, [h, vocab])]);
  else if (embedQ4 && lookup === 'unpack') logits = matMulNBits(final, embedQ4, vocab, h);
  else if (embedQ4)
    logits = matMulNBits(final, { packed: embedQ4.packed, scales: g.weight(`${HEAD}_scales`, act, [vocab * q4Blocks(h)]) }, vocab, h);
  else logits = matMulNBits(final, declareQ4(HEAD, vocab, h), vocab, h);
  g.node('Identity', [toFloat(logits)], {}, { outputs: ['logits'] });

  g.output('logits', DataType.FLOAT, ['batch_size', keep ? 'num_logits' : 'sequence_length', vocab]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    g.output(`present.${i}.key`, act, ['batch_size', kvHeads, 'total_sequence_length', d]);
    g.output(`present.${i}.value`, act, ['batch_size', kvHeads, 'total_sequence_length', d]);
  }

  const scalesBytes = (q: Q4Tensor) => (f16 ? Uint16Array.from(q.scales, f32ToF16) : q.scales);
  const produce = (name: string, data: Float32Array): { name: string; data: TensorBytes }[] => {
    const shape = shapes[name];
    if (!shape) return [];
    if (data.length !== shape.reduce((p, n) => p * n, 1))
      throw new ModelFormatError(`tensor ${name}: ${data.length} values for shape [${shape}]`);
    if (shape.length === 1) return [{ name, data }];
    const [n, k] = shape as [number, number];
    if (name === EMBED) {
      if (!quantised)
        return c.tie_word_embeddings
          ? [
              { name, data },
              { name: `${HEAD}_transposed`, data: transpose(data, n, k) },
            ]
          : [{ name, data }];
      if (embedding === 'float') {
        if (!c.tie_word_embeddings) return [{ name, data }];
        const head = quantizeQ4(data, [n, k], scaleType);
        return [
          { name, data },
          { name: `${HEAD}_Q4`, data: head.packed },
          { name: `${HEAD}_scales`, data: scalesBytes(head) },
        ];
      }
      const table = quantizeQ4(data, [n, k], scaleType);
      const scales = scalesBytes(table);
      const out = [
        { name: `${EMBED}_Q4`, data: table.packed },
        { name: `${EMBED}_scales`, data: scales },
      ];
      if (c.tie_word_embeddings && lookup === 'gather-block-quantized') out.push({ name: `${HEAD}_scales`, data: scales });
      return out;
    }
    if (!quantised) return [{ name: `${name}_transposed`, data: transpose(data, n, k) }];
    const q = quantizeQ4(data, [n, k], scaleType);
    const names = q4Names(name);
    return [
      { name: names.packed, data: q.packed },
      { name: names.scales, data: scalesBytes(q) },
    ];
  };
  return { graph: g, dtype, embedding, sources: Object.keys(shapes), produce };
}

/** One self-contained ONNX file from float weights in memory (small models; merge-export.ts streams large ones). */
export function exportLlamaOnnx(c: LlamaConfig, weights: LlamaWeights, options: LlamaExportOptions): Uint8Array {
  const plan = buildLlamaGraph(c, options);
  const data = new Map<string, TensorBytes>();
  for (const name of plan.sources) {
    const t = weights[name];
    if (!t) throw new ModelFormatError(`missing weight ${name}`);
    for (const w of plan.produce(name, float32(t.data))) data.set(w.name, w.data);
  }
  return encodeOnnxInline(plan.graph, data);
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let col = 0; col < cols; col++) out[col * rows + r] = data[r * cols + col]!;
  return out;
}
