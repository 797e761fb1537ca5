/**
 * The page-to-worker plumbing without a browser: the real `CustomAdapter` talks through comlink
 * over a MessageChannel to the real worker host, which runs the real engine on the real
 * onnxruntime-web (its WASM backend, which runs in Node) and the shipped model, fetched over HTTP
 * from a local static server. Checks what the browser tests cannot see from outside: typed errors
 * crossing the boundary, concurrent calls, aborts, the WebGPU-to-WASM fallback and the runtime
 * settings.
 *
 * The model's answers are not asserted: the shipped model is replaced by each training. The
 * checks are on structure (each call gets the answer a call on its own gets, and so on).
 */
import { expose } from 'comlink';
import { createReadStream, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { InferenceSession } from 'onnxruntime-common';
// The same entry point as workers/custom.worker.ts. In Node it runs on WASM only: it has a WebGPU
// backend, but Node has no `navigator.gpu`, so asking it for WebGPU genuinely fails.
import * as ort from 'onnxruntime-web/webgpu';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { CustomAdapter } from '../../src/adapters/custom';
import { AbortedError, InvalidInputError, ModelFileError, ModelUnavailableError } from '../../src/core/errors';
import type { ModelPrediction } from '../../src/core/prediction';
import { installTypedErrors } from '../../src/engine/worker-errors';
import { IntentPipeline } from '../../src/pipeline/pipeline';
import {
  createWorkerHost,
  singleBuild,
  defaultEnvironment,
  type HostEnvironment,
  type WebOrtModule,
} from '../../src/engine/custom-worker-host';

const MODEL_DIR = fileURLToPath(new URL('../../public/models/custom/', import.meta.url));
/**
 * onnxruntime-web's own runtime files, as the page's `/ort/` copy would be. Node's module loader
 * reads them only from file: URLs, so this one is not served over HTTP. The setting matters: ORT
 * imports its WASM glue from here, and a wrong folder fails the load.
 */
const ORT_BASE = pathToFileURL(fileURLToPath(new URL('../../node_modules/onnxruntime-web/dist/', import.meta.url))).href;

// --- Model files over real HTTP -----------------------------------------------------------------

/** One request for each file the engine reads. */
const MODEL_REQUESTS = { 'config.json': 1, 'manifest.json': 1, 'tokenizer.json': 1, 'spelling.json': 1, 'onnx/model.onnx': 1 };

let server: Server;
let modelBase: string;
/** Files the server answers 404 for (set per test). */
const hidden = new Set<string>();
/** Requests per file name since the last reset. */
const requests = new Map<string, number>();

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const file = path.startsWith('/models/custom/') ? path.slice('/models/custom/'.length) : '';
    requests.set(file, (requests.get(file) ?? 0) + 1);
    const onDisk = MODEL_DIR + file;
    if (!/^[\w.-]+(\/[\w.-]+)*$/.test(file) || hidden.has(file) || !existsSync(onDisk)) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
    createReadStream(onDisk).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  modelBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/custom/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  hidden.clear();
  requests.clear();
});

// --- Instrumentation ----------------------------------------------------------------------------

/**
 * The real onnxruntime-web, with a record of what the engine asks of it: the execution provider
 * of each session it creates (whether or not creation succeeds) and the number of `run` calls.
 * Every call goes to the real runtime; nothing is answered here.
 */
function instrumentedOrt() {
  const requestedProviders: string[] = [];
  let runs = 0;
  const module: WebOrtModule = {
    env: ort.env,
    Tensor: ort.Tensor,
    InferenceSession: {
      async create(model: Uint8Array, options?: InferenceSession.SessionOptions) {
        const provider = options?.executionProviders?.[0];
        requestedProviders.push(typeof provider === 'string' ? provider : String(provider?.name));
        const session = await ort.InferenceSession.create(model, options);
        const run = session.run.bind(session) as (...args: unknown[]) => Promise<InferenceSession.ReturnType>;
        session.run = ((...args: unknown[]) => {
          runs++;
          return run(...args);
        }) as InferenceSession['run'];
        return session;
      },
    },
  };
  return { ort: module, requestedProviders, runs: () => runs };
}

