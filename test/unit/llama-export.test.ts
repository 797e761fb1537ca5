import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LlamaConfig } from '../../src/models/llama/config';
import { exportLlamaOnnx, llamaQ4Weights } from '../../src/models/llama/onnx-export';
import { dequantizeQ4, quantizeQ4 } from '../../src/models/llama/quantize-q4';
import { initLlamaWeights, llamaForward, type LlamaWeights } from '../../src/models/llama/reference';
import { mulberry32 } from '../../src/models/custom/random';
import { config } from '../support/tiny-llama';

// The tiny Llama of test/support: intermediate_size 48 is not a multiple of 32, so the q4 blocks
// of down_proj are zero-padded.

/** Weights large enough that attention is far from uniform and every norm gain matters. */
function randomWeights(c: LlamaConfig, seed: number): LlamaWeights {
  const w = initLlamaWeights(c, seed, 0.2);
  const r = mulberry32(seed + 1);
  for (const t of Object.values(w)) if (t.shape.length === 1) for (let i = 0; i < t.data.length; i++) t.data[i] = 0.5 + r();
  return w;
}

const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);

interface Step {
  logits: Float32Array;
  present: Record<string, ort.Tensor>;
}

/** One run of the graph with explicit ids, mask and positions, and the cache from a previous step (or an empty one). */
async function run(
  session: ort.InferenceSession,
  c: LlamaConfig,
  ids: number[][],
  mask: number[][],
  positions: number[][],
  cache?: Record<string, ort.Tensor>,
): Promise<Step> {
  const feeds: Record<string, ort.Tensor> = { input_ids: int64(ids), attention_mask: int64(mask), position_ids: int64(positions) };
  for (let i = 0; i < c.num_hidden_layers; i++) {
    for (const kind of ['key', 'value']) {
      feeds[`past_key_values.${i}.${kind}`] =
        cache?.[`present.${i}.${kind}`] ??
        new ort.Tensor('float32', new Float32Array(0), [ids.length, c.num_key_value_heads, 0, c.head_dim]);
    }
  }
  const out = await session.run(feeds);
  const present: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(out)) if (name.startsWith('present.')) present[name] = t;
  return { logits: out.logits!.data as Float32Array, present };
}

const range = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + i);

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Rows [from, to) of a [T, V] logits array. */
const rows = (logits: ArrayLike<number>, from: number, to: number, v: number) => Array.from(logits).slice(from * v, to * v);

async function checkAgainstReference(bytes: Uint8Array, c: LlamaConfig, reference: LlamaWeights): Promise<void> {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const v = c.vocab_size;
  const a = [1, 17, 5, 42, 63, 8, 30];
  const b = [1, 9, 9, 50, 3, 3, 21];
  const refA = llamaForward(c, reference, a);
  const refB = llamaForward(c, reference, b);

  // A batch of two prompts, no cache.
  const prompt = await run(
    session,
    c,
    [a.slice(0, 5), b.slice(0, 5)],
    [range(1, 5).fill(1), range(1, 5).fill(1)],
    [range(0, 5), range(0, 5)],
  );
  expect(maxDiff(prompt.logits.slice(0, 5 * v), rows(refA, 0, 5, v))).toBeLessThan(1e-3);
  expect(maxDiff(prompt.logits.slice(5 * v), rows(refB, 0, 5, v))).toBeLessThan(1e-3);
  expect(prompt.present['present.0.key']!.dims).toEqual([2, c.num_key_value_heads, 5, c.head_dim]);

  // Then two more tokens, one at a time, reading the cache: the same logits as the full sequence.
  let cache = prompt.present;
  for (let t = 5; t < 7; t++) {
    const step = await run(session, c, [[a[t]!], [b[t]!]], [range(0, t + 1).fill(1), range(0, t + 1).fill(1)], [[t], [t]], cache);
    expect(maxDiff(step.logits.slice(0, v), rows(refA, t, t + 1, v))).toBeLessThan(1e-3);
    expect(maxDiff(step.logits.slice(v), rows(refB, t, t + 1, v))).toBeLessThan(1e-3);
    cache = step.present;
  }

  // Left padding, as transformers.js batches prompts of different lengths: padded positions must not leak.
  const short = [1, 17, 5];
  const refShort = llamaForward(c, reference, short);
  const padded = await run(session, c, [[0, 0, ...short]], [[0, 0, 1, 1, 1]], [[1, 1, 0, 1, 2]]);
  expect(maxDiff(padded.logits.slice(2 * v), rows(refShort, 0, 3, v))).toBeLessThan(1e-3);
  await session.release();
}

