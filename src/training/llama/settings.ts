/**
 * The bundled demo Llama: its shape, its prompt and the training schedule of both steps, in one
 * place that the training script, the model card and the tests read.
 *
 * Small on purpose: it is trained from nothing on this project's two-core, GPU-less machines
 * (about 1M parameters). A bank runs the same merge and export on its own QLoRA-tuned Llama 3.x.
 */
import type { LlamaConfig } from '../../models/llama/config';
import type { LlamaProjection } from '../../models/llama/lora';

/** What the model sees; `{text}` is the customer's message. The label follows after one space. */
export const LLAMA_PROMPT = 'message: {text}\nintent:';
export const LLAMA_SEPARATOR = ' ';
/** Messages keep their first N tokens (training and the runtime's `max_text_tokens`). */
export const LLAMA_MAX_TEXT_TOKENS = 48;

/** The shape minus the tokenizer-dependent fields, which corpus.ts fills in. */
export const DEMO_SHAPE: Omit<LlamaConfig, 'vocab_size' | 'bos_token_id' | 'eos_token_id' | 'pad_token_id'> = {
  hidden_size: 128,
  intermediate_size: 384,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 32,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 128,
  tie_word_embeddings: true,
};

export interface BaseSettings {
  seed: number;
  vocabSize: number;
  /** Share of Banking77's training split held out for validation (never trained on, in either step). */
  validationFraction: number;
  /** Each epoch reads Banking77's labelled rows this many times and the HWU64 utterances once. */
  labelledRepeats: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  weightDecay: number;
  warmupSteps: number;
}

export interface QloraSettings {
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  weightDecay: number;
  warmupSteps: number;
  r: number;
  alpha: number;
  targetModules: LlamaProjection[];
  /** Share of the prompt's tokens replaced by [UNK] in each batch (word dropout). */
  tokenDropout: number;
}

export const BASE_SETTINGS: BaseSettings = {
  seed: 20261122,
  vocabSize: 2000,
  validationFraction: 0.1,
  labelledRepeats: 4,
  epochs: 7,
  batchSize: 32,
  learningRate: 3e-3,
  weightDecay: 0.01,
  warmupSteps: 200,
};

export const QLORA_SETTINGS: QloraSettings = {
  seed: 20261123,
  epochs: 6,
  batchSize: 32,
  learningRate: 2e-3,
  weightDecay: 0,
  warmupSteps: 100,
  r: 64,
  alpha: 128,
  targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  tokenDropout: 0.1,
};
