/**
 * The Llama path at scale (issue 17), on models small enough for a unit test:
 * - ONNX external data as onnxruntime reads it and transformers.js 4.3 fetches it (chunked files,
 *   `transformers.js_config.use_external_data_format` in config.json), through the runtime's engine
 *   with and without a manifest;
 * - model_q4f16.onnx loaded and classifying in Node, and chosen by the worker host when the WebGPU
 *   adapter has `shader-f16` (a faked adapter; the model itself runs on the CPU here);
 * - `npm run verify:llama` on the 1B shape cut to 2 layers, with its vocabulary cut to 8,192
 *   (the full 128,256 rows make the run about 3 minutes on two cores: run it by hand), its merge's
 *   peak memory bounded by the largest tensor, not the model.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as transformers from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNodeLlamaEngine } from '../../src/adapters/llama-node';
import { createLlamaWorkerHost } from '../../src/engine/llama-worker-host';
import { writeModelManifest } from '../../src/engine/model-manifest-node';
import type { LlamaConfig } from '../../src/models/llama/config';
import { classifyWithLlama } from '../../src/engine/llama-constrained-decoding';
import { mergeToTransformersJs } from '../../src/convert/llama/merge-export';
import { buildLlamaGraph, exportLlamaOnnx } from '../../src/convert/llama/onnx-export';
import { OnnxFileWriter } from '../../src/convert/llama/onnx-writer';
import { initLlamaWeights } from '../../src/models/llama/reference';
import { shapeConfig, writeRandomCheckpoint } from '../../src/convert/llama/scale';
import { config as tinyConfig } from '../support/tiny-llama';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llama-scale-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Next-token logits for one sequence, no cache, all positions. */
async function logitsOf(model: string | Uint8Array, c: LlamaConfig, ids: number[]): Promise<Float32Array> {
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  const int64 = (row: number[]) => new ort.Tensor('int64', BigInt64Array.from(row.map(BigInt)), [1, row.length]);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(ids),
    attention_mask: int64(ids.map(() => 1)),
    position_ids: int64(ids.map((_, i) => i)),
    num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(0n), []),
  };
  for (let i = 0; i < c.num_hidden_layers; i++)
    for (const kind of ['key', 'value'])
      feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, c.num_key_value_heads, 0, c.head_dim]);
  const out = await session.run(feeds);
  await session.release();
  return out.logits!.data as Float32Array;
}

describe('OnnxFileWriter', () => {
  const c = { ...tinyConfig, tie_word_embeddings: true };
  const weights = initLlamaWeights(c, 3, 0.2);
  const ids = [1, 17, 5, 42, 63, 8];

  /** Streams the q4 graph's weights into a writer, in checkpoint order. */
  async function write(path: string, chunkLimit?: number): Promise<OnnxFileWriter> {
    const plan = buildLlamaGraph(c, { dtype: 'q4', embedding: 'q4' });
    const writer = OnnxFileWriter.create(path, plan.graph, { chunkLimit });
    for (const name of plan.sources)
      for (const w of plan.produce(name, weights[name]!.data as Float32Array)) await writer.put(w.name, w.data);
    return writer;
  }

  it('one self-contained file, assembled from the streamed weights: the same model as the in-memory export', async () => {
    const path = join(root, 'single', 'model_q4.onnx');
    await mkdir(join(root, 'single'), { recursive: true });
    const writer = await write(path);
    const expectedBytes = writer.singleFileBytes();
    const summary = await writer.finish(false);
    expect(summary).toEqual({ files: [{ path, bytes: expectedBytes }], chunks: 0 });
    expect(await readdir(join(root, 'single'))).toEqual(['model_q4.onnx']);
    const inline = exportLlamaOnnx(c, weights, { dtype: 'q4', embedding: 'q4' });
    expect(await logitsOf(path, c, ids)).toEqual(await logitsOf(inline, c, ids));
  });

  it('external data cut into chunks at tensor boundaries (model_q4.onnx_data, _data_1, ...), read by onnxruntime from beside the graph', async () => {
    const dir = join(root, 'external');
    await mkdir(dir, { recursive: true });
    const writer = await write(join(dir, 'model_q4.onnx'), 16 * 1024);
    const summary = await writer.finish(true);
    expect(summary.chunks).toBeGreaterThan(2);
    const names = (await readdir(dir)).sort();
    expect(names).toEqual(
      ['model_q4.onnx', ...Array.from({ length: summary.chunks }, (_, i) => `model_q4.onnx_data${i ? `_${i}` : ''}`)].sort(),
    );
    // The graph itself holds no weights.
    expect(summary.files[0]!.bytes).toBeLessThan(64 * 1024);
    const inline = exportLlamaOnnx(c, weights, { dtype: 'q4', embedding: 'q4' });
    expect(await logitsOf(join(dir, 'model_q4.onnx'), c, ids)).toEqual(await logitsOf(inline, c, ids));
  });

  it('refuses a weight it does not know, of the wrong size, twice, or missing at the end', async () => {
    const plan = buildLlamaGraph(c, { dtype: 'q4' });
    const writer = OnnxFileWriter.create(join(root, 'refuse.onnx'), plan.graph);
    await expect(writer.put('nope', new Uint8Array(4))).rejects.toThrow(/not declared/);
    await expect(writer.put('model.norm.weight', new Float32Array(3))).rejects.toThrow(/bytes/);
    await writer.put('model.norm.weight', new Float32Array(c.hidden_size));
    await expect(writer.put('model.norm.weight', new Float32Array(c.hidden_size))).rejects.toThrow(/twice/);
    await expect(writer.finish(false)).rejects.toThrow(/no data for/);
    await writer.abort();
  });
});

