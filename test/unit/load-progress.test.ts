/**
 * Honest load progress (issue 15): the custom model's worker host counts every byte the first
 * answer waits for (the onnxruntime-web runtime's `.wasm` and the model's files) as one report,
 * with the total known from the first report and never reached before the last byte of the last
 * file. The host runs here as in the worker, on the real onnxruntime-web (its WASM backend runs in
 * Node), with the shipped model and runtime files served by a fetch that hands them out in small
 * chunks and records, at every progress report, how many bytes it has handed out so far.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { InferenceSession } from 'onnxruntime-common';
import * as ort from 'onnxruntime-web/webgpu';
import { beforeAll, describe, expect, test } from 'vitest';
import type { LoadProgress } from '../../src/core/adapter';
import { ModelFileError } from '../../src/core/errors';
import { LoadMeter } from '../../src/adapters/load-meter';
import { createWorkerHost, type HostEnvironment, type OrtBuilds, type WebOrtModule } from '../../src/engine/custom-worker-host';
import { DOWNLOAD_STAGES, DownloadMeter, isDownloadStage } from '../../src/engine/load-plan';
import { ModelIntegrityError } from '../../src/engine/model-manifest';
import { ORT_RUNTIME_FILES } from '../../src/sw/runtime-files';
import { ortRuntimeBytesDefine } from '../../scripts/lib/ort-runtime-bytes';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MODEL_DIR = join(ROOT, 'public/models/custom');
const ORT_DIST = join(ROOT, 'node_modules/onnxruntime-web/dist');
/** Where the real onnxruntime-web imports its glue from in Node (file: URLs only). */
const ORT_FILE_BASE = pathToFileURL(ORT_DIST + '/').href;
/** Where the host downloads the runtime from: what the page's `/ort/` would be. */
const ORIGIN = 'https://bank.example';
const MODEL_BASE = `${ORIGIN}/models/custom/`;
const ORT_BASE = `${ORIGIN}/ort/`;
const PLAIN_WASM = ORT_RUNTIME_FILES.wasm.find((f) => f.endsWith('.wasm'))!;
const ASYNCIFY_WASM = ORT_RUNTIME_FILES.webgpu.find((f) => f.endsWith('.wasm'))!;
/** What vite.config.ts puts in as `__ORT_RUNTIME_BYTES__`. */
const RUNTIME_BYTES = JSON.parse(ortRuntimeBytesDefine(ORT_DIST).__ORT_RUNTIME_BYTES__!) as Record<string, number>;

const config = JSON.parse(readFileSync(join(MODEL_DIR, 'config.json'), 'utf8')) as { files: Record<string, string> };
/** The model files the engine reads, by name, and their sizes on disk. */
const MODEL_FILES = ['config.json', 'manifest.json', ...Object.values(config.files)];
const modelBytes = MODEL_FILES.reduce((sum, file) => sum + statSync(join(MODEL_DIR, file)).size, 0);

beforeAll(() => {
  // The real runtime, as the fake builds below use it: one thread, its glue from node_modules.
  ort.env.wasm.wasmPaths = ORT_FILE_BASE;
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
});

// --- A network that hands out bytes slowly ------------------------------------------------------

interface Network {
  fetch: typeof fetch;
  /** Bytes handed out so far, all files together. */
  delivered(): number;
  /** Requests per path. */
  requests: Map<string, number>;
}

/**
 * Serves the model folder under /models/custom/ and the runtime under /ort/, each file in 64 kB
 * chunks (yielding between them, so the host's reports interleave with the bytes), with headers
 * a compressing server would send: `Content-Encoding: br` and the (here made-up) compressed
 * `Content-Length`, which the host must not take for the size.
 */
function network(replace: Record<string, Uint8Array> = {}, stalled: readonly string[] = []): Network {
  let delivered = 0;
  const requests = new Map<string, number>();
  const fetchImpl = async (input: RequestInfo | URL) => {
    const path = new URL(String(input)).pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const onDisk = path.startsWith('/models/custom/')
      ? join(MODEL_DIR, path.slice('/models/custom/'.length))
      : path.startsWith('/ort/')
        ? join(ORT_DIST, path.slice('/ort/'.length))
        : undefined;
    let bytes: Uint8Array;
    try {
      bytes = replace[path] ?? readFileSync(onDisk ?? '/nonexistent');
    } catch {
      return new Response('not found', { status: 404 });
    }
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        // A stalled file sends its first chunk and then nothing: only a load that does not wait for it ends.
        if (offset > 0 && stalled.includes(path)) await new Promise(() => undefined);
        await new Promise((resolve) => setImmediate(resolve));
        const chunk = bytes.subarray(offset, offset + 64 * 1024);
        offset += chunk.byteLength;
        delivered += chunk.byteLength;
        controller.enqueue(chunk);
        if (offset >= bytes.byteLength) controller.close();
      },
    });
    return new Response(body, {
      headers: { 'content-encoding': 'br', 'content-length': String(Math.ceil(bytes.byteLength / 4)) },
    });
  };
  return { fetch: fetchImpl as typeof fetch, delivered: () => delivered, requests };
}

