/**
 * The llama-qlora engine and its Node adapter on a tiny random Llama (transformers.js, device
 * cpu). The model is random, so its answers are not asserted: the checks are on what the contract
 * promises whatever the weights (a label from classifier.json, a probability, sorted scores,
 * truncation, typed errors naming the file).
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as transformers from '@huggingface/transformers';
import type { PreTrainedModel } from '@huggingface/transformers';
import { expose } from 'comlink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlamaQloraAdapter } from '../../src/adapters/llama-qlora';
import { NodeLlamaAdapter } from '../../src/adapters/llama-node';
import { InvalidInputError, ModelFileError, ModelUnavailableError } from '../../src/core/errors';
import { choosePlacement, CLASSIFIER_FILE, LlamaEngine, type TransformersModule } from '../../src/engine/llama-engine';
import { createLlamaWorkerHost, type LlamaHostEnvironment } from '../../src/engine/llama-worker-host';
import { installTypedErrors } from '../../src/engine/worker-errors';
import { IntentPipeline } from '../../src/pipeline/pipeline';
import { writeTransformersJsFolder } from '../../src/convert/llama/hf-folder';
import { initLlamaWeights } from '../../src/models/llama/reference';
import { config, tinyTokenizer } from '../support/tiny-llama';

// Words of the tiny vocabulary; two labels share a first token, one is a prefix of another.
const LABELS = ['w10', 'w10 w11', 'w12 w13', 'w12 w14', 'w20'];
const MAX_TEXT_TOKENS = 32;
const classifierJson = { labels: LABELS, prompt: 'w5 w6 {text} w7', separator: ' ', max_text_tokens: MAX_TEXT_TOKENS };

let root: string;
const readText = (path: string) => readFile(path, 'utf8');

/** A copy of the good folder named `name`, changed by `edit`. */
async function variant(name: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(root, name);
  await cp(join(root, 'tiny-llama'), dir, { recursive: true });
  await edit(dir);
  return dir;
}

