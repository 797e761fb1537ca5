/**
 * The custom engine as a service for one page: what `workers/custom.worker.ts` exposes through
 * comlink. It chooses the execution provider (WebGPU when an adapter exists, else WASM, and WASM
 * again when the WebGPU session cannot be created), loads only the onnxruntime-web build that
 * provider needs (the WebGPU build's 26.8 MB asyncify runtime where WebGPU is tried, the plain
 * 14.2 MB WebAssembly runtime elsewhere), points it at our own copy of its runtime files, and runs
 * one model call at a time. It knows nothing about workers or messaging, so a
 * test can drive it over a MessageChannel in Node with the real onnxruntime-web.
 *
 * Progress counts every byte the first answer waits for, as one report (src/engine/load-plan.ts):
 * the host downloads the runtime's `.wasm` itself, next to the model's files, and hands it to
 * onnxruntime-web (`env.wasm.wasmBinary`), which then does not fetch it again. The total is known
 * before the first byte: the runtime's size from the build (src/engine/runtime-bytes.ts), the model
 * files' from the folder's manifest.json. A load whose files are all in this device's cache (the
 * service worker's) says so (`cached: true`) rather than claiming a download.
 */
import type { LoadProgress } from '../core/adapter';
import { ModelFileError } from '../core/errors';
import type { Device } from '../core/prediction';
import { parseModelConfig } from '../models/custom/config';
import { ORT_RUNTIME_FILES } from '../sw/runtime-files';
import { CustomEngine, type OrtModule } from './custom-engine';
import { serveEngine, type EngineService } from './engine-service';
import { DOWNLOAD_STAGES, DownloadMeter, type PlannedFile } from './load-plan';
import { MODEL_MANIFEST_FILE, ModelIntegrityError, parseModelManifest } from './model-manifest';
import { httpSource, type ModelSource } from './model-source';
import { ORT_RUNTIME_BYTES } from './runtime-bytes';

/** What the host needs from onnxruntime-web: the engine's part plus the runtime settings. */
export interface WebOrtModule extends OrtModule {
  env: { logLevel?: string; wasm: { wasmPaths?: unknown; numThreads?: number; wasmBinary?: ArrayBufferLike | Uint8Array } };
}

/** A pair of runtime files in src/sw/runtime-files.ts: `wasm` (plain) or `webgpu` (asyncify). */
export type OrtRuntimeName = keyof typeof ORT_RUNTIME_FILES;

/**
 * The onnxruntime-web builds, imported on first use: `webgpu` (`onnxruntime-web/webgpu`) only where
 * WebGPU is tried, `wasm` (`onnxruntime-web/wasm`) otherwise, so a device without WebGPU never
 * downloads the WebGPU runtime.
 */
export interface OrtBuilds {
  webgpu(): Promise<WebOrtModule>;
  wasm(): Promise<WebOrtModule>;
  /**
   * The runtime files each build loads (src/sw/runtime-files.ts), which the host downloads for it.
   * Default: `webgpu` the asyncify pair, `wasm` the plain one.
   */
  runtimes?: Partial<Record<'webgpu' | 'wasm', OrtRuntimeName>>;
}

/**
 * One module for both providers (Node's tests, or a bundle that has both), loading the `runtime`
 * pair of files (default the asyncify one, which `onnxruntime-web/webgpu` loads).
 */
export const singleBuild = (ort: WebOrtModule, runtime: OrtRuntimeName = 'webgpu'): OrtBuilds => ({
  webgpu: async () => ort,
  wasm: async () => ort,
  runtimes: { webgpu: runtime, wasm: runtime },
});

/** The few facts about the surroundings the host reads; defaults come from `globalThis`. */
export interface HostEnvironment {
  /** `navigator.gpu` where WebGPU exists. */
  gpu?: { requestAdapter(): Promise<unknown> };
  /** Whether SharedArrayBuffer (and so multi-threaded WASM) may be used. */
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  /** The worker's own origin (`location.origin`; a blob: worker has its creator's). */
  origin?: string;
  /** How model and runtime files are fetched; the global `fetch` unless a test supplies its own. */
  fetch?: typeof fetch;
  /**
   * Where a service worker keeps files (`caches` where there is one): a load whose every file is
   * there reports `cached: true` and no download.
   */
  caches?: Pick<CacheStorage, 'match'>;
  /** The decoded size of each runtime file by name; default: the build's (src/engine/runtime-bytes.ts). */
  runtimeBytes?: Readonly<Record<string, number>>;
  /** Model calls run in the background after a WASM load (IDLE_WARM_UP); default 50. */
  warmUpCalls?: number;
}

