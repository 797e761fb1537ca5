/**
 * Llama in tfjs, for training: the same architecture as reference.ts (RMSNorm, RoPE with Hugging
 * Face's rotate_half, grouped-query causal attention, SwiGLU, tied or untied output head), batched,
 * with a padding mask, and optionally LoRA adapters on the projections.
 *
 * Weights come in and go out in Hugging Face's names and layouts (matrices [out, in]). Inside,
 * each projection is kept transposed, [in, out], so that `x @ W^T` is a plain matMul (transposed
 * matmuls are ~10x slower on the WASM backend; see tf-ops.ts).
 *
 * Positions follow the attention mask as Hugging Face's generate does: position = (number of real
 * tokens before this one), so a left-padded sequence gets the same positions as the unpadded one.
 * Padding keys are masked out of every query; outputs at padding positions are meaningless.
 *
 * LoRA (Hu et al. 2021): a targeted projection computes `x W^T + scale * (x A^T) B^T`, with
 * A [r, in] small random, B [out, r] zero (so the adapter starts as the identity), scale = alpha / r.
 * With LoRA on, the base weights are constants and only A and B are variables.
 */
import * as tf from '@tensorflow/tfjs';
import { ropeInverseFrequencies, validateLlamaConfig, type LlamaConfig } from './config';
import { peftLoraName, type LlamaProjection } from './lora';
import { llamaParameterShapes, type LlamaTensor, type LlamaWeights } from './reference';
import { embeddingLookup, matMul } from '../custom/tf-ops';
import { mulberry32 } from '../custom/random';
import { InvalidInputError, ModelFormatError } from '../../core/errors';

export interface LoraOptions {
  r: number;
  alpha: number;
  targetModules: readonly LlamaProjection[];
  /** Seed of A's initialisation. */
  seed: number;
}

/** A LoRA pair on one projection, stored transposed: aT [in, r], bT [r, out]. */
interface LoraPair {
  aT: tf.Variable;
  bT: tf.Variable;
}

const ATTENTION_PROJECTIONS: readonly string[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];

/** `model.layers.0.self_attn.q_proj` for layer 0, `q_proj`. */
export function projectionPath(layer: number, projection: LlamaProjection): string {
  return `model.layers.${layer}.${ATTENTION_PROJECTIONS.includes(projection) ? 'self_attn' : 'mlp'}.${projection}`;
}

const isMatrix = (name: string) => name !== 'model.embed_tokens.weight' && name !== 'lm_head.weight' && name.endsWith('_proj.weight');

/** A padded batch: token ids and a mask of 1 (real token) / 0 (padding), both [batch, time]. */
export interface LlamaBatch {
  ids: number[][];
  mask: number[][];
}

export class LlamaTfModel {
  /** Base tensors by Hugging Face name; projections transposed to [in, out]. */
  readonly params: Record<string, tf.Tensor> = {};
  /** LoRA pairs by module path (`model.layers.0.self_attn.q_proj`). */
  readonly lora: Record<string, LoraPair> = {};
  readonly loraScale: number;

  /**
   * `trainBase`: the base tensors are trainable variables (pretraining). Otherwise they are
   * constants; with `lora`, A and B are the only variables.
   */
  constructor(
    readonly config: LlamaConfig,
    weights: LlamaWeights,
    options: { trainBase?: boolean; lora?: LoraOptions } = {},
  ) {
    validateLlamaConfig(config);
    for (const [name, shape] of Object.entries(llamaParameterShapes(config))) {
      const w = weights[name];
      if (!w) throw new ModelFormatError(`missing weight ${name}`);
      if (w.shape.join() !== shape.join()) throw new ModelFormatError(`weight ${name} has shape [${w.shape}], expected [${shape}]`);
      const value = tf.tidy(() => {
        const t = tf.tensor(Float32Array.from(w.data), w.shape, 'float32');
        return isMatrix(name) ? t.transpose() : t;
      });
      if (options.trainBase) {
        this.params[name] = tf.variable(value, true);
        value.dispose();
      } else this.params[name] = value;
    }
    const lora = options.lora;
    this.loraScale = lora ? lora.alpha / lora.r : 0;
    if (lora) {
      // PEFT's default: A ~ kaiming-uniform(a=sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)); B = 0.
      const uniform = mulberry32(lora.seed);
      for (let layer = 0; layer < config.num_hidden_layers; layer++) {
        for (const projection of lora.targetModules) {
          const path = projectionPath(layer, projection);
          const [inDim, outDim] = this.params[`${path}.weight`]!.shape as [number, number];
          const bound = 1 / Math.sqrt(inDim);
          const a = Float32Array.from({ length: inDim * lora.r }, () => (2 * uniform() - 1) * bound);
          this.lora[path] = {
            aT: tf.variable(tf.tensor2d(a, [inDim, lora.r]), true),
            bT: tf.variable(tf.zeros([lora.r, outDim]), true),
          };
        }
      }
    }
  }