// --- onnxruntime-web builds that record what the host hands them --------------------------------

interface FakeBuild {
  module: WebOrtModule;
  /** The size of `env.wasm.wasmBinary` at each session creation (undefined when not set). */
  binaries: (number | undefined)[];
}

/**
 * A build as the worker imports it: its own `env` (which the host sets), and sessions from the
 * real runtime. `fails` makes session creation fail, as the WebGPU build's does without WebGPU.
 */
function fakeBuild(fails?: string): FakeBuild {
  const binaries: (number | undefined)[] = [];
  const env: WebOrtModule['env'] = { wasm: {} };
  return {
    binaries,
    module: {
      env,
      Tensor: ort.Tensor,
      InferenceSession: {
        async create(model: Uint8Array, options?: InferenceSession.SessionOptions) {
          binaries.push(env.wasm.wasmBinary?.byteLength);
          if (fails) throw new Error(fails);
          return ort.InferenceSession.create(model, { ...options, executionProviders: ['wasm'] });
        },
      },
    },
  };
}

interface Report extends LoadProgress {
  /** Bytes the network had handed out when the report was made. */
  delivered: number;
}

async function load(options: { builds: OrtBuilds; environment?: Partial<HostEnvironment>; net?: Network }) {
  const net = options.net ?? network();
  const host = createWorkerHost(options.builds, {
    crossOriginIsolated: false,
    hardwareConcurrency: 1,
    fetch: net.fetch,
    runtimeBytes: RUNTIME_BYTES,
    ...options.environment,
  });
  const reports: Report[] = [];
  try {
    const result = await host.load({ modelBaseUrl: MODEL_BASE, ortBaseUrl: ORT_BASE }, (progress) =>
      reports.push({ ...progress, delivered: net.delivered() }),
    );
    return { result, reports, net, host };
  } catch (error) {
    await host.dispose();
    throw error;
  }
}

/** The reports of one download stage, in order. */
const downloads = (reports: Report[]) => reports.filter((r) => isDownloadStage(r.stage));

// --- The tests ----------------------------------------------------------------------------------

describe('DownloadMeter', () => {
  test('reports nothing before start, then the total from the first report, and all of it only with the last byte', () => {
    const reports: LoadProgress[] = [];
    const meter = new DownloadMeter((p) => reports.push(p), 0);
    meter.expect([
      { key: 'a', bytes: 100 },
      { key: 'b', bytes: 50 },
    ]);
    meter.update('a', 40);
    expect(reports).toEqual([]);
    meter.start(DOWNLOAD_STAGES.modelAndRuntime);
    expect(reports).toEqual([{ stage: DOWNLOAD_STAGES.modelAndRuntime, loaded: 40, total: 150, cached: false }]);
    meter.update('a', 100); // all of a's bytes, but a is not finished: its last byte may still be in flight
    meter.update('b', 50);
    expect(reports.at(-1)).toMatchObject({ loaded: 148, total: 150 });
    meter.finish('a', 100);
    expect(reports.at(-1)).toMatchObject({ loaded: 149 });
    // A file larger than announced still counts one byte short until it ends.
    meter.update('b', 80);
    expect(reports.at(-1)!.loaded).toBeLessThan(150);
    meter.finish('b', 80);
    expect(reports.at(-1)).toMatchObject({ loaded: 150, total: 150 });
    expect(meter.complete).toBe(true);
  });

  test('an unknown size makes the total unknown (0) rather than wrong; loaded counts what arrived', () => {
    const reports: LoadProgress[] = [];
    const meter = new DownloadMeter((p) => reports.push(p), 0);
    meter.expect([{ key: 'a', bytes: 100 }, { key: 'b' }]);
    meter.start(DOWNLOAD_STAGES.model);
    meter.update('b', 30);
    expect(reports.at(-1)).toEqual({ stage: DOWNLOAD_STAGES.model, loaded: 30, total: 0, cached: false });
  });

  test('reports at most once per step of the total, and at every file end', () => {
    const reports: LoadProgress[] = [];
    const meter = new DownloadMeter((p) => reports.push(p), 0.1);
    meter.expect([{ key: 'a', bytes: 1000 }]);
    meter.start(DOWNLOAD_STAGES.model);
    for (let loaded = 10; loaded <= 1000; loaded += 10) meter.update('a', loaded);
    meter.finish('a', 1000);
    // The start, one per 100 bytes, and the end.
    expect(reports.length).toBeLessThanOrEqual(12);
    expect(reports.at(-1)).toMatchObject({ loaded: 1000, total: 1000 });
  });

  test("the benchmark's load meter counts a download stage's bytes once", () => {
    const meter = new LoadMeter();
    meter.record({ stage: DOWNLOAD_STAGES.modelAndRuntime, loaded: 10, total: 100 });
    meter.record({ stage: DOWNLOAD_STAGES.modelAndRuntime, loaded: 100, total: 100 });
    meter.record({ stage: 'creating session', loaded: 0, total: 0 });
    expect(meter.finish().bytes).toBe(100);
  });
});