export interface HostLoadRequest {
  /** Absolute URL of the folder with config.json, tokenizer.json, spelling.json and onnx/model.onnx. */
  modelBaseUrl: string;
  /** Absolute URL of our own copy of the ORT runtime files (`…/ort/`). */
  ortBaseUrl: string;
  /** `false` skips WebGPU even where it exists (`?device=wasm`). Default true. */
  preferWebGPU?: boolean;
  modelId?: string;
  /** Default true: a folder without manifest.json is refused. False only for development. */
  requireManifest?: boolean;
}

export interface HostLoadResult {
  device: Device;
  modelId: string;
  /** Why the model does not run on WebGPU, when it does not. */
  webgpuSkipped?: string;
  /** The model's labels (config.json), for benchmarks. */
  labels?: string[];
}

export type CustomWorkerApi = EngineService<HostLoadRequest, HostLoadResult>;

const WARM_UP_TEXT = 'hello';
/**
 * After the load, on WASM only: messages of a few lengths, run while the model is otherwise idle
 * (engine-service.ts, WarmUp). Measured in Chromium: the first 50 queries' median is 2-3x the
 * rest's, so 50 calls.
 */
const IDLE_WARM_UP = {
  calls: 50,
  texts: ['hello', 'I still have not received my new card', 'Why was I charged twice for the same payment at the shop yesterday evening?'],
};

export function defaultEnvironment(): HostEnvironment {
  const scope = globalThis as {
    crossOriginIsolated?: boolean;
    location?: { origin?: string };
    navigator?: { gpu?: HostEnvironment['gpu']; hardwareConcurrency?: number };
    caches?: CacheStorage;
  };
  return {
    gpu: scope.navigator?.gpu,
    crossOriginIsolated: scope.crossOriginIsolated === true,
    hardwareConcurrency: scope.navigator?.hardwareConcurrency ?? 1,
    origin: scope.location?.origin,
    caches: scope.caches,
  };
}

export function createWorkerHost(builds: OrtBuilds, environment: HostEnvironment = defaultEnvironment()): CustomWorkerApi {
  return serveEngine<HostLoadRequest, HostLoadResult>('custom', async (request, onProgress) => {
    const runtimeFor = async (device: 'webgpu' | 'wasm') => {
      const ort = await builds[device]();
      ort.env.wasm.wasmPaths = request.ortBaseUrl;
      ort.env.wasm.numThreads = wasmThreads(environment, request.ortBaseUrl);
      // Runtime-level warnings are noise in a user's console. (Session-level ones, such as "some
      // nodes were not assigned to the preferred execution providers", follow the session option
      // `logSeverityLevel` in SESSION_OPTIONS instead.)
      ort.env.logLevel = 'error';
      return ort;
    };

    const modelId = request.modelId ?? 'custom';
    // Files are fetched once even when the WebGPU attempt fails and WASM tries again.
    const source = memoized(httpSource(request.modelBaseUrl, environment.fetch));
    const downloads = hostDownloads(request, environment, builds, source, onProgress);
    const attempt = async (device: 'webgpu' | 'wasm') => {
      // The build's JavaScript and the downloads at once.
      const [ort, { runtimeBinary }] = await Promise.all([runtimeFor(device), downloads.start(device)]);
      const loaded = await CustomEngine.load(source, {
        ort: {
          Tensor: ort.Tensor,
          InferenceSession: {
            // The model's bytes are in by now; the runtime's may still be arriving.
            async create(model, options) {
              if (runtimeBinary) ort.env.wasm.wasmBinary = await runtimeBinary;
              onProgress?.({ stage: 'creating session', loaded: 0, total: 0 });
              return ort.InferenceSession.create(model, options);
            },
          },
        },
        executionProviders: [device],
        device,
        modelId,
        requireManifest: request.requireManifest ?? true,
        // The host reports the downloads, all files together, and the session once it begins.
        onProgress: (progress) => {
          if (!progress.stage.startsWith('fetching ') && progress.stage !== 'creating session') onProgress?.(progress);
        },
      });
      // The first run compiles WebGPU shaders (seconds on a software adapter): do it now rather
      // than in the user's first request, and treat a failure like a failed session.
      try {
        onProgress?.({ stage: 'warming up', loaded: 0, total: 0 });
        await loaded.classify(WARM_UP_TEXT, { topK: 1 });
      } catch (error) {
        await loaded.dispose().catch(() => undefined);
        throw error;
      }
      return loaded;
    };

    let webgpuSkipped: string | undefined;
    if (request.preferWebGPU === false) {
      webgpuSkipped = 'WebGPU was turned off (device=wasm).';
    } else if (!(await hasGpuAdapter(environment))) {
      webgpuSkipped = 'This browser offers no WebGPU adapter.';
    } else {
      try {
        const engine = await attempt('webgpu');
        return { engine, result: { device: 'webgpu', modelId, labels: [...engine.labels] } };
      } catch (error) {
        // A file that fails its manifest is broken on every device: say so now. (NaN scores may be
        // the WebGPU backend's doing, so those still get their WASM attempt.)
        if (error instanceof ModelIntegrityError) throw error;
        // A broken file fails on WASM too, and then that error is the one reported.
        webgpuSkipped = `WebGPU failed: ${(error as Error).message}`;
      }
    }
    const engine = await attempt('wasm');
    const warmUp = {
      calls: environment.warmUpCalls ?? IDLE_WARM_UP.calls,
      call: (i: number) => engine.classify(IDLE_WARM_UP.texts[i % IDLE_WARM_UP.texts.length]!, { topK: 1 }),
    };
    return { engine, result: { device: 'wasm', modelId, webgpuSkipped, labels: [...engine.labels] }, warmUp };
  });
}

