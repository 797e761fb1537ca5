/**
 * The Llama training side on a tiny config (vocabulary 64, hidden 32, 2 layers, 4 query heads over
 * 2 key/value heads of 8, MLP 48): the tfjs forward against the float64 reference (reference.ts),
 * with right and left padding; NF4 codes and round-trip error; LoRA with B = 0 is the base; a few
 * QLoRA steps lower the loss and move only A and B; the adapter, merged as merge.ts merges it,
 * gives a model whose reference forward matches the tfjs LoRA forward.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LlamaConfig } from '../../src/models/llama/config';
import type { LlamaProjection } from '../../src/models/llama/lora';
import { addLoraDelta, loraScale, parseAdapterConfig } from '../../src/convert/llama/merge';
import { dequantizeNf4, NF4_CODE, nf4CodeAt, quantizeNf4 } from '../../src/training/llama/nf4';
import { initLlamaWeights, llamaForward, type LlamaWeights } from '../../src/models/llama/reference';
import { LlamaTfModel, projectionPath } from '../../src/models/llama/tf-model';
import { dropTokens, makeClmBatch, trainClm, trainLoop } from '../../src/training/llama/train-clm';
import { nf4FrozenBase, promptCompletionExample, trainQlora, type PromptCompletion } from '../../src/training/llama/train-qlora';
import { mulberry32, normalSampler } from '../../src/models/custom/random';

const TINY: LlamaConfig = {
  vocab_size: 64,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  max_position_embeddings: 64,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
  pad_token_id: 0,
};
const TARGETS: LlamaProjection[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Logits of row `b` at positions [from, from + n) of a [B, T, V] tensor. */
function rowLogits(logits: tf.Tensor3D, b: number, from: number, n: number): Float32Array {
  const [, T, V] = logits.shape;
  return (logits.dataSync() as Float32Array).slice((b * T + from) * V, (b * T + from + n) * V);
}

/** Two sequences (lengths 7 and 4) padded on the right or the left. */
function padded(seqs: number[][], side: 'left' | 'right') {
  const T = Math.max(...seqs.map((s) => s.length));
  const fill = (s: number[], v: number, pad: number) => {
    const p = new Array<number>(T - s.length).fill(pad);
    const body = s.map(() => v);
    return side === 'right' ? [...body, ...p] : [...p, ...body];
  };
  return {
    ids: seqs.map((s) =>
      side === 'right' ? [...s, ...new Array<number>(T - s.length).fill(0)] : [...new Array<number>(T - s.length).fill(0), ...s],
    ),
    mask: seqs.map((s) => fill(s, 1, 0)),
    T,
  };
}

describe('Llama in tfjs (tiny config)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  const seqs = [
    [1, 5, 9, 33, 2, 17, 63],
    [1, 40, 12, 7],
  ];

  for (const tied of [false, true])
    for (const side of ['right', 'left'] as const)
      it(`matches the float64 reference within 1e-4 (${tied ? 'tied' : 'untied'} head, ${side} padding)`, () => {
        const config = { ...TINY, tie_word_embeddings: tied };
        const weights = initLlamaWeights(config, 7, 0.2);
        const model = new LlamaTfModel(config, weights);
        const batch = padded(seqs, side);
        const logits = model.forward(batch);
        seqs.forEach((s, b) => {
          const from = side === 'right' ? 0 : batch.T - s.length;
          expect(maxDiff(rowLogits(logits, b, from, s.length), llamaForward(config, weights, s))).toBeLessThan(1e-4);
        });
        logits.dispose();
        model.dispose();
      });

  it('with LoRA B = 0 gives exactly the base output', () => {
    const weights = initLlamaWeights(TINY, 3, 0.2);
    const base = new LlamaTfModel(TINY, weights);
    const lora = new LlamaTfModel(TINY, weights, { lora: { r: 4, alpha: 8, targetModules: TARGETS, seed: 1 } });
    const batch = padded(seqs, 'right');
    const [a, b] = [base.forward(batch), lora.forward(batch)];
    expect(maxDiff(a.dataSync(), b.dataSync())).toBeLessThan(1e-6);
    expect(lora.trainableVariables()).toHaveLength(2 * TARGETS.length * TINY.num_hidden_layers);
    tf.dispose([a, b]);
    base.dispose();
    lora.dispose();
  });
});