describe('the worker host counts the runtime and the model as one download', () => {
  test('total known from the first report; never all of it before the last byte; the runtime fetched once', async () => {
    const plain = fakeBuild();
    const { result, reports, net, host } = await load({ builds: { webgpu: async () => plain.module, wasm: async () => plain.module } });
    expect(result.device).toBe('wasm');
    const runtimeBytes = RUNTIME_BYTES[PLAIN_WASM]!;
    expect(runtimeBytes).toBe(statSync(join(ORT_DIST, PLAIN_WASM)).size);
    const everything = runtimeBytes + modelBytes;

    const stages = downloads(reports);
    expect(stages.length).toBeGreaterThan(2);
    // The first report already has the total: every byte the answer waits for, decoded sizes
    // (the made-up compressed Content-Length played no part).
    expect(reports[0]).toMatchObject({ stage: DOWNLOAD_STAGES.modelAndRuntime, total: everything, cached: false });
    for (const report of stages) {
      expect(report.total).toBe(everything);
      expect(report.stage).toBe(DOWNLOAD_STAGES.modelAndRuntime);
      // All of it only once the network has handed out every byte of every file.
      if (report.loaded >= report.total) expect(report.delivered).toBe(everything);
    }
    for (let i = 1; i < stages.length; i++) expect(stages[i]!.loaded).toBeGreaterThanOrEqual(stages[i - 1]!.loaded);
    expect(stages.at(-1)).toMatchObject({ loaded: everything, total: everything });
    // Reports came while bytes were arriving, not just at the start and the end.
    expect(stages.filter((r) => r.loaded > 0 && r.loaded < r.total).length).toBeGreaterThan(10);

    // Then the session (no bytes: an indeterminate step), then the warm-up.
    const after = reports.slice(reports.indexOf(stages.at(-1)!) + 1).map((r) => r.stage);
    expect(after).toEqual(['creating session', 'warming up']);
    expect(reports.find((r) => r.stage === 'creating session')).toMatchObject({ loaded: 0, total: 0 });
    expect(reports.some((r) => r.stage.startsWith('fetching '))).toBe(false);

    // The host downloaded the runtime once and handed it to onnxruntime-web, which fetched nothing itself.
    expect(plain.binaries).toEqual([runtimeBytes]);
    expect(net.requests.get(`/ort/${PLAIN_WASM}`)).toBe(1);
    expect([...net.requests.keys()].filter((path) => path.startsWith('/ort/'))).toEqual([`/ort/${PLAIN_WASM}`]);
    for (const file of MODEL_FILES) expect(net.requests.get(`/models/custom/${file}`), file).toBe(1);
    expect((await host.classify(1, 'where is my card')).device).toBe('wasm');
    await host.dispose();
  });

  test('a load whose files are all in the cache says so, and claims no download', async () => {
    const plain = fakeBuild();
    const asked: string[] = [];
    const caches = {
      match: async (request: RequestInfo | URL) => {
        asked.push(String(request));
        return new Response('');
      },
    } as unknown as Pick<CacheStorage, 'match'>;
    const { reports, host } = await load({
      builds: { webgpu: async () => plain.module, wasm: async () => plain.module },
      environment: { caches },
    });
    const stages = downloads(reports);
    expect(stages.length).toBeGreaterThan(0);
    for (const report of stages) expect(report).toMatchObject({ stage: DOWNLOAD_STAGES.cached, cached: true });
    expect(asked).toContain(`${ORT_BASE}${PLAIN_WASM}`);
    expect(asked).toContain(`${MODEL_BASE}${config.files.model}`);
    await host.dispose();
  });

  test('one file missing from the cache makes it a download', async () => {
    const plain = fakeBuild();
    const caches = {
      match: async (request: RequestInfo | URL) => (String(request).endsWith('.wasm') ? undefined : new Response('')),
    } as unknown as Pick<CacheStorage, 'match'>;
    const { reports, host } = await load({
      builds: { webgpu: async () => plain.module, wasm: async () => plain.module },
      environment: { caches },
    });
    expect(downloads(reports).every((r) => r.stage === DOWNLOAD_STAGES.modelAndRuntime && r.cached === false)).toBe(true);
    await host.dispose();
  });

  test('WebGPU first: its runtime counted; when its session fails, the WebAssembly runtime is a second, smaller download', async () => {
    const webgpu = fakeBuild('WebGPU is not supported in current environment');
    const plain = fakeBuild();
    const { result, reports, net, host } = await load({
      builds: { webgpu: async () => webgpu.module, wasm: async () => plain.module },
      environment: { gpu: { requestAdapter: async () => ({}) } },
    });
    expect(result).toMatchObject({ device: 'wasm' });
    expect(result.webgpuSkipped).toMatch(/^WebGPU failed/);
    expect(webgpu.binaries).toEqual([RUNTIME_BYTES[ASYNCIFY_WASM]]);
    expect(plain.binaries).toEqual([RUNTIME_BYTES[PLAIN_WASM]]);

    const first = downloads(reports).filter((r) => r.stage === DOWNLOAD_STAGES.modelAndRuntime);
    const second = downloads(reports).filter((r) => r.stage === DOWNLOAD_STAGES.runtime);
    expect(first[0]!.total).toBe(RUNTIME_BYTES[ASYNCIFY_WASM]! + modelBytes);
    expect(first.at(-1)!.loaded).toBe(first[0]!.total);
    // The model's files are in already: only the runtime is left to fetch.
    expect(second[0]).toMatchObject({ total: RUNTIME_BYTES[PLAIN_WASM] });
    expect(second.at(-1)).toMatchObject({ loaded: RUNTIME_BYTES[PLAIN_WASM], total: RUNTIME_BYTES[PLAIN_WASM] });
    for (const report of second) if (report.loaded >= report.total) expect(report.delivered).toBe(net.delivered());
    for (const file of MODEL_FILES) expect(net.requests.get(`/models/custom/${file}`), file).toBe(1);
    await host.dispose();
  });

  test('without the build sizes the total is unknown (0), never wrong', async () => {
    const plain = fakeBuild();
    const { reports, host } = await load({
      builds: { webgpu: async () => plain.module, wasm: async () => plain.module },
      environment: { runtimeBytes: {} },
    });
    const stages = downloads(reports);
    expect(stages.every((r) => r.total === 0)).toBe(true);
    expect(stages.at(-1)!.loaded).toBe(RUNTIME_BYTES[PLAIN_WASM]! + modelBytes);
    await host.dispose();
  });

  test('a runtime the server does not have fails the load naming the runtime file, not the model', async () => {
    const plain = fakeBuild();
    const net = network();
    const missing: typeof fetch = async (input, init) =>
      String(input).endsWith('.wasm') ? new Response('not found', { status: 404 }) : net.fetch(input, init);
    const error = await load({
      builds: { webgpu: async () => plain.module, wasm: async () => plain.module },
      net: { ...net, fetch: missing },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as ModelFileError).file).toBe(PLAIN_WASM);
    expect((error as Error).message).toContain('runtime');
    expect(plain.binaries).toEqual([]);
  });

  test('a broken model file fails the load at once, without waiting for the runtime to arrive', async () => {
    const plain = fakeBuild();
    const model = new Uint8Array(readFileSync(join(MODEL_DIR, config.files.model!)));
    model[model.length - 1]! ^= 0xff;
    // The runtime never finishes arriving: the load must fail on the model without waiting for it.
    const net = network({ [`/models/custom/${config.files.model}`]: model }, [`/ort/${PLAIN_WASM}`]);
    const error = await load({ builds: { webgpu: async () => plain.module, wasm: async () => plain.module }, net }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelIntegrityError);
    expect((error as ModelFileError).file).toBe(config.files.model);
    expect(net.delivered()).toBeLessThan(RUNTIME_BYTES[PLAIN_WASM]! + modelBytes);
    expect(plain.binaries).toEqual([]);
  });
});