  /** What an optimiser should update: the base (when trainable) or the LoRA pairs. */
  trainableVariables(): tf.Variable[] {
    const base = Object.values(this.params).filter((t): t is tf.Variable => t instanceof tf.Variable);
    return [...base, ...Object.values(this.lora).flatMap(({ aT, bT }) => [aT, bT])];
  }

  /** `x @ W^T` (+ the LoRA term) for the projection at `path`; x is [rows, in]. */
  private linear(x: tf.Tensor2D, path: string): tf.Tensor2D {
    const y = matMul(x, this.params[`${path}.weight`]!) as tf.Tensor2D;
    const pair = this.lora[path];
    if (!pair) return y;
    return y.add(matMul(matMul(x, pair.aT), pair.bT).mul(this.loraScale));
  }

  private rmsNorm(x: tf.Tensor2D, name: string): tf.Tensor2D {
    const meanSquare = x.mul(x).mean(-1, true);
    return x.mul(meanSquare.add(this.config.rms_norm_eps).rsqrt()).mul(this.params[name]!);
  }

  /** Logits [batch, time, vocab]. */
  forward(batch: LlamaBatch): tf.Tensor3D {
    const c = this.config;
    const B = batch.ids.length;
    const T = batch.ids[0]?.length ?? 0;
    if (batch.ids.some((row) => row.length !== T) || batch.mask.length !== B || batch.mask.some((row) => row.length !== T))
      throw new InvalidInputError('LlamaTfModel.forward: ids and mask must be [batch, time] arrays of one shape');
    const { hidden_size: H, head_dim: d, num_attention_heads: nH, num_key_value_heads: nKV } = c;
    const group = nH / nKV;
    const { cos, sin } = ropeTables(batch.mask, d, ropeInverseFrequencies(c));
    const bias = attentionBias(batch.mask);
    return tf.tidy(() => {
      const ids = tf.tensor2d(batch.ids.flat(), [B, T], 'int32');
      let x = embeddingLookup(this.params['model.embed_tokens.weight'] as tf.Tensor2D, ids).reshape([B * T, H]) as tf.Tensor2D;
      const cosT = tf.tensor4d(cos, [B, 1, T, d]);
      const sinT = tf.tensor4d(sin, [B, 1, T, d]);
      // Query heads kvh*group .. (kvh+1)*group-1 share key/value head kvh: bias [B, 1, 1, T, T].
      const biasT = tf.tensor(bias, [B, 1, 1, T, T]);
      const rope = (t: tf.Tensor) => t.mul(cosT).add(rotateHalf(t, d).mul(sinT));
      /** [B*T, heads*d] -> [B, heads, T, d]. */
      const heads = (t: tf.Tensor, n: number) => t.reshape([B, T, n, d]).transpose([0, 2, 1, 3]);

      for (let i = 0; i < c.num_hidden_layers; i++) {
        const l = `model.layers.${i}`;
        const a = this.rmsNorm(x, `${l}.input_layernorm.weight`);
        const q = rope(heads(this.linear(a, `${l}.self_attn.q_proj`), nH)).reshape([B * nKV, group * T, d]);
        const k = rope(heads(this.linear(a, `${l}.self_attn.k_proj`), nKV)).reshape([B * nKV, T, d]);
        const v = heads(this.linear(a, `${l}.self_attn.v_proj`), nKV).reshape([B * nKV, T, d]);
        const scores = matMul(q, k.transpose([0, 2, 1]))
          .div(Math.sqrt(d))
          .reshape([B, nKV, group, T, T])
          .add(biasT);
        const weights = tf.softmax(scores).reshape([B * nKV, group * T, T]);
        const context = matMul(weights, v) // [B*nKV, group*T, d] = [B, nH, T, d]
          .reshape([B, nH, T, d])
          .transpose([0, 2, 1, 3])
          .reshape([B * T, nH * d]) as tf.Tensor2D;
        x = x.add(this.linear(context, `${l}.self_attn.o_proj`));

        const m = this.rmsNorm(x, `${l}.post_attention_layernorm.weight`);
        const gate = this.linear(m, `${l}.mlp.gate_proj`);
        const up = this.linear(m, `${l}.mlp.up_proj`);
        x = x.add(this.linear(gate.mul(tf.sigmoid(gate)).mul(up) as tf.Tensor2D, `${l}.mlp.down_proj`));
      }

      x = this.rmsNorm(x, 'model.norm.weight');
      const head = c.tie_word_embeddings
        ? this.params['model.embed_tokens.weight']!.transpose()
        : this.params['lm_head.weight']!.transpose();
      return matMul(x, head).reshape([B, T, c.vocab_size]) as tf.Tensor3D;
    });
  }