function opTypes(bytes: Uint8Array): string[] {
  return (onnxProto.onnx.ModelProto.decode(bytes).graph?.node ?? []).map((n) => `${n.domain ? n.domain + ':' : ''}${n.opType ?? ''}`);
}

describe('Llama ONNX export', () => {
  const weights = randomWeights(config, 7);

  it('fp32 graph matches the float64 reference, with and without the KV cache', async () => {
    await checkAgainstReference(exportLlamaOnnx(config, weights, { dtype: 'fp32' }), config, weights);
  });

  it('fp32 graph with tied embeddings matches the reference', async () => {
    const tied = { ...config, tie_word_embeddings: true };
    const w = randomWeights(tied, 11);
    await checkAgainstReference(exportLlamaOnnx(tied, w, { dtype: 'fp32' }), tied, w);
  });

  it('fp32 graph with Llama 3 RoPE scaling matches the reference (which rescales the same way)', async () => {
    // original 64, factors 1 and 4: of head_dim 8's four frequencies one is kept, one interpolated, two slowed.
    const scaled = {
      ...config,
      rope_scaling: { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 },
    };
    await checkAgainstReference(exportLlamaOnnx(scaled, weights, { dtype: 'fp32' }), scaled, weights);
  });

  it('q4 graph uses MatMulNBits and matches the reference run on the dequantised weights', async () => {
    const bytes = exportLlamaOnnx(config, weights, { dtype: 'q4' });
    const ops = opTypes(bytes);
    // 7 linear layers per block and the lm_head.
    expect(ops.filter((op) => op === 'com.microsoft:MatMulNBits')).toHaveLength(7 * config.num_hidden_layers + 1);
    // What stays plain MatMul: scores and context, activations times activations.
    expect(ops.filter((op) => op === 'MatMul')).toHaveLength(2 * config.num_hidden_layers);
    await checkAgainstReference(bytes, config, llamaQ4Weights(weights));
  });
});

describe('Llama ONNX export, tied q4', () => {
  it('quantises a tied head into its own MatMulNBits and matches the reference using that 4-bit head', async () => {
    const tied = { ...config, tie_word_embeddings: true };
    const w = randomWeights(tied, 13);
    const bytes = exportLlamaOnnx(tied, w, { dtype: 'q4' });
    expect(opTypes(bytes).filter((op) => op === 'com.microsoft:MatMulNBits')).toHaveLength(7 * config.num_hidden_layers + 1);
    const reference = llamaQ4Weights(w);
    expect(reference['lm_head.weight']?.shape).toEqual([tied.vocab_size, tied.hidden_size]);
    await checkAgainstReference(bytes, tied, reference);
  });
});

describe('the bundled demo, public/models/llama-qlora', () => {
  it('onnx/model_q4.onnx weighs at most 30 MB and runs every projection and the head as MatMulNBits', () => {
    const dir = 'public/models/llama-qlora';
    const q4 = `${dir}/onnx/model_q4.onnx`;
    const layers = (JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')) as { num_hidden_layers: number }).num_hidden_layers;
    expect(statSync(q4).size).toBeLessThanOrEqual(30_000_000);
    expect(opTypes(readFileSync(q4)).filter((op) => op === 'com.microsoft:MatMulNBits')).toHaveLength(7 * layers + 1);
  });
});

describe('q4 quantisation', () => {
  it('packs blocks of 32 low nibble first and round-trips within half a step', () => {
    const r = mulberry32(3);
    const [n, k] = [3, 40]; // 2 blocks per row, the second padded
    const data = Float32Array.from({ length: n * k }, () => r() * 2 - 1);
    const q = quantizeQ4(data, [n, k]);
    expect(q.packed.length).toBe(n * 2 * 16);
    expect(q.scales.length).toBe(n * 2);
    const back = dequantizeQ4(q);
    for (let i = 0; i < data.length; i++) {
      const scale = q.scales[Math.floor(i / k) * 2 + Math.floor((i % k) / 32)]!;
      expect(Math.abs(back[i]! - data[i]!)).toBeLessThanOrEqual(scale / 2 + 1e-7);
    }
    // The first value of row 0 lives in the low nibble of byte 0.
    expect((q.packed[0]! & 0x0f) - 8).toBe(Math.round(data[0]! / q.scales[0]!));
    // Padding of row 0's second block (values 40..63) is the zero point 8.
    expect(q.packed[16 + 8 + 4]).toBe(0x88);
  });
});
