/**
 * Llama in plain TypeScript, float64 throughout: the reference that our ONNX export (and anything
 * else that runs a Llama) is checked against. It reads top to bottom like the architecture:
 *
 *   x = embed(ids)
 *   for each layer:
 *     x = x + o_proj(attention(rope(q_proj(norm(x))), rope(k_proj(norm(x))), v_proj(norm(x))))
 *     x = x + down_proj(silu(gate_proj(norm(x))) * up_proj(norm(x)))
 *   logits = lm_head(norm(x))
 *
 * Weights use Hugging Face's tensor names; matrices are stored [out, in] as in PyTorch's `Linear`.
 * One sequence at a time, no cache: speed is not the point, being obviously right is.
 */
import { ropeInverseFrequencies, validateLlamaConfig, type LlamaConfig } from './config';
import { mulberry32, normalSampler } from '../custom/random';
import { ModelFormatError } from '../../core/errors';

export interface LlamaTensor {
  shape: number[];
  data: Float32Array | Float64Array;
}
export type LlamaWeights = Record<string, LlamaTensor>;

/** Every tensor a Llama of this shape has, with its shape, in Hugging Face's naming. */
export function llamaParameterShapes(c: LlamaConfig): Record<string, number[]> {
  const { hidden_size: h, intermediate_size: ffn, head_dim: d } = c;
  const shapes: Record<string, number[]> = { 'model.embed_tokens.weight': [c.vocab_size, h] };
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `model.layers.${i}`;
    shapes[`${l}.input_layernorm.weight`] = [h];
    shapes[`${l}.self_attn.q_proj.weight`] = [c.num_attention_heads * d, h];
    shapes[`${l}.self_attn.k_proj.weight`] = [c.num_key_value_heads * d, h];
    shapes[`${l}.self_attn.v_proj.weight`] = [c.num_key_value_heads * d, h];
    shapes[`${l}.self_attn.o_proj.weight`] = [h, c.num_attention_heads * d];
    shapes[`${l}.post_attention_layernorm.weight`] = [h];
    shapes[`${l}.mlp.gate_proj.weight`] = [ffn, h];
    shapes[`${l}.mlp.up_proj.weight`] = [ffn, h];
    shapes[`${l}.mlp.down_proj.weight`] = [h, ffn];
  }
  shapes['model.norm.weight'] = [h];
  if (!c.tie_word_embeddings) shapes['lm_head.weight'] = [c.vocab_size, h];
  return shapes;
}

/** Hugging Face's initialisation: N(0, std) matrices (std = initializer_range, 0.02), norm gains of 1. */
export function initLlamaWeights(c: LlamaConfig, seed: number, std = 0.02): LlamaWeights {
  validateLlamaConfig(c);
  const normal = normalSampler(mulberry32(seed));
  const weights: LlamaWeights = {};
  for (const [name, shape] of Object.entries(llamaParameterShapes(c))) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (shape.length === 1) data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = normal() * std;
    weights[name] = { shape, data };
  }
  return weights;
}

/** The rows of a [rows, cols] activation, each a Float64Array. */
type Rows = Float64Array[];

function weight(weights: LlamaWeights, name: string, shape: number[]): LlamaTensor {
  const w = weights[name];
  if (!w) throw new ModelFormatError(`missing weight ${name}`);
  if (w.shape.length !== shape.length || w.shape.some((s, i) => s !== shape[i]))
    throw new ModelFormatError(`weight ${name} has shape [${w.shape}], expected [${shape}]`);
  return w;
}

/** y = x W^T for each row x, with W stored [out, in]. */
function linear(x: Rows, w: LlamaTensor): Rows {
  const [out, inp] = w.shape as [number, number];
  return x.map((row) => {
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = 0;
      for (let i = 0; i < inp; i++) s += row[i]! * w.data[o * inp + i]!;
      y[o] = s;
    }
    return y;
  });
}

/** RMSNorm: scale each row to unit root-mean-square, then by a learned gain (no mean, no bias). */
function rmsNorm(x: Rows, gain: LlamaTensor, eps: number): Rows {
  return x.map((row) => {
    const meanSquare = row.reduce((s, v) => s + v * v, 0) / row.length;
    const inv = 1 / Math.sqrt(meanSquare + eps);
    return row.map((v, i) => v * inv * gain.data[i]!);
  });
}

/**
 * Rotary position embedding on one head vector at position `pos`, Hugging Face's convention: the
 * head is split into halves (x1, x2), frequency i pairs x1[i] with x2[i], and
 * rope(x) = x * cos + rotate_half(x) * sin with rotate_half(x) = [-x2, x1].
 */
function rope(head: Float64Array, pos: number, invFreq: Float64Array): Float64Array {
  const d = head.length;
  const half = d / 2;
  const out = new Float64Array(d);
  for (let i = 0; i < half; i++) {
    const angle = pos * invFreq[i]!;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const x1 = head[i]!;
    const x2 = head[i + half]!;
    out[i] = x1 * cos - x2 * sin;
    out[i + half] = x2 * cos + x1 * sin;
  }
  return out;
}