  /** The base weights in Hugging Face's names and layouts, as float32. */
  baseWeights(): LlamaWeights {
    const out: LlamaWeights = {};
    for (const [name, t] of Object.entries(this.params)) {
      const value = isMatrix(name) ? tf.tidy(() => t.transpose()) : t;
      out[name] = { shape: value.shape.slice(), data: Float32Array.from(value.dataSync()) };
      if (value !== t) value.dispose();
    }
    return out;
  }

  /** The LoRA pairs in PEFT's names: `base_model.model.<path>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r]. */
  adapterWeights(): Record<string, LlamaTensor> {
    const out: Record<string, LlamaTensor> = {};
    for (const [path, { aT, bT }] of Object.entries(this.lora)) {
      for (const [kind, t] of [
        ['lora_A', aT],
        ['lora_B', bT],
      ] as const) {
        const value = tf.tidy(() => t.transpose());
        out[peftLoraName(path, kind)] = { shape: value.shape.slice(), data: Float32Array.from(value.dataSync()) };
        value.dispose();
      }
    }
    return out;
  }

  dispose(): void {
    tf.dispose(Object.values(this.params));
    tf.dispose(Object.values(this.lora).flatMap(({ aT, bT }) => [aT, bT]));
  }
}

/** rotate_half(x) = [-x2, x1] on the last axis (length d). */
function rotateHalf(x: tf.Tensor, d: number): tf.Tensor {
  const half = d / 2;
  const begin = x.shape.map(() => 0);
  const size = x.shape.map(() => -1);
  const x1 = tf.slice(x, begin, [...size.slice(0, -1), half]);
  const x2 = tf.slice(x, [...begin.slice(0, -1), half], [...size.slice(0, -1), half]);
  return tf.concat([x2.neg(), x1], -1);
}

/**
 * cos and sin of the rotary angles, [batch, time, d] flattened, for positions taken from the mask:
 * position = real tokens before this one (padding positions get 0; their outputs are unused).
 */
function ropeTables(mask: number[][], d: number, invFreq: Float64Array): { cos: Float32Array; sin: Float32Array } {
  const B = mask.length;
  const T = mask[0]?.length ?? 0;
  const half = d / 2;
  const cos = new Float32Array(B * T * d);
  const sin = new Float32Array(B * T * d);
  mask.forEach((row, b) => {
    let seen = 0;
    row.forEach((m, t) => {
      const pos = m ? seen : 0;
      if (m) seen++;
      for (let i = 0; i < half; i++) {
        const angle = pos * invFreq[i]!;
        const at = (b * T + t) * d;
        cos[at + i] = cos[at + i + half] = Math.cos(angle);
        sin[at + i] = sin[at + i + half] = Math.sin(angle);
      }
    });
  });
  return { cos, sin };
}

/** Additive attention bias [batch, T(query), T(key)]: 0 where the key is real and not in the future, -1e9 elsewhere. */
function attentionBias(mask: number[][]): Float32Array {
  const B = mask.length;
  const T = mask[0]?.length ?? 0;
  const bias = new Float32Array(B * T * T);
  mask.forEach((row, b) => {
    for (let t = 0; t < T; t++) for (let s = 0; s < T; s++) bias[(b * T + t) * T + s] = s <= t && row[s] ? 0 : -1e9;
  });
  return bias;
}