describe('merge-qlora with external data and q4f16, loaded by transformers.js', () => {
  // Width 64 (two 32-blocks a row), the demo's tokenizer and prompt; the vocabulary above the
  // tokenizer's 2,002 ids. External data is forced: a real model needs it from about 3B on.
  const c: LlamaConfig = {
    ...shapeConfig('llama-3.2-1b', { layers: 2, vocab: 2048 }),
    hidden_size: 64,
    intermediate_size: 96,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 16,
  };
  let out: string;
  const message = 'I still have not received my new card';

  beforeAll(async () => {
    const [base, adapter] = [join(root, 'm-base'), join(root, 'm-adapter')];
    out = join(root, 'models', 'merged');
    await writeRandomCheckpoint(c, base, adapter, { shardBytes: 64 * 1024 });
    const summary = await mergeToTransformersJs({
      baseDir: base,
      adapterDir: adapter,
      outDir: out,
      externalData: true,
      embedding: 'q4',
      fp32: false,
    });
    expect(summary.dtypes).toEqual(['q4', 'q4f16']);
    expect(summary.externalData).toEqual({ 'model_q4.onnx': 1, 'model_q4f16.onnx': 1 });
  });

  it('writes the data files and tells transformers.js to fetch them (config.json), and classifier.json lists q4f16', async () => {
    expect((await readdir(join(out, 'onnx'))).sort()).toEqual([
      'model_q4.onnx',
      'model_q4.onnx_data',
      'model_q4f16.onnx',
      'model_q4f16.onnx_data',
    ]);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config['transformers.js_config']).toEqual({ use_external_data_format: { 'model_q4.onnx': 1, 'model_q4f16.onnx': 1 } });
    const classifier = JSON.parse(await readFile(join(out, 'classifier.json'), 'utf8')) as { dtypes: string[]; labels: string[] };
    expect(classifier.dtypes).toEqual(['q4', 'q4f16']);
    expect(classifier.labels.length).toBeGreaterThan(70);
  });

  it('the runtime engine loads q4 with its data file and answers a label, with and without a manifest (whose check covers the data file)', async () => {
    for (const manifest of [false, true]) {
      if (manifest) expect(Object.keys(writeModelManifest(out).files)).toContain('onnx/model_q4.onnx_data');
      const engine = await loadNodeLlamaEngine({ modelDir: out });
      const p = await engine.classify(message, { topK: 5 });
      expect(engine.spec.labels).toContain(p.intent);
      expect(p.top.length).toBeGreaterThan(0);
      await engine.dispose();
    }
    await rm(join(out, 'manifest.json'));
  });

  it('model_q4f16.onnx loads in Node (transformers.js, cpu) and ranks the labels like q4', async () => {
    const { env, AutoModelForCausalLM, AutoTokenizer } = transformers;
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = join(root, 'models') + '/';
    const tokenizer = await AutoTokenizer.from_pretrained('merged');
    const spec = JSON.parse(await readFile(join(out, 'classifier.json'), 'utf8')) as { labels: string[]; prompt: string };
    const top: Record<string, { label: string; probability: number }[]> = {};
    for (const dtype of ['q4', 'q4f16'] as const) {
      const model = await AutoModelForCausalLM.from_pretrained('merged', { dtype, device: 'cpu' });
      const r = await classifyWithLlama({ model, tokenizer, prompt: spec.prompt.replace('{text}', message), labels: spec.labels, topK: 3 });
      top[dtype] = r.alternatives!;
      await model.dispose();
    }
    expect(spec.labels).toContain(top.q4f16![0]!.label);
    // Random weights make the labels' probabilities close; float16 moves them only slightly.
    for (const [i, a] of top.q4!.entries()) expect(Math.abs(a.probability - top.q4f16![i]!.probability)).toBeLessThan(0.01);
  });

  it('the worker host picks q4f16 when the WebGPU adapter has shader-f16, q4 when it has not', async () => {
    const requested: string[] = [];
    // The real transformers.js, except that the model is created on the CPU (Node has no WebGPU).
    const fake = {
      ...transformers,
      AutoModelForCausalLM: {
        from_pretrained: (id: string, options: { dtype?: string; device?: string }) => {
          requested.push(`${options.device}/${options.dtype}`);
          return transformers.AutoModelForCausalLM.from_pretrained(id, { ...options, device: 'cpu' } as object);
        },
      },
    } as unknown as Parameters<typeof createLlamaWorkerHost>[0];
    for (const features of [['shader-f16', 'timestamp-query'], ['timestamp-query']]) {
      const host = createLlamaWorkerHost(fake, {
        gpu: { requestAdapter: () => Promise.resolve({ features: new Set(features) }) },
        readText: (path) => readFile(path, 'utf8'),
      });
      const loaded = await host.load({ modelBaseUrl: out, wasmBaseUrl: '/ort/', device: 'webgpu' });
      const expected = features.includes('shader-f16') ? 'q4f16' : 'q4';
      expect(loaded).toMatchObject({ device: 'webgpu', dtype: expected });
      expect(requested.at(-1)).toBe(`webgpu/${expected}`);
      const p = await host.classify(1, message, { topK: 3 });
      expect(p.top.length).toBeGreaterThan(0);
      await host.dispose();
    }
  });
});