describe('NF4', () => {
  it('has the 16 published code values, ascending, with -1, 0 and 1', () => {
    expect(NF4_CODE).toHaveLength(16);
    expect([NF4_CODE[0], NF4_CODE[7], NF4_CODE[15]]).toEqual([-1, 0, 1]);
    for (let i = 1; i < 16; i++) expect(NF4_CODE[i]!).toBeGreaterThan(NF4_CODE[i - 1]!);
  });

  it('dequantises to code * block absmax, and the round-trip error is at most half the widest code gap', () => {
    const normal = normalSampler(mulberry32(5));
    const data = Float32Array.from({ length: 1000 }, () => normal() * 0.3); // not a multiple of 64
    const q = quantizeNf4(data, [10, 100]);
    expect(q.codes).toHaveLength(500);
    expect(q.absmax).toHaveLength(16);
    const back = dequantizeNf4(q);
    const used = new Set<number>();
    let widestHalfGap = 0;
    for (let i = 1; i < 16; i++) widestHalfGap = Math.max(widestHalfGap, (NF4_CODE[i]! - NF4_CODE[i - 1]!) / 2);
    for (let i = 0; i < data.length; i++) {
      const block = Math.floor(i / 64);
      const code = nf4CodeAt(q, i);
      used.add(code);
      expect(back[i]).toBe(Math.fround(NF4_CODE[code]! * q.absmax[block]!));
      expect(Math.abs(back[i]! - data[i]!)).toBeLessThanOrEqual(widestHalfGap * q.absmax[block]! + 1e-7);
      // The nearest code: no other code is closer.
      const x = data[i]! / q.absmax[block]!;
      for (const c of NF4_CODE) expect(Math.abs(x - NF4_CODE[code]!)).toBeLessThanOrEqual(Math.abs(x - c) + 1e-7);
    }
    expect(used.size).toBe(16);
    // Values already on the grid come back exactly.
    const grid = Float32Array.from({ length: 64 }, (_, i) => NF4_CODE[i % 16]! * 0.5);
    expect(Array.from(dequantizeNf4(quantizeNf4(grid, [64])))).toEqual(Array.from(grid));
  });
});

