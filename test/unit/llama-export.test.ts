import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LlamaConfig } from '../../src/models/llama/config';
import { embeddingStorage, exportLlamaOnnx, llamaQ4Weights } from '../../src/convert/llama/onnx-export';
import { dequantizeQ4, quantizeQ4 } from '../../src/convert/llama/quantize-q4';
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
  if (session.inputNames.includes('num_logits_to_keep')) feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.of(0n), []);
  // A q4f16 graph's cache is float16 (its logits are float32 like the others').
  const f16 = session.inputMetadata.some((m) => m.name === 'past_key_values.0.key' && m.isTensor && m.type === 'float16');
  for (let i = 0; i < c.num_hidden_layers; i++) {
    for (const kind of ['key', 'value']) {
      feeds[`past_key_values.${i}.${kind}`] =
        cache?.[`present.${i}.${kind}`] ??
        (f16
          ? new ort.Tensor('float16', new Uint16Array(0), [ids.length, c.num_key_value_heads, 0, c.head_dim])
          : new ort.Tensor('float32', new Float32Array(0), [ids.length, c.num_key_value_heads, 0, c.head_dim]));
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

async function checkAgainstReference(bytes: Uint8Array, c: LlamaConfig, reference: LlamaWeights, tolerance = 1e-3): Promise<void> {
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
  expect(maxDiff(prompt.logits.slice(0, 5 * v), rows(refA, 0, 5, v))).toBeLessThan(tolerance);
  expect(maxDiff(prompt.logits.slice(5 * v), rows(refB, 0, 5, v))).toBeLessThan(tolerance);
  expect(prompt.present['present.0.key']!.dims).toEqual([2, c.num_key_value_heads, 5, c.head_dim]);

  // Then two more tokens, one at a time, reading the cache: the same logits as the full sequence.
  let cache = prompt.present;
  for (let t = 5; t < 7; t++) {
    const step = await run(session, c, [[a[t]!], [b[t]!]], [range(0, t + 1).fill(1), range(0, t + 1).fill(1)], [[t], [t]], cache);
    expect(maxDiff(step.logits.slice(0, v), rows(refA, t, t + 1, v))).toBeLessThan(tolerance);
    expect(maxDiff(step.logits.slice(v), rows(refB, t, t + 1, v))).toBeLessThan(tolerance);
    cache = step.present;
  }

  // Left padding, as transformers.js batches prompts of different lengths: padded positions must not leak.
  const short = [1, 17, 5];
  const refShort = llamaForward(c, reference, short);
  const padded = await run(session, c, [[0, 0, ...short]], [[0, 0, 1, 1, 1]], [[1, 1, 0, 1, 2]]);
  expect(maxDiff(padded.logits.slice(2 * v), rows(refShort, 0, 3, v))).toBeLessThan(tolerance);
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

/** Initializer names and byte sizes of a serialised model. */
function initializers(bytes: Uint8Array): Map<string, number> {
  const graph = onnxProto.onnx.ModelProto.decode(bytes).graph;
  return new Map((graph?.initializer ?? []).map((t) => [t.name ?? '', t.rawData?.length ?? 0]));
}

describe('Llama ONNX export: 4-bit embeddings, q4f16, num_logits_to_keep', () => {
  const tied = { ...config, tie_word_embeddings: true };

  for (const c of [config, tied]) {
    const kind = c.tie_word_embeddings ? 'tied' : 'untied';
    it(`q4, ${kind}: the embedding table in 4 bits read with plain ops (no GatherBlockQuantized: onnxruntime-web's WASM lacks it), exact on the dequantised table`, async () => {
      const w = randomWeights(c, 17);
      const bytes = exportLlamaOnnx(c, w, { dtype: 'q4', embedding: 'q4' });
      const ops = opTypes(bytes);
      expect(ops).not.toContain('com.microsoft:GatherBlockQuantized');
      expect(ops.filter((op) => op === 'Gather')).toHaveLength(2); // packed rows, their scales
      expect(ops.filter((op) => op === 'com.microsoft:MatMulNBits')).toHaveLength(7 * c.num_hidden_layers + 1);
      const names = initializers(bytes);
      expect(names.has('model.embed_tokens.weight')).toBe(false);
      // Table: vocab x hidden/2 bytes; scales: vocab x hidden/32 float32.
      expect(names.get('model.embed_tokens.weight_Q4')).toBe(c.vocab_size * (c.hidden_size / 2));
      expect(names.get('model.embed_tokens.weight_scales')).toBe((c.vocab_size * c.hidden_size) / 8);
      if (c.tie_word_embeddings) {
        // The tied head multiplies by the very same initializers: nothing of the head is stored.
        expect([...names.keys()].filter((n) => n.startsWith('lm_head'))).toEqual([]);
        const head = onnxProto.onnx.ModelProto.decode(bytes)
          .graph!.node!.filter((n) => n.opType === 'MatMulNBits')
          .at(-1)!;
        expect(head.input?.slice(1)).toEqual(['model.embed_tokens.weight_Q4', 'model.embed_tokens.weight_scales']);
      }
      await checkAgainstReference(bytes, c, llamaQ4Weights(w, 'float32', 'q4'));
    });

    it(`q4 with GatherBlockQuantized, ${kind}: the same numbers (tied: the packed table shared, its scales stored twice)`, async () => {
      const w = randomWeights(c, 19);
      const bytes = exportLlamaOnnx(c, w, { dtype: 'q4', embedding: 'q4', embeddingLookup: 'gather-block-quantized' });
      expect(opTypes(bytes).filter((op) => op === 'com.microsoft:GatherBlockQuantized')).toHaveLength(1);
      expect(opTypes(bytes)).not.toContain('Gather');
      const names = initializers(bytes);
      expect(names.has('lm_head.weight_Q4')).toBe(!c.tie_word_embeddings);
      if (c.tie_word_embeddings) expect(names.get('lm_head.weight_scales')).toBe(names.get('model.embed_tokens.weight_scales'));
      await checkAgainstReference(bytes, c, llamaQ4Weights(w, 'float32', 'q4'));
    });
  }

  it('auto: 4 bits only for a large table (64 MiB of float32) whose rows split into blocks of 32', () => {
    expect(embeddingStorage({ vocab_size: 128256, hidden_size: 2048 }, 'q4')).toBe('q4');
    expect(embeddingStorage({ vocab_size: 128256, hidden_size: 2048 }, 'q4f16')).toBe('q4');
    expect(embeddingStorage({ vocab_size: 128256, hidden_size: 2048 }, 'fp32')).toBe('float');
    expect(embeddingStorage({ vocab_size: 2002, hidden_size: 128 }, 'q4')).toBe('float'); // the bundled demo
    expect(embeddingStorage({ vocab_size: 2002, hidden_size: 128 }, 'q4', 'q4')).toBe('q4');
    expect(embeddingStorage({ vocab_size: 1 << 20, hidden_size: 40 }, 'q4')).toBe('float');
  });

  it('embedding "float" (and any hidden size not a multiple of 32) keeps a float32 Gather, as before', async () => {
    const w = randomWeights(tied, 23);
    const bytes = exportLlamaOnnx(tied, w, { dtype: 'q4', embedding: 'float' });
    expect(opTypes(bytes).filter((op) => op === 'Gather')).toHaveLength(1);
    expect(initializers(bytes).has('lm_head.weight_Q4')).toBe(true);
    await checkAgainstReference(bytes, tied, llamaQ4Weights(w, 'float32', 'float'));
    expect(() => exportLlamaOnnx({ ...tied, hidden_size: 40, head_dim: 10 }, w, { dtype: 'q4', embedding: 'q4' })).toThrow(
      /multiple of 32/,
    );
  });

  for (const c of [config, tied]) {
    it(`q4f16 (${c.tie_word_embeddings ? 'tied' : 'untied'}): float16 scales, cache and activations; float32 logits near the reference on the same 4-bit weights`, async () => {
      const w = randomWeights(c, 29);
      const bytes = exportLlamaOnnx(c, w, { dtype: 'q4f16', embedding: 'q4' });
      const graph = onnxProto.onnx.ModelProto.decode(bytes).graph!;
      const FLOAT16 = onnxProto.onnx.TensorProto.DataType.FLOAT16;
      expect(graph.input!.find((i) => i.name === 'past_key_values.0.key')?.type?.tensorType?.elemType).toBe(FLOAT16);
      expect(graph.output!.find((o) => o.name === 'present.0.value')?.type?.tensorType?.elemType).toBe(FLOAT16);
      expect(graph.output!.find((o) => o.name === 'logits')?.type?.tensorType?.elemType).toBe(onnxProto.onnx.TensorProto.DataType.FLOAT);
      expect(graph.initializer!.find((t) => t.name === 'model.layers.0.self_attn.q_proj.weight_scales')?.dataType).toBe(FLOAT16);
      expect(opTypes(bytes)).toContain('com.microsoft:GatherBlockQuantized');
      // Logits of these weights reach about 4; float16 activations keep them within about 5e-3 (q4: 2e-6).
      await checkAgainstReference(bytes, c, llamaQ4Weights(w, 'float16', 'q4'), 0.02);
    });
  }

  it('num_logits_to_keep: 0 gives every position, k the last k (what transformers.js asks for while generating)', async () => {
    const w = randomWeights(config, 31);
    const session = await ort.InferenceSession.create(exportLlamaOnnx(config, w, { dtype: 'q4' }), { logSeverityLevel: 3 });
    expect(session.inputNames).toContain('num_logits_to_keep');
    const ids = [1, 17, 5, 42, 63];
    const feeds = (keep: number): Record<string, ort.Tensor> => {
      const f: Record<string, ort.Tensor> = {
        input_ids: int64([ids]),
        attention_mask: int64([ids.map(() => 1)]),
        position_ids: int64([range(0, ids.length)]),
        num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), []),
      };
      for (let i = 0; i < config.num_hidden_layers; i++)
        for (const kind of ['key', 'value'])
          f[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
            1,
            config.num_key_value_heads,
            0,
            config.head_dim,
          ]);
      return f;
    };
    const all = await session.run(feeds(0));
    const last = await session.run(feeds(1));
    const two = await session.run(feeds(2));
    const v = config.vocab_size;
    expect(all.logits!.dims).toEqual([1, 5, v]);
    expect(last.logits!.dims).toEqual([1, 1, v]);
    expect(two.logits!.dims).toEqual([1, 2, v]);
    expect(maxDiff(last.logits!.data as Float32Array, (all.logits!.data as Float32Array).slice(4 * v))).toBeLessThan(1e-5);
    expect(maxDiff(two.logits!.data as Float32Array, (all.logits!.data as Float32Array).slice(3 * v))).toBeLessThan(1e-5);
    // The cache still covers every position.
    expect(last['present.0.key']!.dims).toEqual([1, config.num_key_value_heads, 5, config.head_dim]);
    await session.release();
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
