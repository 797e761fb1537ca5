import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, Tensor, env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlamaConfig } from '../../src/models/llama/config';
import { writeTransformersJsFolder, type HfTokenizerFiles } from '../../src/models/llama/hf-folder';
import { llamaQ4Weights } from '../../src/models/llama/onnx-export';
import { initLlamaWeights, llamaForward, type LlamaWeights } from '../../src/models/llama/reference';

const config: LlamaConfig = {
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
function tinyTokenizer(): HfTokenizerFiles {
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
function referenceGreedy(weights: LlamaWeights, prompt: number[], steps: number): number[] {
  const ids = [...prompt];
  for (let s = 0; s < steps; s++) {
    const logits = llamaForward(config, weights, ids).slice((ids.length - 1) * config.vocab_size);
    ids.push(logits.indexOf(Math.max(...logits)));
  }
  return ids;
}

describe('transformers.js loads the exported Llama folder', () => {
  let dir: string;
  const weights = initLlamaWeights(config, 7, 0.2);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llama-hf-'));
    await writeTransformersJsFolder(join(dir, 'tiny-llama'), config, weights, tinyTokenizer());
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = dir;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('tokenizes and decodes with the hand-written word-level tokenizer', async () => {
    const tokenizer = await AutoTokenizer.from_pretrained('tiny-llama');
    const ids = tokenizer.encode('w17 w5 w42', { add_special_tokens: false });
    expect(ids).toEqual([17, 5, 42]);
    expect(tokenizer.decode([17, 5, 42])).toBe('w17 w5 w42');
  });

  it('q4 and fp32 weights continue this prompt differently, so the q4 test shows model_q4.onnx was the file loaded', () => {
    expect(referenceGreedy(llamaQ4Weights(weights), [1, 17, 5, 42], 4)).not.toEqual(referenceGreedy(weights, [1, 17, 5, 42], 4));
  });

  for (const dtype of ['fp32', 'q4'] as const) {
    it(`generates greedily like the reference (${dtype}, device cpu)`, async () => {
      const model = await AutoModelForCausalLM.from_pretrained('tiny-llama', { dtype, device: 'cpu' });
      const prompt = [1, 17, 5, 42];
      const out = (await model.generate({
        input_ids: new Tensor('int64', BigInt64Array.from(prompt.map(BigInt)), [1, prompt.length]),
        attention_mask: new Tensor('int64', BigInt64Array.from(prompt.map(() => 1n)), [1, prompt.length]),
        max_new_tokens: 4,
        do_sample: false,
      })) as Tensor;
      const generated = Array.from(out.data as BigInt64Array, Number);
      const expected = referenceGreedy(dtype === 'q4' ? llamaQ4Weights(weights) : weights, prompt, 4);
      expect(generated).toEqual(expected);
      await model.dispose();
    });
  }
});