describe('QLoRA training (tiny config)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  // Toy task: after a 4-token prompt, say its first token then its last.
  const random = mulberry32(11);
  const toy: PromptCompletion[] = Array.from({ length: 16 }, () => {
    const prompt = [1, ...Array.from({ length: 3 }, () => 3 + Math.floor(random() * 61))];
    return { prompt, completion: [prompt[1]!, prompt[3]!] };
  });
  const base = initLlamaWeights(TINY, 21, 0.1);

  it('lowers the loss, moves only A and B, and the merged adapter reproduces the LoRA forward', () => {
    const frozen = nf4FrozenBase(base);
    const model = new LlamaTfModel(TINY, frozen, { lora: { r: 4, alpha: 8, targetModules: TARGETS, seed: 2 } });
    const before = Object.fromEntries(Object.entries(model.params).map(([n, t]) => [n, Float32Array.from(t.dataSync())]));
    const result = trainLoop(model, model.trainableVariables(), {
      examples: toy.map(promptCompletionExample),
      padId: 0,
      steps: 12,
      batchSize: 16,
      learningRate: 2e-2,
      weightDecay: 0,
      seed: 1,
    });
    expect(result.losses.at(-1)!).toBeLessThan(result.losses[0]! - 0.5);
    for (const [name, t] of Object.entries(model.params)) expect(t.dataSync(), name).toEqual(before[name]);

    const adapter = model.adapterWeights();
    const path = projectionPath(1, 'down_proj');
    expect(adapter[`base_model.model.${path}.lora_A.weight`]!.shape).toEqual([4, 48]);
    expect(adapter[`base_model.model.${path}.lora_B.weight`]!.shape).toEqual([32, 4]);
    expect(adapter[`base_model.model.${path}.lora_B.weight`]!.data.some((v) => v !== 0)).toBe(true);

    // Merge as merge.ts does (W + alpha/r * B @ A), onto the NF4 base the adapter was trained against.
    const merged: LlamaWeights = {};
    for (const [name, w] of Object.entries(frozen)) merged[name] = { shape: w.shape, data: Float32Array.from(w.data) };
    for (let layer = 0; layer < TINY.num_hidden_layers; layer++)
      for (const p of TARGETS) {
        const mp = projectionPath(layer, p);
        const w = merged[`${mp}.weight`]!;
        const [out, inDim] = w.shape as [number, number];
        const a = adapter[`base_model.model.${mp}.lora_A.weight`]!.data as Float32Array;
        const b = adapter[`base_model.model.${mp}.lora_B.weight`]!.data as Float32Array;
        addLoraDelta(w.data as Float32Array, a, b, out, inDim, 4, 8 / 4);
      }
    const ids = toy[0]!.prompt.concat(toy[0]!.completion);
    const logits = model.forward({ ids: [ids], mask: [ids.map(() => 1)] });
    expect(maxDiff(rowLogits(logits, 0, 0, ids.length), llamaForward(TINY, merged, ids))).toBeLessThan(1e-4);
    logits.dispose();
    model.dispose();
  });

  it('trainQlora returns a PEFT adapter and config that merge.ts accepts', () => {
    const result = trainQlora({
      config: TINY,
      baseWeights: base,
      examples: toy,
      r: 2,
      alpha: 4,
      targetModules: ['q_proj', 'v_proj'],
      padId: 0,
      steps: 2,
      batchSize: 4,
      learningRate: 1e-2,
      weightDecay: 0,
      seed: 3,
    });
    expect(Object.keys(result.adapter).sort()).toEqual(
      [0, 1]
        .flatMap((l) =>
          ['q_proj', 'v_proj'].flatMap((p) => ['A', 'B'].map((k) => `base_model.model.model.layers.${l}.self_attn.${p}.lora_${k}.weight`)),
        )
        .sort(),
    );
    const parsed = parseAdapterConfig(result.adapterConfig, 'adapter_config.json');
    expect(loraScale(parsed)).toBe(2);
    expect(result.losses).toHaveLength(2);
  });

  it('trainClm (all weights) lowers the loss, moves every tensor and leaks no tensors', () => {
    const sequences = toy.map(promptCompletionExample).map(({ ids }) => ({ ids }));
    const tensorsBefore = tf.memory().numTensors;
    const result = trainClm({
      config: TINY,
      weights: base,
      examples: sequences,
      padId: 0,
      steps: 8,
      batchSize: 16,
      learningRate: 1e-2,
      weightDecay: 0.01,
      seed: 4,
    });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(result.losses.at(-1)!).toBeLessThan(result.losses[0]! - 0.3);
    expect(Object.keys(result.weights).sort()).toEqual(Object.keys(base).sort());
    for (const [name, w] of Object.entries(result.weights)) {
      expect(w.shape, name).toEqual(base[name]!.shape);
      expect(Array.from(w.data), name).not.toEqual(Array.from(base[name]!.data));
    }
  });

  it('puts the loss only on the completion tokens', () => {
    const batch = makeClmBatch(
      [promptCompletionExample({ prompt: [1, 5, 6], completion: [7, 8] }), promptCompletionExample({ prompt: [1, 9], completion: [3] })],
      0,
    );
    expect(batch.ids).toEqual([
      [1, 5, 6, 7, 8],
      [1, 9, 3, 0, 0],
    ]);
    expect(batch.mask).toEqual([
      [1, 1, 1, 1, 1],
      [1, 1, 1, 0, 0],
    ]);
    expect(batch.targets).toEqual([
      [0, 0, 0, 1, 1],
      [0, 0, 1, 0, 0],
    ]);
  });
});

describe('word dropout on the context', () => {
  const rows = [promptCompletionExample({ prompt: [1, 10, 11, 12, 13], completion: [20, 21, 2] })];

  it('at rate 1 replaces every prompt token but the first, and never a target', () => {
    expect(dropTokens(rows, { rate: 1, id: 3 }, mulberry32(1))[0]!.ids).toEqual([1, 3, 3, 3, 3, 20, 21, 2]);
  });

  it('at rate 0, or without the option, leaves the batch alone; at 0.5 drops some and keeps some', () => {
    expect(dropTokens(rows, { rate: 0, id: 3 }, mulberry32(1))).toBe(rows);
    expect(dropTokens(rows, undefined, mulberry32(1))).toBe(rows);
    const many = Array.from({ length: 200 }, () => rows[0]!);
    const dropped = dropTokens(many, { rate: 0.5, id: 3 }, mulberry32(2))
      .flatMap((r) => r.ids.slice(1, 5))
      .filter((id) => id === 3).length;
    expect(dropped / 800).toBeGreaterThan(0.4);
    expect(dropped / 800).toBeLessThan(0.6);
  });
});
