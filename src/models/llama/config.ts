/**
 * The shape of a Llama-architecture model, with Hugging Face's `config.json` field names so that
 * one object describes the model to our reference, our exporter and transformers.js alike.
 */
import { ModelFormatError } from '../../core/errors';

export interface Llama3RopeScaling {
  factor: number;
  low_freq_factor: number;
  high_freq_factor: number;
  original_max_position_embeddings: number;
}

export interface LlamaConfig {
  vocab_size: number;
  hidden_size: number;
  /** Width of the SwiGLU MLP's hidden layer. */
  intermediate_size: number;
  num_hidden_layers: number;
  /** Query heads. */
  num_attention_heads: number;
  /** Key/value heads (grouped-query attention): each serves num_attention_heads / num_key_value_heads query heads. */
  num_key_value_heads: number;
  head_dim: number;
  rms_norm_eps: number;
  rope_theta: number;
  /** Llama 3.1+ RoPE rescaling (`rope_type: "llama3"`); absent for plain RoPE. */
  rope_scaling?: Llama3RopeScaling;
  max_position_embeddings: number;
  /** When true the output projection is the token embedding table and there is no `lm_head.weight`. */
  tie_word_embeddings: boolean;
  bos_token_id: number;
  eos_token_id: number;
  pad_token_id: number;
}

/** Throws when the shape cannot describe a Llama (heads that do not group, odd head_dim for RoPE, ...). */
export function validateLlamaConfig(c: LlamaConfig): void {
  const positive: (keyof LlamaConfig)[] = [
    'vocab_size',
    'hidden_size',
    'intermediate_size',
    'num_hidden_layers',
    'num_attention_heads',
    'num_key_value_heads',
    'head_dim',
    'max_position_embeddings',
  ];
  for (const key of positive) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
      throw new ModelFormatError(`LlamaConfig.${key} must be a positive integer, got ${String(v)}`);
  }
  if (c.num_attention_heads % c.num_key_value_heads !== 0)
    throw new ModelFormatError(
      `num_attention_heads (${c.num_attention_heads}) must be a multiple of num_key_value_heads (${c.num_key_value_heads})`,
    );
  if (c.head_dim % 2 !== 0) throw new ModelFormatError(`head_dim must be even for rotary embeddings, got ${c.head_dim}`);
  for (const key of ['bos_token_id', 'eos_token_id', 'pad_token_id'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 0 || c[key] >= c.vocab_size)
      throw new ModelFormatError(`LlamaConfig.${key} must be a token id below vocab_size`);
  }
}

/** The `config.json` that Hugging Face transformers and transformers.js read for LlamaForCausalLM. */
export function toHfConfig(c: LlamaConfig): Record<string, unknown> {
  validateLlamaConfig(c);
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: c.vocab_size,
    hidden_size: c.hidden_size,
    intermediate_size: c.intermediate_size,
    num_hidden_layers: c.num_hidden_layers,
    num_attention_heads: c.num_attention_heads,
    num_key_value_heads: c.num_key_value_heads,
    head_dim: c.head_dim,
    hidden_act: 'silu',
    rms_norm_eps: c.rms_norm_eps,
    rope_theta: c.rope_theta,
    rope_scaling: c.rope_scaling ? { rope_type: 'llama3', ...c.rope_scaling } : null,
    max_position_embeddings: c.max_position_embeddings,
    tie_word_embeddings: c.tie_word_embeddings,
    attention_bias: false,
    mlp_bias: false,
    bos_token_id: c.bos_token_id,
    eos_token_id: c.eos_token_id,
    pad_token_id: c.pad_token_id,
    torch_dtype: 'float32',
    use_cache: true,
  };
}

/** The `generation_config.json` next to it: greedy decoding unless the caller asks otherwise. */
export function toHfGenerationConfig(c: LlamaConfig): Record<string, unknown> {
  return { bos_token_id: c.bos_token_id, eos_token_id: c.eos_token_id, pad_token_id: c.pad_token_id, do_sample: false };
}

