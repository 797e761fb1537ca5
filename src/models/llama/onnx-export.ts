/**
 * Writes a Llama as one ONNX graph (opset 17, plus `com.microsoft` for q4) with the inputs and
 * outputs transformers.js feeds and reads for LlamaForCausalLM, so that
 * `AutoModelForCausalLM.from_pretrained` can run it with its KV cache. The computation is
 * `llamaForward` in reference.ts, node for node, plus the cache:
 *
 *   inputs:  input_ids, position_ids [batch_size, sequence_length] int64,
 *            attention_mask [batch_size, total_sequence_length] int64 (1 = real token, past included),
 *            past_key_values.{i}.key / .value [batch_size, KVH, past_sequence_length, D] float
 *   outputs: logits [batch_size, sequence_length, vocab_size],
 *            present.{i}.key / .value [batch_size, KVH, total_sequence_length, D] (past + new, after RoPE)
 *
 * The cache's head count and head size are numbers, not names: transformers.js builds the empty
 * first-step cache from these dims and fills in only `batch_size` (and a 0 past length).
 *
 * dtype 'q4' stores every linear layer and the output head as `MatMulNBits` (4 bits, blocks of 32,
 * see quantize-q4.ts); the embedding table stays float32 (it is a Gather). A tied head is
 * quantised from the embedding table into a second, 4-bit copy: for a 128K vocabulary that is the
 * difference between fitting in one ONNX file (2 GiB) or not.
 */
import { ropeInverseFrequencies, validateLlamaConfig, type LlamaConfig } from './config';
import { Q4_BLOCK_SIZE, quantizeQ4, roundTripQ4, type Q4Tensor } from './quantize-q4';
import type { LlamaTensor, LlamaWeights } from './reference';
import { DataType, GraphBuilder } from '../onnx/graph-builder';

export type LlamaOnnxDtype = 'fp32' | 'q4';

export interface LlamaExportOptions {
  dtype: LlamaOnnxDtype;
  metadata?: Record<string, string>;
}

/** Added to the scores of masked keys before softmax: exp() of it is exactly 0 in float32. */
const MASKED_SCORE = -1e9;

/** Whether a q4 export stores this weight in 4 bits: the linear layers and lm_head (for a tied head, see `llamaQ4Weights`). */
export function isQ4Weight(name: string): boolean {
  return /\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$/.test(name) || name === 'lm_head.weight';
}

/**
 * The weights the q4 graph computes with, for running the float reference against it. For a tied
 * model (no `lm_head.weight`) the 4-bit head is added as `lm_head.weight`, which the reference
 * then uses in place of the embedding table.
 */
export function llamaQ4Weights(weights: LlamaWeights): LlamaWeights {
  const embed = weights['model.embed_tokens.weight'];
  const withHead = weights['lm_head.weight'] || !embed ? weights : { ...weights, 'lm_head.weight': embed };
  return roundTripQ4(withHead, isQ4Weight);
}

/**
 * Weights to export: float tensors, or, for the q4 export, linear weights already quantised
 * (`merge-qlora` quantises each one as it streams by, so a large model is never held in float).
 */
export type LlamaExportWeights = Record<string, LlamaTensor | Q4Tensor>;

const isQ4Tensor = (t: LlamaTensor | Q4Tensor): t is Q4Tensor => 'packed' in t;

