/**
 * The custom engine as a service for one page: what `workers/custom.worker.ts` exposes through
 * comlink. It chooses the execution provider (WebGPU when an adapter exists, else WASM, and WASM
 * again when the WebGPU session cannot be created), points onnxruntime-web at our own copy of its
 * runtime, and runs one model call at a time. It knows nothing about workers or messaging, so a
 * test can drive it over a MessageChannel in Node with the real onnxruntime-web.
 */
import type { Device } from '../core/prediction';
import { CustomEngine, type OrtModule } from './custom-engine';
import { serveEngine, type EngineService } from './engine-service';
import { ModelIntegrityError } from './model-manifest';
import { httpSource, type ModelSource } from './model-source';

/** What the host needs from onnxruntime-web: the engine's part plus the runtime settings. */
export interface WebOrtModule extends OrtModule {
  env: { logLevel?: string; wasm: { wasmPaths?: unknown; numThreads?: number } };
}

/** The few facts about the surroundings the host reads; defaults come from `globalThis`. */
export interface HostEnvironment {
  /** `navigator.gpu` where WebGPU exists. */
  gpu?: { requestAdapter(): Promise<unknown> };
  /** Whether SharedArrayBuffer (and so multi-threaded WASM) may be used. */
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  /** How model files are fetched; the global `fetch` unless a test supplies its own. */
  fetch?: typeof fetch;
}

export interface HostLoadRequest {
  /** Absolute URL of the folder with config.json, tokenizer.json and model.onnx. */
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
}

export type CustomWorkerApi = EngineService<HostLoadRequest, HostLoadResult>;

const WARM_UP_TEXT = 'hello';

export function defaultEnvironment(): HostEnvironment {
  const scope = globalThis as { crossOriginIsolated?: boolean; navigator?: { gpu?: HostEnvironment['gpu']; hardwareConcurrency?: number } };
  return {
    gpu: scope.navigator?.gpu,
    crossOriginIsolated: scope.crossOriginIsolated === true,
    hardwareConcurrency: scope.navigator?.hardwareConcurrency ?? 1,
  };
}

export function createWorkerHost(ort: WebOrtModule, environment: HostEnvironment = defaultEnvironment()): CustomWorkerApi {
  return serveEngine<HostLoadRequest, HostLoadResult>('custom', async (request, onProgress) => {
    // Without cross-origin isolation there is no SharedArrayBuffer: threads would fail to start.
    ort.env.wasm.wasmPaths = request.ortBaseUrl;
    ort.env.wasm.numThreads = environment.crossOriginIsolated ? Math.min(4, environment.hardwareConcurrency) : 1;
    // Runtime-level warnings are noise in a user's console. (Session-level ones, such as "some
    // nodes were not assigned to the preferred execution providers", follow the session option
    // `logSeverityLevel` in SESSION_OPTIONS instead.)
    ort.env.logLevel = 'error';

    const modelId = request.modelId ?? 'custom';
    // Files are fetched once even when the WebGPU attempt fails and WASM tries again.
    const source = memoized(httpSource(request.modelBaseUrl, environment.fetch));
    const attempt = async (device: 'webgpu' | 'wasm') => {
      const loaded = await CustomEngine.load(source, {
        ort,
        executionProviders: [device],
        device,
        modelId,
        requireManifest: request.requireManifest ?? true,
        onProgress,
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
        return { engine: await attempt('webgpu'), result: { device: 'webgpu', modelId } };
      } catch (error) {
        // A file that fails its manifest is broken on every device: say so now. (NaN scores may be
        // the WebGPU backend's doing, so those still get their WASM attempt.)
        if (error instanceof ModelIntegrityError) throw error;
        // A broken file fails on WASM too, and then that error is the one reported.
        webgpuSkipped = `WebGPU failed: ${(error as Error).message}`;
      }
    }
    return { engine: await attempt('wasm'), result: { device: 'wasm', modelId, webgpuSkipped } };
  });
}

async function hasGpuAdapter(environment: HostEnvironment): Promise<boolean> {
  if (!environment.gpu) return false;
  try {
    return (await environment.gpu.requestAdapter()) != null;
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