/** Head `h` of each row of a [T, heads * d] projection, as T vectors of length d. */
function headOf(x: Rows, h: number, d: number): Rows {
  return x.map((row) => row.subarray(h * d, (h + 1) * d));
}

/**
 * Causal grouped-query attention: query head h reads key/value head floor(h / group), where
 * group = num_attention_heads / num_key_value_heads. Token t attends to tokens 0..t.
 */
function attention(c: LlamaConfig, q: Rows, k: Rows, v: Rows): Rows {
  const d = c.head_dim;
  const group = c.num_attention_heads / c.num_key_value_heads;
  const positions = q.map((_, t) => t);
  const invFreq = ropeInverseFrequencies(c);
  const out = q.map(() => new Float64Array(c.num_attention_heads * d));
  for (let kvh = 0; kvh < c.num_key_value_heads; kvh++) {
    const keys = headOf(k, kvh, d).map((key, t) => rope(key, positions[t]!, invFreq));
    const values = headOf(v, kvh, d);
    for (let h = kvh * group; h < (kvh + 1) * group; h++) {
      const queries = headOf(q, h, d).map((query, t) => rope(query, positions[t]!, invFreq));
      queries.forEach((query, t) => {
        // Scores against keys 0..t only (the causal mask), softmax, then the weighted sum of values.
        const scores = keys.slice(0, t + 1).map((key) => query.reduce((s, qi, i) => s + qi * key[i]!, 0) / Math.sqrt(d));
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        const context = out[t]!.subarray(h * d, (h + 1) * d);
        exps.forEach((e, j) => values[j]!.forEach((vi, i) => (context[i] = context[i]! + (e / total) * vi)));
      });
    }
  }
  return out;
}

const silu = (x: number) => x / (1 + Math.exp(-x));

/** SwiGLU MLP: down_proj(silu(gate_proj(x)) * up_proj(x)). */
function mlp(x: Rows, gate: LlamaTensor, up: LlamaTensor, down: LlamaTensor): Rows {
  const g = linear(x, gate);
  const u = linear(x, up);
  return linear(
    g.map((row, t) => row.map((gi, i) => silu(gi) * u[t]![i]!)),
    down,
  );
}

const add = (a: Rows, b: Rows): Rows => a.map((row, t) => row.map((v, i) => v + b[t]![i]!));

/** Next-token logits for every position of one sequence: a Float64Array of [ids.length, vocab_size]. */
export function llamaForward(c: LlamaConfig, weights: LlamaWeights, ids: number[]): Float64Array {
  validateLlamaConfig(c);
  const { hidden_size: h, intermediate_size: ffn, head_dim: d, rms_norm_eps: eps } = c;
  const w = (name: string, shape: number[]) => weight(weights, name, shape);

  const embed = w('model.embed_tokens.weight', [c.vocab_size, h]);
  let x: Rows = ids.map((id) => {
    if (!Number.isInteger(id) || id < 0 || id >= c.vocab_size) throw new ModelFormatError(`token id ${id} outside the vocabulary`);
    return Float64Array.from(embed.data.subarray(id * h, (id + 1) * h));
  });

  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `model.layers.${i}`;
    const a = rmsNorm(x, w(`${l}.input_layernorm.weight`, [h]), eps);
    const q = linear(a, w(`${l}.self_attn.q_proj.weight`, [c.num_attention_heads * d, h]));
    const k = linear(a, w(`${l}.self_attn.k_proj.weight`, [c.num_key_value_heads * d, h]));
    const v = linear(a, w(`${l}.self_attn.v_proj.weight`, [c.num_key_value_heads * d, h]));
    x = add(x, linear(attention(c, q, k, v), w(`${l}.self_attn.o_proj.weight`, [h, c.num_attention_heads * d])));

    const m = rmsNorm(x, w(`${l}.post_attention_layernorm.weight`, [h]), eps);
    x = add(
      x,
      mlp(m, w(`${l}.mlp.gate_proj.weight`, [ffn, h]), w(`${l}.mlp.up_proj.weight`, [ffn, h]), w(`${l}.mlp.down_proj.weight`, [h, ffn])),
    );
  }

  x = rmsNorm(x, w('model.norm.weight', [h]), eps);
  // A tied model may still be handed an explicit head: the q4 export's 4-bit copy (llamaQ4Weights).
  const head = c.tie_word_embeddings && !weights['lm_head.weight'] ? embed : w('lm_head.weight', [c.vocab_size, h]);
  const logits = new Float64Array(ids.length * c.vocab_size);
  linear(x, head).forEach((row, t) => logits.set(row, t * c.vocab_size));
  return logits;
}