/** The real module, but remembering the model it loads so that a test can watch its calls. */
function watchedTransformers(): { module: TransformersModule; model: () => PreTrainedModel | undefined } {
  let model: PreTrainedModel | undefined;
  const module: TransformersModule = {
    env: transformers.env,
    AutoTokenizer: transformers.AutoTokenizer,
    AutoModelForCausalLM: {
      from_pretrained: async (id, options) => (model = await transformers.AutoModelForCausalLM.from_pretrained(id, options)),
    },
  };
  return { module, model: () => model };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llama-engine-'));
  const dir = join(root, 'tiny-llama');
  await writeTransformersJsFolder(dir, config, initLlamaWeights(config, 13, 0.2), tinyTokenizer());
  await writeFile(join(dir, CLASSIFIER_FILE), JSON.stringify(classifierJson));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('LlamaEngine (transformers.js, cpu, tiny random Llama)', () => {
  const watched = watchedTransformers();
  let engine: LlamaEngine;

  beforeAll(async () => {
    engine = await LlamaEngine.load({ transformers: watched.module, modelPath: join(root, 'tiny-llama'), device: 'cpu', readText });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it('loads q4 on the cpu and reads the labels from classifier.json', () => {
    expect(engine.placement).toEqual({ device: 'cpu', dtype: 'q4' });
    expect(engine.spec.labels).toEqual(LABELS);
  });

  it('answers one of the labels, with a confidence in (0, 1] and a sorted top', async () => {
    for (const text of ['w30 w31 w32', 'w40', 'w8 w9 w50 w51 w52', 'an unknown word']) {
      const prediction = await engine.classify(text, { topK: 3 });
      expect(LABELS).toContain(prediction.intent);
      expect(prediction.confidence).toBeGreaterThan(0);
      expect(prediction.confidence).toBeLessThanOrEqual(1);
      expect(prediction.top).toHaveLength(3);
      expect(prediction.top[0]).toEqual({ intent: prediction.intent, score: prediction.confidence });
      for (const entry of prediction.top) expect(LABELS).toContain(entry.intent);
      const scores = prediction.top.map((t) => t.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect(prediction).toMatchObject({ model: 'llama-qlora', device: 'cpu', truncated: false, masked: false });
      expect(prediction).not.toHaveProperty('fallback_from');
      expect(prediction.latency_ms).toBeGreaterThanOrEqual(0);
    }
  });

  it('gives probabilities over all labels that sum to 1 when asked for every label', async () => {
    const prediction = await engine.classify('w33 w34', { topK: 10 });
    expect(prediction.top).toHaveLength(LABELS.length);
    expect(prediction.top.reduce((sum, t) => sum + t.score, 0)).toBeCloseTo(1, 5);
  });

  it('an empty message is rejected by the pipeline before the model is even loaded', async () => {
    const adapter = new NodeLlamaAdapter({ modelDir: join(root, 'tiny-llama') });
    const pipeline = new IntentPipeline({ factories: { 'llama-qlora': () => adapter }, active: 'llama-qlora' });
    await expect(pipeline.classify('  \u200b ')).rejects.toBeInstanceOf(InvalidInputError);
    expect(await adapter.health()).toEqual({ state: 'idle' });
    await adapter.dispose();
  });

  it('keeps only the first max_text_tokens of a huge message and says so', async () => {
    const huge = Array.from({ length: 5000 }, (_, i) => `w${8 + (i % 50)}`).join(' ');
    const prediction = await engine.classify(huge);
    expect(prediction.truncated).toBe(true);
    expect(LABELS).toContain(prediction.intent);
    const exact = Array.from({ length: MAX_TEXT_TOKENS }, (_, i) => `w${8 + (i % 50)}`).join(' ');
    expect((await engine.classify(exact)).truncated).toBe(false);
  });
});

describe('LlamaEngine load failures', () => {
  const load = (modelPath: string) => LlamaEngine.load({ transformers, modelPath, device: 'cpu', readText });

  it.each([
    ['classifier.json', async (dir: string) => rm(join(dir, CLASSIFIER_FILE))],
    ['tokenizer.json', async (dir: string) => rm(join(dir, 'tokenizer.json'))],
    ['onnx/model_q4.onnx', async (dir: string) => rm(join(dir, 'onnx', 'model_q4.onnx'))],
  ])('names the missing file %s in a ModelFileError', async (file, edit) => {
    const dir = await variant(`missing-${file.replace(/\W/g, '-')}`, edit);
    const error = await load(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as ModelFileError).file).toBe(file);
    expect((error as ModelFileError).message).toContain(file);
  });

  it.each([
    ['classifier.json', async (dir: string) => writeFile(join(dir, CLASSIFIER_FILE), '{"labels": [')],
    [
      'classifier.json',
      async (dir: string) => writeFile(join(dir, CLASSIFIER_FILE), JSON.stringify({ labels: LABELS, prompt: 'no slot' })),
    ],
    ['onnx/model_q4.onnx', async (dir: string) => writeFile(join(dir, 'onnx', 'model_q4.onnx'), 'not a model')],
  ])('names the corrupt file %s in a ModelFileError', async (file, edit) => {
    const dir = await variant(`corrupt-${Math.random().toString(36).slice(2)}`, edit);
    const error = await load(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as ModelFileError).file).toBe(file);
  });

  it('keeps the parse error as the cause of a corrupt classifier.json', async () => {
    const dir = await variant('corrupt-json-cause', (d) => writeFile(join(d, CLASSIFIER_FILE), '{"labels": ['));
    const error = (await load(dir).catch((e: unknown) => e)) as ModelFileError;
    expect(error).toBeInstanceOf(ModelFileError);
    expect(error.message).toMatch(/classifier\.json is corrupt/);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('keeps the runtime’s error as the cause of a model file it cannot load', async () => {
    const dir = await variant('corrupt-onnx-cause', (d) => writeFile(join(d, 'onnx', 'model_q4.onnx'), 'not a model'));
    const error = (await load(dir).catch((e: unknown) => e)) as ModelFileError;
    expect(error).toMatchObject({ file: 'onnx/model_q4.onnx' });
    expect(error.cause).toBeInstanceOf(Error);
  });
});

describe('device policy', () => {
  const spec = { dtypes: ['q4', 'fp32', 'q4f16'] as const };
  const gpu = (features: string[] | null) => ({
    requestAdapter: () => Promise.resolve(features ? { features: new Set(features) } : null),
  });

  it('refuses WebGPU without an adapter, naming WebGPU, unless WASM is allowed', async () => {
    const error = await choosePlacement({ device: 'webgpu', gpu: gpu(null) }, { dtypes: [...spec.dtypes] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect((error as Error).message).toMatch(/^The llama-qlora model needs WebGPU/);
    await expect(choosePlacement({ device: 'webgpu' }, { dtypes: [...spec.dtypes] })).rejects.toBeInstanceOf(ModelUnavailableError);
    await expect(
      choosePlacement({ device: 'webgpu', gpu: gpu(null), allowWasm: true }, { dtypes: [...spec.dtypes] }),
    ).resolves.toMatchObject({
      device: 'wasm',
      dtype: 'q4',
    });
  });

  it('chooses q4f16 only where the adapter has shader-f16', async () => {
    const dtypes = [...spec.dtypes];
    await expect(choosePlacement({ device: 'webgpu', gpu: gpu(['shader-f16']) }, { dtypes })).resolves.toEqual({
      device: 'webgpu',
      dtype: 'q4f16',
    });
    await expect(choosePlacement({ device: 'webgpu', gpu: gpu([]) }, { dtypes })).resolves.toEqual({ device: 'webgpu', dtype: 'q4' });
    await expect(choosePlacement({ device: 'webgpu', gpu: gpu([]), dtype: 'q4f16' }, { dtypes })).resolves.toMatchObject({
      device: 'webgpu',
      dtype: 'q4',
    });
    // A folder without the q4f16 variant gets q4 even on an f16 GPU.
    await expect(choosePlacement({ device: 'webgpu', gpu: gpu(['shader-f16']) }, { dtypes: ['q4'] })).resolves.toEqual({
      device: 'webgpu',
      dtype: 'q4',
    });
  });
});

describe('NodeLlamaAdapter', () => {
  it('loads, reports health, classifies and disposes', async () => {
    const adapter = new NodeLlamaAdapter({ modelDir: join(root, 'tiny-llama') });
    expect(await adapter.health()).toEqual({ state: 'idle' });
    await adapter.load();
    expect(await adapter.health()).toEqual({ state: 'ready', device: 'cpu' });
    const prediction = await adapter.classify('w30 w31', { topK: 2 });
    expect(LABELS).toContain(prediction.intent);
    expect(prediction.top).toHaveLength(2);
    await adapter.dispose();
    expect(await adapter.health()).toEqual({ state: 'disposed', reason: 'The llama-qlora model was disposed.' });
    await expect(adapter.classify('w30')).rejects.toBeInstanceOf(ModelUnavailableError);
    await expect(adapter.load()).rejects.toBeInstanceOf(ModelUnavailableError);
  });

  it('is unavailable, with the reason, when the folder is broken, and tries again on the next load', async () => {
    const dir = await variant('adapter-broken', (d) => rm(join(d, CLASSIFIER_FILE)));
    const adapter = new NodeLlamaAdapter({ modelDir: dir });
    await expect(adapter.load()).rejects.toBeInstanceOf(ModelFileError);
    const health = await adapter.health();
    expect(health.state).toBe('unavailable');
    expect(health.reason).toContain(CLASSIFIER_FILE);
    await writeFile(join(dir, CLASSIFIER_FILE), JSON.stringify(classifierJson));
    await adapter.load();
    expect((await adapter.health()).state).toBe('ready');
    await adapter.dispose();
  });
});

/**
 * transformers.js in Node runs only on the cpu: the browser's `wasm` device is mapped to it, so the
 * page-side adapter, comlink and the host run for real with the tiny model.
 */
const wasmAsCpu: TransformersModule = {
  env: transformers.env,
  AutoTokenizer: transformers.AutoTokenizer,
  AutoModelForCausalLM: {
    from_pretrained: (id, options) => transformers.AutoModelForCausalLM.from_pretrained(id, { ...options, device: 'cpu' }),
  },
};

/** An adapter whose "worker" is a fresh host at the other end of a MessageChannel. */
function overChannel(modelBaseUrl: string, environment: LlamaHostEnvironment, allowWasm: boolean): LlamaQloraAdapter {
  return new LlamaQloraAdapter({
    modelBaseUrl,
    wasmBaseUrl: '/ort/',
    allowWasm,
    createWorker: () => {
      const host = createLlamaWorkerHost(wasmAsCpu, environment);
      const { port1, port2 } = new MessageChannel();
      installTypedErrors();
      expose(host, port2);
      return Object.assign(port1, {
        terminate: () => {
          port1.close();
          port2.close();
          void host.dispose().catch(() => undefined);
        },
      }) as unknown as Worker;
    },
  });
}

describe('LlamaQloraAdapter over the worker boundary', () => {
  it('without WebGPU and without allowWasm, is unavailable with the needs-WebGPU reason, typed across the boundary', async () => {
    const adapter = overChannel(join(root, 'tiny-llama'), { gpu: { requestAdapter: () => Promise.resolve(null) }, readText }, false);
    const error = await adapter.load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect((await adapter.health()).reason).toMatch(/^The llama-qlora model needs WebGPU/);
    await adapter.dispose();
  });

  it('with allowWasm, loads (WASM, q4), classifies to a label with page-side latency, and disposes', async () => {
    const adapter = overChannel(join(root, 'tiny-llama'), { readText }, true);
    const stages: string[] = [];
    await adapter.load({ onProgress: (p) => stages.push(p.stage) });
    expect(stages).toContain('warming up');
    expect(await adapter.health()).toEqual({ state: 'ready', device: 'wasm' });
    expect(adapter.dtype).toBe('q4');
    expect(adapter.placementNote).toBe('This browser offers no WebGPU adapter.');
    const prediction = await adapter.classify('w30 w31', { topK: 2 });
    expect(LABELS).toContain(prediction.intent);
    expect(prediction).toMatchObject({ model: 'llama-qlora', device: 'wasm' });
    expect(prediction.top).toHaveLength(2);
    await adapter.dispose();
    await expect(adapter.classify('w30')).rejects.toBeInstanceOf(ModelUnavailableError);
  });

  it('a missing model file reaches the page as a ModelFileError naming it', async () => {
    const dir = await variant('boundary-missing', (d) => rm(join(d, 'onnx', 'model_q4.onnx')));
    const adapter = overChannel(dir, { readText }, true);
    const error = await adapter.load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as ModelFileError).file).toBe('onnx/model_q4.onnx');
    // The runtime's own error crossed the boundary too, as the cause.
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(((error as Error).cause as Error).message);
    expect((await adapter.health()).state).toBe('unavailable');
    await adapter.dispose();
  });
});