// --- The boundary -------------------------------------------------------------------------------

const adapters: CustomAdapter[] = [];

/** A "worker" the adapter started, and whether it has stopped it. */
interface StartedWorker {
  port: MessagePort;
  terminated: boolean;
}

/**
 * An adapter whose "worker" is the host at the other end of a MessageChannel. The host sees Node's
 * own surroundings (no `navigator.gpu`, not cross-origin isolated) unless a test overrides them.
 */
function connect(
  options: { ort?: WebOrtModule; environment?: Partial<HostEnvironment>; preferWebGPU?: boolean; started?: StartedWorker[] } = {},
): CustomAdapter {
  const adapter = new CustomAdapter({
    modelBaseUrl: modelBase,
    ortBaseUrl: ORT_BASE,
    preferWebGPU: options.preferWebGPU ?? true,
    createWorker: () => {
      // A fresh host per worker, as a real worker starts from nothing.
      const host = createWorkerHost(singleBuild(options.ort ?? ort), { ...defaultEnvironment(), ...options.environment });
      const { port1, port2 } = new MessageChannel();
      installTypedErrors();
      expose(host, port2);
      const started: StartedWorker = { port: port1, terminated: false };
      options.started?.push(started);
      return Object.assign(port1, {
        terminate: () => {
          started.terminated = true;
          port1.close();
          port2.close();
          // A terminated worker takes its session with it; here the host stays, so free it.
          void host.dispose().catch(() => undefined);
        },
      }) as unknown as Worker;
    },
  });
  adapters.push(adapter);
  return adapter;
}

/**
 * What `navigator.gpu` says in a browser that has a WebGPU adapter. Only the host reads it, to
 * decide whether to try WebGPU; onnxruntime-web then looks for WebGPU itself and finds none.
 */
const browserWithGpuAdapter: Partial<HostEnvironment> = { gpu: { requestAdapter: async () => ({}) } };

afterEach(async () => {
  await Promise.all(adapters.splice(0).map((adapter) => adapter.dispose()));
});

/** A prediction without the timing, which differs from call to call. */
function answer(prediction: ModelPrediction) {
  const { latency_ms: _latency, ...rest } = prediction;
  return rest;
}

