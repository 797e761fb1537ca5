/** A tiny random Llama and a word-level tokenizer over its vocabulary, for tests that load it in transformers.js. */
import type { LlamaConfig } from '../../src/models/llama/config';
import type { HfTokenizerFiles } from '../../src/tokenizer/hf-tokenizer';
import { llamaForward, type LlamaWeights } from '../../src/models/llama/reference';

export const config: LlamaConfig = {
  vocab_size: 64,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 128,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
  pad_token_id: 0,
};

/** A word-level tokenizer over the 64 ids: <pad> <s> </s> <unk>, then w4 .. w63. */
export function tinyTokenizer(): HfTokenizerFiles {
  const special = ['<pad>', '<s>', '</s>', '<unk>'];
  const vocab: Record<string, number> = {};
  for (let id = 0; id < config.vocab_size; id++) vocab[special[id] ?? `w${id}`] = id;
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: special.map((content, id) => ({
        id,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      normalizer: null,
      pre_tokenizer: { type: 'WhitespaceSplit' },
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab, unk_token: '<unk>' },
    },
    tokenizerConfig: {
      tokenizer_class: 'PreTrainedTokenizerFast',
      bos_token: '<s>',
      eos_token: '</s>',
      pad_token: '<pad>',
      unk_token: '<unk>',
      model_max_length: config.max_position_embeddings,
    },
  };
}

/** Greedy continuation by the float64 reference, one full forward pass per new token. */
export function referenceGreedy(weights: LlamaWeights, prompt: number[], steps: number): number[] {
  const ids = [...prompt];
  for (let s = 0; s < steps; s++) {
    const logits = llamaForward(config, weights, ids).slice((ids.length - 1) * config.vocab_size);
    ids.push(logits.indexOf(Math.max(...logits)));
  }
  return ids;
}
