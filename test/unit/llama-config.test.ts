/**
 * Reading a Hugging Face Llama config.json (`fromHfConfig`), as merge-qlora does for a bank's
 * checkpoint, and Llama 3's RoPE rescaling (`ropeInverseFrequencies`) against the formula of
 * Hugging Face's `_compute_llama3_parameters`, computed here by hand.
 */
import { describe, expect, it } from 'vitest';
import { fromHfConfig, ropeInverseFrequencies, toHfConfig } from '../../src/models/llama/config';

/** The config.json of meta-llama/Llama-3.2-1B-Instruct, as published. */
const LLAMA_32_1B = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
  head_dim: 64,
  hidden_act: 'silu',
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  use_cache: true,
  vocab_size: 128256,
};

describe('fromHfConfig', () => {
  it('reads Llama 3.2 1B: GQA, tied embeddings, the first of several EOS ids, llama3 RoPE scaling', () => {
    const c = fromHfConfig(LLAMA_32_1B);
    expect(c).toMatchObject({
      vocab_size: 128256,
      hidden_size: 2048,
      num_hidden_layers: 16,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      head_dim: 64,
      tie_word_embeddings: true,
      bos_token_id: 128000,
      eos_token_id: 128001,
      rope_theta: 500000,
      rope_scaling: { factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
    });
    // And writes it back with the scaling type transformers.js and Hugging Face expect.
    expect(toHfConfig(c).rope_scaling).toMatchObject({ rope_type: 'llama3', factor: 32 });
  });

  it('fills head_dim and num_key_value_heads the way Hugging Face defaults them', () => {
    const { head_dim: _h, num_key_value_heads: _k, rope_scaling: _r, ...old } = LLAMA_32_1B;
    const c = fromHfConfig(old);
    expect(c.head_dim).toBe(64);
    expect(c.num_key_value_heads).toBe(32);
    expect(c.rope_scaling).toBeUndefined();
  });

  it.each([
    [{ model_type: 'mistral' }, /model_type is "mistral"/],
    [{ attention_bias: true }, /biases are not supported/],
    [{ hidden_act: 'gelu' }, /hidden_act "gelu"/],
    [{ rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling type "yarn" is not supported/],
    [{ num_key_value_heads: 5 }, /multiple of num_key_value_heads/],
    [{ hidden_size: 'big' }, /"hidden_size" must be a number/],
  ])('refuses %j', (change, message) => {
    expect(() => fromHfConfig({ ...LLAMA_32_1B, ...change }, 'base/config.json')).toThrow(message);
  });
});

describe('ropeInverseFrequencies', () => {
  it('without scaling: theta^(-2i/d)', () => {
    const inv = ropeInverseFrequencies({ head_dim: 8, rope_theta: 10000 });
    expect(Array.from(inv)).toEqual([1, 0.1, 0.01, 0.001].map((x, i) => expect.closeTo(x, 12 - i)));
  });

  it('llama3: short wavelengths kept, long ones divided by factor, the band between interpolated', () => {
    // Wavelengths 2π/f: 6.3 (< 64/4 = 16: kept), 62.8 (between 16 and 64: mixed), 628 and 6283 (> 64: slowed).
    const scaling = { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };
    const inv = ropeInverseFrequencies({ head_dim: 8, rope_theta: 10000, rope_scaling: scaling });
    const smooth = (64 / ((2 * Math.PI) / 0.1) - 1) / (4 - 1);
    expect(inv[0]).toBeCloseTo(1, 12);
    expect(inv[1]).toBeCloseTo((1 - smooth) * (0.1 / 8) + smooth * 0.1, 12);
    expect(inv[2]).toBeCloseTo(0.01 / 8, 12);
    expect(inv[3]).toBeCloseTo(0.001 / 8, 12);
  });
});