describe('CustomAdapter over the worker boundary', () => {
  test('points onnxruntime-web at our runtime copy with one thread, and loads over HTTP', async () => {
    const adapter = connect();
    const stages: string[] = [];
    await adapter.load({ onProgress: (progress) => stages.push(progress.stage) });
    expect(await adapter.health()).toEqual({ state: 'ready', device: 'wasm' });
    // Not cross-origin isolated: no SharedArrayBuffer, so no threads.
    expect(ort.env.wasm.wasmPaths).toBe(ORT_BASE);
    expect(ort.env.wasm.numThreads).toBe(1);
    // Not 'warming up': progress travels on its own comlink channel, and here the page and the host
    // share one thread, so that last event reaches the page after load() has already resolved.
    // The model's files as one download (onnxruntime-web reads its runtime itself from a file: URL
    // in Node; test/unit/load-progress.test.ts has the host download it), then the session.
    expect(stages).toEqual(expect.arrayContaining(['downloading the model', 'creating session']));
    expect(stages.some((stage) => stage.startsWith('fetching '))).toBe(false);
    expect(Object.fromEntries(requests)).toEqual(MODEL_REQUESTS);
    const prediction = await adapter.classify('where is my card');
    expect(prediction).toMatchObject({ model: 'custom', device: 'wasm', truncated: false });
    expect(prediction).not.toHaveProperty('fallback_from');
    expect(prediction.top).toHaveLength(5);
  });

  test('without a WebGPU adapter, or with preferWebGPU false, it uses WASM and never asks for WebGPU', async () => {
    const first = instrumentedOrt();
    const noAdapter = connect({ ort: first.ort });
    await noAdapter.load();
    expect((await noAdapter.health()).device).toBe('wasm');
    expect(noAdapter.webgpuSkipped).toBe('This browser offers no WebGPU adapter.');
    expect(first.requestedProviders).toEqual(['wasm']);

    const second = instrumentedOrt();
    const turnedOff = connect({ ort: second.ort, environment: browserWithGpuAdapter, preferWebGPU: false });
    await turnedOff.load();
    expect((await turnedOff.health()).device).toBe('wasm');
    expect(turnedOff.webgpuSkipped).toBe('WebGPU was turned off (device=wasm).');
    expect(second.requestedProviders).toEqual(['wasm']);
  });

  test('falls back to WASM when onnxruntime cannot create the WebGPU session, fetching each file once', async () => {
    const instrumented = instrumentedOrt();
    const adapter = connect({ ort: instrumented.ort, environment: browserWithGpuAdapter });
    await adapter.load();
    expect(instrumented.requestedProviders).toEqual(['webgpu', 'wasm']);
    expect((await adapter.health()).device).toBe('wasm');
    // onnxruntime-web's own refusal ("WebGPU is not supported in current environment"), as reported by the host.
    expect(adapter.webgpuSkipped).toMatch(/^WebGPU failed: onnx\/model\.onnx could not be loaded by onnxruntime \(webgpu\): .*WebGPU/);
    expect((await adapter.classify('where is my card')).device).toBe('wasm');
    expect(Object.fromEntries(requests)).toEqual(MODEL_REQUESTS);
  });

  test('a missing model file reaches the page as a ModelFileError naming it', async () => {
    hidden.add('onnx/model.onnx');
    const adapter = connect();
    const error = await adapter.load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as ModelFileError).file).toBe('onnx/model.onnx');
    expect((error as ModelFileError).message).toContain('HTTP 404');
    expect(requests.get('onnx/model.onnx')).toBe(1);
    const health = await adapter.health();
    expect(health.state).toBe('unavailable');
    expect(health.reason).toContain('model.onnx');
  });

  test('concurrent calls each get the answer a call on its own gets, with latency measured on the page side', async () => {
    const adapter = connect();
    await adapter.load();
    const texts = ['card', 'my card', 'where is my card', 'I still have not received my new card'];
    const together = await Promise.all(texts.map((text) => adapter.classify(text)));
    const alone: ModelPrediction[] = [];
    for (const text of texts) alone.push(await adapter.classify(text));
    expect(together.map(answer)).toEqual(alone.map(answer));
    // The texts really get different answers, so a mix-up would show.
    expect(new Set(alone.map((p) => JSON.stringify(p.top))).size).toBe(texts.length);
    for (const prediction of together) {
      expect(prediction.model).toBe('custom');
      expect(prediction.top).toHaveLength(5);
      expect(prediction.latency_ms).toBeGreaterThan(0);
    }
  });

  test('an abort rejects at once with AbortedError, and the adapter keeps working', async () => {
    const adapter = connect();
    await adapter.load();
    // Calls ahead in the worker's queue (the longest input the model takes), so the aborted one is
    // still waiting for its turn when it is aborted.
    const long = 'I still have not received my new card. '.repeat(20);
    let settledAhead = 0;
    const ahead = Array.from({ length: 4 }, () => adapter.classify(long).finally(() => settledAhead++));
    const controller = new AbortController();
    const pending = adapter.classify('where is my card', { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(settledAhead).toBe(0);
    await expect(adapter.classify('card', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    const answers = await Promise.all(ahead);
    expect(answers.every((p) => p.truncated)).toBe(true);
    const after = await adapter.classify('where is my card');
    expect(answer(after)).toEqual(answer(await adapter.classify('where is my card')));
  });

  test('aborting a classify that waits for the load does not cancel the load', async () => {
    const adapter = connect();
    const loading = adapter.load();
    const controller = new AbortController();
    const waiting = adapter.classify('where is my card', { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    await loading;
    expect((await adapter.health()).state).toBe('ready');
    expect((await adapter.classify('where is my card')).device).toBe('wasm');
  });

  test('aborting the load stops its worker, and the next load starts a fresh one', async () => {
    const started: StartedWorker[] = [];
    const adapter = connect({ started });
    const controller = new AbortController();
    const loading = adapter.load({ signal: controller.signal });
    controller.abort();
    await expect(loading).rejects.toBeInstanceOf(AbortedError);
    expect(await adapter.health()).toEqual({ state: 'idle' });
    expect(started.map((w) => w.terminated)).toEqual([true]);
    await adapter.load();
    expect(started.map((w) => w.terminated)).toEqual([true, false]);
    expect(await adapter.health()).toEqual({ state: 'ready', device: 'wasm' });
  });

  test('a worker that dies makes the adapter unavailable with the reason; the next call starts a fresh one', async () => {
    const started: StartedWorker[] = [];
    const adapter = connect({ started });
    const before = await adapter.classify('where is my card');
    started[0]!.port.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message: 'out of memory' }));
    expect(await adapter.health()).toEqual({ state: 'unavailable', reason: 'The model worker stopped: out of memory.' });
    expect(started.map((w) => w.terminated)).toEqual([true]);
    expect(answer(await adapter.classify('where is my card'))).toEqual(answer(before));
    expect(started.map((w) => w.terminated)).toEqual([true, false]);
  });

  test('after a WASM load, warm-up calls run in the background: a request is answered meanwhile, and dispose stops them', async () => {
    const instrumented = instrumentedOrt();
    const adapter = connect({ ort: instrumented.ort, environment: { warmUpCalls: 30 } });
    await adapter.load();
    // The load's own warm-up run; the background ones start after the load has answered.
    const request = adapter.classify('where is my card');
    const prediction = await request;
    expect(prediction.device).toBe('wasm');
    // The request was not queued behind all thirty: at most a few ran before it.
    const runsAtAnswer = instrumented.runs();
    expect(runsAtAnswer).toBeLessThan(1 + 30 + 1);
    await vi.waitFor(() => expect(instrumented.runs()).toBe(1 + 30 + 1), { timeout: 30_000 });

    const stopped = instrumentedOrt();
    const other = connect({ ort: stopped.ort, environment: { warmUpCalls: 1000 } });
    await other.load();
    await other.dispose();
    // A call already running when the worker went may still finish; none starts after it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const afterDispose = stopped.runs();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stopped.runs()).toBe(afterDispose);
    expect(afterDispose).toBeLessThan(1000);
  });

  test('an empty message is rejected before any model call (the pipeline checks it once, before the adapter)', async () => {
    const instrumented = instrumentedOrt();
    // No background warm-up: every model call here is counted.
    const adapter = connect({ ort: instrumented.ort, environment: { warmUpCalls: 0 } });
    const pipeline = new IntentPipeline({ factories: { custom: () => adapter }, active: 'custom' });
    await adapter.load();
    const runsAfterLoad = instrumented.runs();
    expect(runsAfterLoad).toBe(1); // the warm-up
    await expect(pipeline.classify(' \n ')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(pipeline.classify('\u200b\u0000')).rejects.toBeInstanceOf(InvalidInputError);
    expect(instrumented.runs()).toBe(runsAfterLoad);
    await pipeline.classify('card');
    expect(instrumented.runs()).toBe(runsAfterLoad + 1);
  });

  test('after dispose, calls fail with ModelUnavailableError', async () => {
    const adapter = connect();
    await adapter.load();
    await adapter.dispose();
    expect((await adapter.health()).state).toBe('disposed');
    await expect(adapter.classify('card')).rejects.toBeInstanceOf(ModelUnavailableError);
    await expect(adapter.load()).rejects.toBeInstanceOf(ModelUnavailableError);
  });
});
