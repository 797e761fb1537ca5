/**
 * The benchmark's arithmetic and its peer: the FLOP formula against a count by hand, the peer
 * model as a working intent model (at a small shape, so the test stays fast), and the real
 * DistilBERT shape's parameter count without building it.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { flopsPerQuery, measureMatmulRate } from '../../src/bench/flops';
import { buildPeerModel, DISTILBERT_SHAPE, peerSource } from '../../src/bench/peer-model';
import type { CustomModelConfig, EncoderShape } from '../../src/models/custom/config';
import { countParameters } from '../../src/models/custom/model';
import { readInitializers } from '../../src/models/onnx/graph-builder';
import { CustomEngine } from '../../src/engine/custom-engine';
import { SESSION_OPTIONS } from '../../src/engine/session-options';

describe('flopsPerQuery', () => {
  it('counts each matrix product as 2 FLOPs per multiply-add, per layer and per member', () => {
    const shape: EncoderShape = { vocabSize: 10, maxTokens: 8, dModel: 4, heads: 2, layers: 1, ffn: 8, numLabels: 3 };
    // By hand for T = 2 tokens, d = 4, ffn = 8, 3 labels, one layer:
    //   Q, K, V, O: 4 products of [2x4]x[4x4] = 4 * 2*4*4 multiply-adds = 128 -> 256 FLOPs
    //   scores [2x4]x[4x2] = 16, weighted sum [2x2]x[2x4] = 16 (heads split d, the sum is the same) -> 64 FLOPs
    //   up [2x4]x[4x8] = 64, down [2x8]x[8x4] = 64 multiply-adds -> 256 FLOPs
    //   head [1x4]x[4x3] = 12 multiply-adds -> 24 FLOPs
    const one = flopsPerQuery(shape, 2);
    expect(one).toEqual({ projections: 256, attention: 64, feedForward: 256, classifier: 24, total: 600 });
    expect(flopsPerQuery(shape, 2, 4).total).toBe(2400);
    expect(flopsPerQuery({ ...shape, layers: 3 }, 2).total).toBe(3 * (256 + 64 + 256) + 24);
  });

  it('puts DistilBERT at about 85 MFLOP per token, before attention', () => {
    const perToken = flopsPerQuery(DISTILBERT_SHAPE, 1).total - flopsPerQuery(DISTILBERT_SHAPE, 0).total;
    expect(perToken / 1e6).toBeCloseTo(85, 0);
  });
});

describe('the DistilBERT-shaped peer', () => {
  it("has distilbert-base's parameter count (66.4M here, 67.0M with its pre-classifier)", () => {
    const parameters = countParameters(DISTILBERT_SHAPE);
    expect(parameters).toBeGreaterThan(66e6);
    expect(parameters).toBeLessThan(67e6);
  });

  const small: EncoderShape = { ...DISTILBERT_SHAPE, vocabSize: 300, maxTokens: 16, dModel: 32, heads: 4, layers: 2, ffn: 64 };

  it('builds an int8 model with our inputs and outputs that onnxruntime-node runs: 77 probabilities summing to 1', async () => {
    const peer = buildPeerModel(small, 3);
    expect(peer.parameters).toBe(countParameters(small));
    // Every matrix is stored as int8 (only biases and LayerNorm gains stay float32).
    const int8Values = [...readInitializers(peer.bytes).values()].reduce(
      (n, t) => n + (t.data instanceof Int8Array ? t.data.length : 0),
      0,
    );
    expect(int8Values).toBeGreaterThan(0.95 * peer.parameters);
    const session = await ort.InferenceSession.create(peer.bytes, SESSION_OPTIONS);
    // Two rows, the second right-padded.
    const ids = BigInt64Array.from([5n, 17n, 299n, 2n, 9n, 3n, 0n, 0n]);
    const mask = BigInt64Array.from([1n, 1n, 1n, 1n, 1n, 1n, 0n, 0n]);
    const out = await session.run({
      input_ids: new ort.Tensor('int64', ids, [2, 4]),
      attention_mask: new ort.Tensor('int64', mask, [2, 4]),
    });
    await session.release();
    expect(out.probabilities!.dims).toEqual([2, 77]);
    expect(out.logits!.dims).toEqual([2, 77]);
    const p = out.probabilities!.data as Float32Array;
    for (const row of [p.subarray(0, 77), p.subarray(77)]) {
      expect(row.every((x) => x >= 0)).toBe(true);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });

  it('loads in CustomEngine beside our tokenizer, which it reads token for token', async () => {
    const peer = buildPeerModel(small, 4);
    const labels = Array.from({ length: 77 }, (_, i) => `intent_${i}`);
    const config: CustomModelConfig = {
      version: 1,
      ...small,
      vocabSize: 6,
      labels,
      members: 4,
      temperature: 0.7,
      weights: 'int8',
      files: { model: 'model.onnx', tokenizer: 'tokenizer.json' },
    };
    const tokenizer = { type: 'wordpiece' as const, version: 1 as const, vocab: ['[PAD]', '[UNK]', 'card', 'my', '##s', '?'] };
    const engine = await CustomEngine.load(peerSource(peer, { config, tokenizer }), { ort, executionProviders: ['cpu'], device: 'cpu' });
    expect(engine.config).toMatchObject({ ...small, members: 1, temperature: 1 });
    expect(engine.modelBytes).toBe(peer.bytes.byteLength);
    // The padding entries never match: the ids are the ones our own vocabulary gives.
    expect(engine.tokenizer.encode('My cards? [unused0]').ids).toEqual([3, 2, 4, 5, 1, 1, 1]);
    const prediction = await engine.classify('my card?', { topK: 77 });
    expect(prediction.top).toHaveLength(77);
    expect(prediction.top.reduce((sum, t) => sum + t.score, 0)).toBeCloseTo(1, 5);
    await engine.dispose();
  });
});

describe('measureMatmulRate', () => {
  it('times a square fp32 MatMul and reports 2n³ over the median time', async () => {
    const rate = await measureMatmulRate(ort, {
      size: 64,
      runs: 5,
      warmup: 1,
      sessionOptions: { ...SESSION_OPTIONS, intraOpNumThreads: 1 },
    });
    expect(rate.size).toBe(64);
    expect(rate.medianMs).toBeGreaterThan(0);
    expect(rate.gflops).toBeCloseTo((2 * 64 ** 3) / (rate.medianMs * 1e6), 6);
    expect(rate.peakGflops).toBeGreaterThanOrEqual(rate.gflops);
  });
});