/**
 * How many threads onnxruntime-web may use. One without cross-origin isolation: there is no
 * SharedArrayBuffer, so threads would fail to start. One where the runtime comes from another
 * origin (a widget embedded in an isolated portal): onnxruntime-web then imports its code through a
 * blob: URL for its thread workers, which a portal's CSP rarely allows (script-src), and the load
 * failed. Else as many as the device has cores, up to 4.
 */
export function wasmThreads(environment: HostEnvironment, ortBaseUrl: string): number {
  if (!environment.crossOriginIsolated) return 1;
  if (environment.origin === undefined || new URL(ortBaseUrl, environment.origin).origin !== environment.origin) return 1;
  return Math.max(1, Math.min(4, environment.hardwareConcurrency));
}

async function hasGpuAdapter(environment: HostEnvironment): Promise<boolean> {
  if (!environment.gpu) return false;
  try {
    return (await environment.gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}

/**
 * The downloads of one load, as one progress report per attempt. `start(device)` plans what that
 * attempt waits for (the runtime `.wasm` of the device's build, and the model files not fetched
 * yet), starts fetching all of it, and gives the runtime's bytes (undefined where onnxruntime-web
 * fetches its runtime itself: a `file:` base in Node). Nothing is reported before the plan is
 * made, so the first report carries the total. `start` resolves once everything is under way.
 */
function hostDownloads(
  request: HostLoadRequest,
  environment: HostEnvironment,
  builds: OrtBuilds,
  source: ModelSource,
  onProgress: ((progress: LoadProgress) => void) | undefined,
) {
  const runtimeSource = memoized(httpSource(request.ortBaseUrl, environment.fetch));
  const modelBase = source.location;
  const runtimeBytes = environment.runtimeBytes ?? ORT_RUNTIME_BYTES;
  /** URLs an earlier attempt already counted. */
  const counted = new Set<string>();
  const emit = onProgress ?? (() => undefined);

  return {
    async start(device: 'webgpu' | 'wasm'): Promise<{ runtimeBinary?: Promise<Uint8Array> }> {
      const meter = new DownloadMeter(emit);
      const runtime = builds.runtimes?.[device] ?? device;
      const wasmFile = ORT_RUNTIME_FILES[runtime].find((file) => file.endsWith('.wasm'))!;
      // Node's module loader imports the runtime only from file: URLs, and reads its .wasm itself.
      const runtimeUrl = /^https?:/i.test(request.ortBaseUrl) ? new URL(wasmFile, request.ortBaseUrl).href : undefined;
      let runtimeBinary: Promise<Uint8Array> | undefined;
      if (runtimeUrl) {
        const key = runtimeUrl;
        if (!counted.has(key)) meter.expect([{ key, bytes: runtimeBytes[wasmFile] }]);
        runtimeBinary = runtimeSource.read(wasmFile, { onProgress: (p) => meter.update(key, p.loaded) }).then(
          (bytes) => {
            meter.finish(key, bytes.byteLength);
            return bytes;
          },
          (error: unknown) => {
            throw new ModelFileError({
              message: `The onnxruntime-web runtime ${wasmFile} could not be downloaded from ${request.ortBaseUrl}: ${(error as Error).message}`,
              file: wasmFile,
              cause: error,
            });
          },
        );
        // Reported when the session is created (or not at all when the model fails first).
        runtimeBinary.catch(() => undefined);
      }

      // The model's files: config.json names them, manifest.json gives their sizes. Both are
      // small, and read (unmetered, then counted as in) before anything is reported; a folder
      // where either cannot be read or parsed is left to the engine to report.
      const modelFiles: { file: string; bytes?: number }[] = [];
      const read = async (file: string) => source.read(file).catch(() => undefined);
      const [configBytes, manifestBytes] = await Promise.all([read('config.json'), read(MODEL_MANIFEST_FILE)]);
      const files = tryParse(() => parseModelConfig(JSON.parse(new TextDecoder().decode(configBytes))).files);
      const manifest = manifestBytes && tryParse(() => parseModelManifest(manifestBytes));
      const done: [string, Uint8Array | undefined][] = [
        ['config.json', configBytes],
        [MODEL_MANIFEST_FILE, manifestBytes],
      ];
      for (const [file, bytes] of done) if (bytes) modelFiles.push({ file, bytes: bytes.byteLength });
      for (const file of files ? [files.model, files.tokenizer, files.spelling] : []) {
        if (file !== undefined) modelFiles.push({ file, bytes: manifest?.files[file]?.bytes });
      }
      const urlOf = (file: string) => new URL(file, modelBase).href;
      const planned: PlannedFile[] = modelFiles
        .filter(({ file }) => !counted.has(urlOf(file)))
        .map(({ file, bytes }) => ({ key: urlOf(file), bytes }));
      meter.expect(planned);
      for (const [file, bytes] of done) if (bytes) meter.finish(urlOf(file), bytes.byteLength);
      const keys = [...(runtimeUrl && !counted.has(runtimeUrl) ? [runtimeUrl] : []), ...planned.map((p) => p.key)];
      for (const key of keys) counted.add(key);
      const fetchesModel = planned.some((p) => !done.some(([file]) => urlOf(file) === p.key));
      const fetchesRuntime = runtimeUrl !== undefined && meter.has(runtimeUrl);
      if (!fetchesModel && !fetchesRuntime) return { runtimeBinary };

      const cached = await allCached(environment.caches, keys);
      const stage = cached
        ? DOWNLOAD_STAGES.cached
        : fetchesModel && fetchesRuntime
          ? DOWNLOAD_STAGES.modelAndRuntime
          : fetchesRuntime
            ? DOWNLOAD_STAGES.runtime
            : DOWNLOAD_STAGES.model;
      meter.start(stage, cached);
      // The engine reads these same (memoized) promises in its own order.
      for (const { file } of modelFiles) {
        const key = urlOf(file);
        if (done.some(([name]) => name === file) || !meter.has(key)) continue;
        source.read(file, { onProgress: (p) => meter.update(key, p.loaded) }).then(
          (bytes) => meter.finish(key, bytes.byteLength),
          () => undefined,
        );
      }
      // Wrapped: an async function would wait for a promise it returns.
      return { runtimeBinary };
    },
  };
}

function tryParse<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

/** Whether every URL is in Cache Storage (where a service worker answers from); false without one. */
async function allCached(caches: HostEnvironment['caches'], urls: readonly string[]): Promise<boolean> {
  if (!caches || urls.length === 0) return false;
  try {
    const found = await Promise.all(urls.map((url) => caches.match(url, { ignoreVary: true })));
    return found.every((response) => response !== undefined);
  } catch {
    return false;
  }
}

/** Reads each file once; a failed read fails the same way again without another request. */
function memoized(source: ModelSource): ModelSource {
  const reads = new Map<string, Promise<Uint8Array>>();
  return {
    location: source.location,
    read(file, options) {
      let read = reads.get(file);
      if (!read) {
        read = source.read(file, options);
        reads.set(file, read);
      }
      return read;
    },
  };
}