/**
 * A Hugging Face `config.json` for LlamaForCausalLM read back as a `LlamaConfig`, refusing what our
 * graph does not compute (biases, a non-SiLU activation, RoPE scaling other than Llama 3's).
 */
export function fromHfConfig(raw: unknown, file = 'config.json'): LlamaConfig {
  const fail = (why: string) => new ModelFormatError(`${file}: ${why}`);
  if (typeof raw !== 'object' || raw === null) throw fail('not a JSON object');
  const c = raw as Record<string, unknown>;
  if (c.model_type !== undefined && c.model_type !== 'llama') throw fail(`model_type is ${JSON.stringify(c.model_type)}, not "llama"`);
  if (c.attention_bias === true || c.mlp_bias === true) throw fail('attention or MLP biases are not supported');
  if (c.hidden_act !== undefined && c.hidden_act !== 'silu')
    throw fail(`hidden_act ${JSON.stringify(c.hidden_act)} is not supported (silu only)`);
  const num = (key: string, fallback?: number): number => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'number') throw fail(`"${key}" must be a number`);
    return v;
  };
  // Llama 3 lists several end-of-turn ids; the first is the one generation stops on by default.
  const firstId = (key: string, fallback: number): number => {
    const v = c[key];
    if (Array.isArray(v) && typeof v[0] === 'number') return v[0];
    return typeof v === 'number' ? v : fallback;
  };
  const heads = num('num_attention_heads');
  const hidden = num('hidden_size');
  const config: LlamaConfig = {
    vocab_size: num('vocab_size'),
    hidden_size: hidden,
    intermediate_size: num('intermediate_size'),
    num_hidden_layers: num('num_hidden_layers'),
    num_attention_heads: heads,
    num_key_value_heads: num('num_key_value_heads', heads),
    head_dim: num('head_dim', hidden / heads),
    rms_norm_eps: num('rms_norm_eps', 1e-6),
    rope_theta: num('rope_theta', 10000),
    max_position_embeddings: num('max_position_embeddings', 2048),
    tie_word_embeddings: c.tie_word_embeddings === true,
    bos_token_id: firstId('bos_token_id', 1),
    eos_token_id: firstId('eos_token_id', 2),
    pad_token_id: firstId('pad_token_id', firstId('eos_token_id', 2)),
  };
  const scaling = c.rope_scaling;
  if (scaling !== null && scaling !== undefined) {
    const s = scaling as Record<string, unknown>;
    const type = s.rope_type ?? s.type;
    if (type !== 'llama3' && type !== 'default') throw fail(`rope_scaling type ${JSON.stringify(type)} is not supported (llama3 only)`);
    if (type === 'llama3') {
      config.rope_scaling = {
        factor: Number(s.factor),
        low_freq_factor: Number(s.low_freq_factor),
        high_freq_factor: Number(s.high_freq_factor),
        original_max_position_embeddings: Number(s.original_max_position_embeddings),
      };
      if (Object.values(config.rope_scaling).some((v) => !(v > 0)))
        throw fail('rope_scaling llama3 needs positive factor, low_freq_factor, high_freq_factor, original_max_position_embeddings');
    }
  }
  validateLlamaConfig(config);
  return config;
}

/**
 * RoPE's inverse frequencies theta^(-2i/D), with Llama 3's rescaling when the config has it
 * (Hugging Face's `_compute_llama3_parameters`): long wavelengths are slowed by `factor`, short
 * ones kept, and the band between interpolated.
 */
export function ropeInverseFrequencies(c: Pick<LlamaConfig, 'head_dim' | 'rope_theta' | 'rope_scaling'>): Float64Array {
  const d = c.head_dim;
  const inv = Float64Array.from({ length: d / 2 }, (_, i) => Math.pow(c.rope_theta, (-2 * i) / d));
  const s = c.rope_scaling;
  if (!s) return inv;
  const lowFreqWavelen = s.original_max_position_embeddings / s.low_freq_factor;
  const highFreqWavelen = s.original_max_position_embeddings / s.high_freq_factor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) return f;
    if (wavelen > lowFreqWavelen) return f / s.factor;
    const smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    return (1 - smooth) * (f / s.factor) + smooth * f;
  });
}
