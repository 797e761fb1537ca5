import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, Tensor, env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTransformersJsFolder } from '../../src/convert/llama/hf-folder';
import { llamaQ4Weights } from '../../src/convert/llama/onnx-export';
import { initLlamaWeights } from '../../src/models/llama/reference';
import { config, referenceGreedy, tinyTokenizer } from '../support/tiny-llama';

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