export function exportLlamaOnnx(c: LlamaConfig, weights: LlamaExportWeights, options: LlamaExportOptions): Uint8Array {
  validateLlamaConfig(c);
  const g = new GraphBuilder('llama');
  const { hidden_size: h, head_dim: d, num_attention_heads: heads, num_key_value_heads: kvHeads } = c;
  const group = heads / kvHeads;

  const entry = (name: string): LlamaTensor | Q4Tensor => {
    const t = weights[name];
    if (!t) throw new Error(`missing weight ${name}`);
    return t;
  };
  const tensor = (name: string): LlamaTensor => {
    const t = entry(name);
    if (isQ4Tensor(t)) throw new Error(`weight ${name} is quantised; the ${options.dtype} export needs it in float`);
    return t;
  };
  const float32 = (t: LlamaTensor) => (t.data instanceof Float32Array ? t.data : Float32Array.from(t.data));
  const matMulNBits = (x: string, name: string, q: Q4Tensor): string => {
    const [n, k] = q.shape;
    const packed = g.initializer(`${name}_Q4`, q.packed, [n, Math.ceil(k / Q4_BLOCK_SIZE), Q4_BLOCK_SIZE / 2]);
    const scales = g.initializer(`${name}_scales`, q.scales, [q.scales.length]);
    return g.node('MatMulNBits', [x, packed, scales], { K: k, N: n, bits: 4, block_size: Q4_BLOCK_SIZE }, { domain: 'com.microsoft' });
  };
  /** x W^T for a Hugging Face [out, in] weight: a MatMul on W^T, or MatMulNBits on the 4-bit W. */
  const linear = (x: string, name: string): string => {
    if (options.dtype === 'q4' && isQ4Weight(name)) {
      const t = entry(name);
      return matMulNBits(x, name, isQ4Tensor(t) ? t : quantizeQ4(t.data, t.shape as [number, number]));
    }
    const t = tensor(name);
    const [n, k] = t.shape as [number, number];
    return g.node('MatMul', [x, g.initializer(`${name}_transposed`, transpose(float32(t), n, k), [k, n])]);
  };
  const vector = (name: string) => g.initializer(name, float32(tensor(name)), [h]);
  const ints = (values: number[]) => g.constInt64(values);

  // Inputs.
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const past = Array.from({ length: c.num_hidden_layers }, (_, i) => ({
    key: g.input(`past_key_values.${i}.key`, DataType.FLOAT, ['batch_size', kvHeads, 'past_sequence_length', d]),
    value: g.input(`past_key_values.${i}.value`, DataType.FLOAT, ['batch_size', kvHeads, 'past_sequence_length', d]),
  }));

  // Rotary tables for these positions: angle = position * theta^(-2i/D), duplicated over both halves.
  const invFreq = Float32Array.from(ropeInverseFrequencies(c));
  const positions = g.node('Unsqueeze', [g.node('Cast', [positionIds], { to: DataType.FLOAT }), ints([2])]); // [B,T,1]
  const freqs = g.node('Mul', [positions, g.initializer('rope.inv_freq', invFreq, [d / 2])]); // [B,T,D/2]
  const angles = g.node('Concat', [freqs, freqs], { axis: -1 }); // [B,T,D]
  const cos = g.node('Unsqueeze', [g.node('Cos', [angles]), ints([1])]); // [B,1,T,D]
  const sin = g.node('Unsqueeze', [g.node('Sin', [angles]), ints([1])]);
  const rope = (x: string) => {
    const x1 = g.node('Slice', [x, ints([0]), ints([d / 2]), ints([3])]);
    const x2 = g.node('Slice', [x, ints([d / 2]), ints([d]), ints([3])]);
    const rotated = g.node('Concat', [g.node('Neg', [x2]), x1], { axis: 3 });
    return g.node('Add', [g.node('Mul', [x, cos]), g.node('Mul', [rotated, sin])]);
  };

  // Attention bias [B,1,1,T,S]: 0 where query t (absolute position past + t) may read key s (s <= past + t,
  // and s not padding), MASKED_SCORE elsewhere. S = past + T.
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

  const rmsNorm = (x: string, gain: string) => {
    const meanSquare = g.node('ReduceMean', [g.node('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const inverseRms = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [meanSquare, g.constFloat(c.rms_norm_eps)])])]);
    return g.node('Mul', [g.node('Mul', [x, inverseRms]), vector(gain)]);
  };
  const splitHeads = (x: string, count: number) =>
    g.node('Transpose', [g.node('Reshape', [x, ints([0, 0, count, d])])], { perm: [0, 2, 1, 3] });

  const embed = tensor('model.embed_tokens.weight');
  const embedName = g.initializer('model.embed_tokens.weight', float32(embed), [c.vocab_size, h]);
  let x = g.node('Gather', [embedName, ids], { axis: 0 }); // [B,T,H]

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
    const scores = g.node('Add', [g.node('Mul', [g.node('MatMul', [groupedQ, keysT]), g.constFloat(1 / Math.sqrt(d))]), bias]);
    const probs = g.node('Softmax', [scores], { axis: -1 }); // [B,KVH,group,T,S]
    const context = g.node('MatMul', [probs, g.node('Unsqueeze', [values, ints([2])])]); // [B,KVH,group,T,D]
    const merged = g.node('Reshape', [
      g.node('Transpose', [g.node('Reshape', [context, ints([0, heads, -1, d])])], { perm: [0, 2, 1, 3] }),
      ints([0, 0, heads * d]),
    ]);
    x = g.node('Add', [x, linear(merged, `${l}.self_attn.o_proj.weight`)]);

    const m = rmsNorm(x, `${l}.post_attention_layernorm.weight`);
    const gate = linear(m, `${l}.mlp.gate_proj.weight`);
    const swish = g.node('Mul', [g.node('Mul', [gate, g.node('Sigmoid', [gate])]), linear(m, `${l}.mlp.up_proj.weight`)]);
    x = g.node('Add', [x, linear(swish, `${l}.mlp.down_proj.weight`)]);
  }

  x = rmsNorm(x, 'model.norm.weight');
  const tiedQ4Head = () => {
    const given = weights['lm_head.weight'];
    return given && isQ4Tensor(given) ? given : quantizeQ4(float32(embed), [c.vocab_size, h]);
  };
  const logits = c.tie_word_embeddings
    ? options.dtype === 'q4'
      ? matMulNBits(x, 'lm_head.weight', tiedQ4Head())
      : g.node('MatMul', [x, g.initializer('lm_head.weight_transposed', transpose(float32(embed), c.vocab_size, h), [h, c.vocab_size])])
    : linear(x, 'lm_head.weight');
  g.node('Identity', [logits], {}, { outputs: ['logits'] });

  g.output('logits', DataType.FLOAT, ['batch_size', 'sequence_length', c.vocab_size]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    g.output(`present.${i}.key`, DataType.FLOAT, ['batch_size', kvHeads, 'total_sequence_length', d]);
    g.output(`present.${i}.value`, DataType.FLOAT, ['batch_size', kvHeads, 'total_sequence_length', d]);
  }
  return g.toBytes({ '': 17, 'com.microsoft': 1 }, options.metadata);
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let col = 0; col < cols; col++) out[col * rows + r] = data[r * cols + col]!;
  return out;
}
