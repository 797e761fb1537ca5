import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, Tensor, env } from '@huggingface/transformers';
import type { PreTrainedModel, PreTrainedTokenizer } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/models/custom/random';
import { classifyWithLlama, labelTokenIds } from '../../src/engine/llama-constrained-decoding';
import { writeTransformersJsFolder } from '../../src/convert/llama/hf-folder';
import { LabelTrie } from '../../src/engine/llama-label-trie';
import { initLlamaWeights, llamaForward } from '../../src/models/llama/reference';
import { config, tinyTokenizer } from '../support/tiny-llama';

const EOS = 2;

describe('LabelTrie', () => {
  const trie = new LabelTrie(
    [
      { label: 'billing', ids: [10, 11] },
      { label: 'billing dispute', ids: [10, 11, 12] },
      { label: 'bank', ids: [10, 13] },
      { label: 'card', ids: [20] },
    ],
    EOS,
  );

  it('allows the first token of every label at the start', () => {
    expect(trie.allowedNext([]).sort((a, b) => a - b)).toEqual([10, 20]);
  });

  it('branches where labels share a prefix', () => {
    expect(trie.allowedNext([10]).sort((a, b) => a - b)).toEqual([11, 13]);
  });

  it('lets a label that is a prefix of another either end (EOS) or go on', () => {
    expect(trie.allowedNext([10, 11]).sort((a, b) => a - b)).toEqual([EOS, 12]);
    expect(trie.allowedNext([10, 11, 12])).toEqual([EOS]);
    expect(trie.allowedNext([20])).toEqual([EOS]);
  });

  it('allows nothing after a prefix no label has, or after a finished label', () => {
    expect(trie.allowedNext([11])).toEqual([]);
    expect(trie.allowedNext([10, 12])).toEqual([]);
    expect(trie.allowedNext([20, EOS])).toEqual([]);
  });

  it('maps ids back to the label, with or without EOS and ignoring what follows EOS', () => {
    expect(trie.labelFor([10, 11, EOS])).toBe('billing');
    expect(trie.labelFor([10, 11, 12, EOS, 0, 0])).toBe('billing dispute');
    expect(trie.labelFor([20])).toBe('card');
    expect(trie.labelFor([10])).toBeUndefined();
    expect(trie.labelFor([10, 12, EOS])).toBeUndefined();
  });

  it('knows the longest label, EOS included', () => {
    expect(trie.maxLength).toBe(4);
  });

  it('rejects labels that tokenize identically or contain EOS', () => {
    expect(
      () =>
        new LabelTrie(
          [
            { label: 'a', ids: [5] },
            { label: 'b', ids: [5] },
          ],
          EOS,
        ),
    ).toThrow(/identically/);
    expect(() => new LabelTrie([{ label: 'a', ids: [5, EOS] }], EOS)).toThrow(/EOS/);
  });
});

describe('classifyWithLlama on a tiny random Llama (transformers.js, cpu)', () => {
  // Labels from the tiny word vocabulary, with shared prefixes and one label a prefix of another.
  const labels = ['w10', 'w10 w11', 'w12 w13', 'w12 w14', 'w20'];
  const weights = initLlamaWeights(config, 11, 0.2);
  let dir: string;
  let model: PreTrainedModel;
  let tokenizer: PreTrainedTokenizer;

  const random = mulberry32(5);
  const prompts = Array.from({ length: 30 }, () => {
    const n = 2 + Math.floor(random() * 6);
    const words = Array.from({ length: n }, () => `w${4 + Math.floor(random() * (config.vocab_size - 4))}`);
    return [...words, 'w9'].join(' ');
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llama-constrained-'));
    await writeTransformersJsFolder(join(dir, 'tiny-llama'), config, weights, tinyTokenizer());
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = dir;
    tokenizer = await AutoTokenizer.from_pretrained('tiny-llama');
    model = await AutoModelForCausalLM.from_pretrained('tiny-llama', { dtype: 'fp32', device: 'cpu' });
  });
  afterAll(async () => {
    await model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('always returns exactly one of the labels, with a confidence in (0, 1]', async () => {
    const seen = new Set<string>();
    for (const prompt of prompts) {
      const { label, confidence } = await classifyWithLlama({ model, tokenizer, prompt, labels });
      expect(labels).toContain(label);
      expect(confidence).toBeGreaterThan(0);
      expect(confidence).toBeLessThanOrEqual(1);
      seen.add(label);
    }
    // The random model does pick different labels, so "always a label" is not one fixed answer.
    expect(seen.size).toBeGreaterThan(1);
  });

  it('unconstrained greedy decoding on the same model and prompts does not always spell a label', async () => {
    const trie = new LabelTrie(
      labels.map((label) => ({ label, ids: labelTokenIds(tokenizer, prompts[0]!, label) })),
      EOS,
    );
    let notALabel = 0;
    for (const prompt of prompts) {
      const ids = tokenizer.encode(prompt);
      const out = (await model.generate({
        input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
        attention_mask: new Tensor('int64', BigInt64Array.from(ids.map(() => 1n)), [1, ids.length]),
        max_new_tokens: trie.maxLength,
        do_sample: false,
      })) as Tensor;
      const generated = Array.from(out.data as BigInt64Array, Number).slice(ids.length);
      if (trie.labelFor(generated) === undefined || !generated.includes(EOS)) notALabel++;
    }
    expect(notALabel).toBeGreaterThan(0);
  });

  it('picks the constrained argmax of the float64 reference, and its confidence matches a hand computation', async () => {
    const prompt = prompts[0]!;
    const result = await classifyWithLlama({ model, tokenizer, prompt, labels });
    const trie = new LabelTrie(
      labels.map((label) => ({ label, ids: labelTokenIds(tokenizer, prompt, label) })),
      EOS,
    );
    const ids = tokenizer.encode(prompt);
    const generated: number[] = [];
    let confidence = 1;
    for (;;) {
      const allowed = trie.allowedNext(generated);
      if (allowed.length === 0) break;
      const seq = [...ids, ...generated];
      const logits = llamaForward(config, weights, seq).slice((seq.length - 1) * config.vocab_size);
      const z = allowed.map((id) => logits[id]!);
      const max = Math.max(...z);
      const sum = z.reduce((s, v) => s + Math.exp(v - max), 0);
      const best = z.indexOf(max);
      confidence *= 1 / sum; // exp(max - max) / sum
      generated.push(allowed[best]!);
    }
    expect(result.generatedIds).toEqual(generated);
    expect(result.label).toBe(trie.labelFor(generated));
    expect(Math.abs(result.confidence - confidence)).toBeLessThan(1e-4);
  });

  it('topK ranks labels by the same renormalised probabilities: they sum to 1 and the greedy label scores its confidence', async () => {
    for (const prompt of prompts.slice(0, 3)) {
      const result = await classifyWithLlama({ model, tokenizer, prompt, labels, topK: labels.length });
      const alternatives = result.alternatives!;
      expect(alternatives.map((a) => a.label).sort()).toEqual([...labels].sort());
      expect(alternatives.reduce((s, a) => s + a.probability, 0)).toBeCloseTo(1, 6);
      for (let i = 1; i < alternatives.length; i++)
        expect(alternatives[i]!.probability).toBeLessThanOrEqual(alternatives[i - 1]!.probability);
      const greedy = alternatives.find((a) => a.label === result.label)!;
      expect(greedy.probability).toBeCloseTo(result.confidence, 6);
      const top2 = await classifyWithLlama({ model, tokenizer, prompt, labels, topK: 2 });
      expect(top2.alternatives).toEqual(alternatives.slice(0, 2));
    }
  });
});