describe('npm run verify:llama', () => {
  it('--shape llama-3.2-1b --layers 2 --vocab 8192: checkpoint, merge, q4 and q4f16 answers; the merge holds about one tensor at a time', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/verify-llama.ts', '--shape', 'llama-3.2-1b', '--layers', '2', '--vocab', '8192', '--messages', '2'],
      { maxBuffer: 64 * 2 ** 20 },
    );
    const line = stdout.split('\n').find((l) => l.startsWith('verify-llama: {'))!;
    const summary = JSON.parse(line.slice('verify-llama: '.length)) as {
      q4Bytes: number;
      q4f16Bytes: number;
      steps: { step: string; seconds: number; peakBytes: number; answers?: { intent: string }[] }[];
    };
    expect(summary.steps.map((s) => s.step)).toEqual(['checkpoint', 'merge', 'q4', 'q4f16']);
    const labels = (JSON.parse(await readFile('public/models/llama-qlora/classifier.json', 'utf8')) as { labels: string[] }).labels;
    for (const step of summary.steps.slice(2)) {
      expect(step.answers).toHaveLength(2);
      for (const a of step.answers!) expect(labels).toContain(a.intent);
    }
    // 4 bits with a float32 scale per 32 weights: 0.625 bytes a parameter (137.8M of them, the head shared).
    const parameters = 8192 * 2048 + 2 * (2048 * 2048 * 2 + 512 * 2048 * 2 + 3 * 8192 * 2048);
    expect(summary.q4Bytes).toBeGreaterThan(parameters * 0.6);
    expect(summary.q4Bytes).toBeLessThan(parameters * 0.7);
    expect(summary.q4f16Bytes).toBeLessThan(summary.q4Bytes);
    // The whole model in float32 is 550 MB; the merge holds one tensor (67 MB) and what comes of it.
    const merge = summary.steps[1]!;
    expect(merge.peakBytes).toBeLessThan(2 * 8192 * 2048 * 4 + 384 * 2 ** 20);
  }, 300_000);
});
