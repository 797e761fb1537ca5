/**
 * The shape of a Llama-architecture model, with Hugging Face's `config.json` field names so that
 * one object describes the model to our reference, our exporter and transformers.js alike.
 */

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
      throw new Error(`LlamaConfig.${key} must be a positive integer, got ${String(v)}`);
  }
  if (c.num_attention_heads % c.num_key_value_heads !== 0)
    throw new Error(`num_attention_heads (${c.num_attention_heads}) must be a multiple of num_key_value_heads (${c.num_key_value_heads})`);
  if (c.head_dim % 2 !== 0) throw new Error(`head_dim must be even for rotary embeddings, got ${c.head_dim}`);
  for (const key of ['bos_token_id', 'eos_token_id', 'pad_token_id'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 0 || c[key] >= c.vocab_size)
      throw new Error(`LlamaConfig.${key} must be a token id below vocab_size`);
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
    rope_scaling: null,
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
