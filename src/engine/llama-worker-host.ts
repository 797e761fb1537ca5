/**
 * The llama-qlora engine as a service for one page: what `workers/llama.worker.ts` exposes
 * through comlink, like `custom-worker-host.ts` does for the custom model. It applies the device policy
 * (WebGPU required unless WASM is allowed; q4f16 only with `shader-f16`, see `choosePlacement`),
 * points transformers.js at the model folder and at our own copy of the ORT files, warms the
 * model up and runs one model call at a time. It knows nothing about workers or messaging.
 */
import type { Device } from '../core/prediction';
import { serveEngine, type EngineService } from './engine-service';
import { LLAMA_MODEL_ID, LlamaEngine, type GpuAdapterLike, type LlamaDtype, type TransformersModule } from './llama-engine';

/** The surroundings the host reads; defaults come from `globalThis`. */
export interface LlamaHostEnvironment {
  /** `navigator.gpu` where WebGPU exists. */
  gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> };
  /** Reads classifier.json; the global `fetch` unless a test supplies its own. */
  readText?: (url: string) => Promise<string>;
  /** The worker's own origin (`location.origin`): model folders there are passed as paths. */
  origin?: string;
}

export interface LlamaHostLoadRequest {
  /** Absolute URL of the model folder (transformers.js layout plus classifier.json). */
  modelBaseUrl: string;
  /** Absolute URL of our own copy of the onnxruntime-web runtime files (`…/ort/`). */
  wasmBaseUrl: string;
  /** Default `webgpu`; `wasm` only when chosen explicitly (`?device=wasm`). */
  device?: 'webgpu' | 'wasm';
  /** Run on WASM where WebGPU is missing rather than fail. Default false: a 1B model on WASM is very slow. */
  allowWasm?: boolean;
  /** Default: q4f16 where the GPU supports it and the folder has it, else q4. */
  dtype?: LlamaDtype;
}

export interface LlamaHostLoadResult {
  device: Device;
  dtype: LlamaDtype;
  modelId: string;
  /** Why the model does not run where it was asked to, when it does not. */
  note?: string;
  /** The labels it may answer (classifier.json), for benchmarks. */
  labels?: string[];
}

export type LlamaWorkerApi = EngineService<LlamaHostLoadRequest, LlamaHostLoadResult>;

function defaultLlamaEnvironment(): LlamaHostEnvironment {
  const scope = globalThis as { navigator?: { gpu?: LlamaHostEnvironment['gpu'] }; location?: { origin?: string } };
  return { gpu: scope.navigator?.gpu, origin: scope.location?.origin };
}

/**
 * The model folder as transformers.js should get it: a URL on `origin` becomes its root-relative
 * path. transformers.js 4.3.1 looks a local model's files up only when the folder is not a URL:
 * given `http://…/models/llama-qlora/` it decides that tokenizer_config.json does not exist, and
 * the load fails on "reading 'tokenizer_class'". Anything else is passed on unchanged.
 */
export function localModelPath(folder: string, origin: string | undefined): string {
  if (origin === undefined) return folder;
  try {
    const url = new URL(folder);
    return url.origin === origin ? url.pathname : folder;
  } catch {
    return folder;
  }
}

export function createLlamaWorkerHost(
  transformers: TransformersModule,
  environment: LlamaHostEnvironment = defaultLlamaEnvironment(),
): LlamaWorkerApi {
  return serveEngine<LlamaHostLoadRequest, LlamaHostLoadResult>(LLAMA_MODEL_ID, async (request, onProgress) => {
    const loaded = await LlamaEngine.load({
      transformers,
      modelPath: localModelPath(request.modelBaseUrl, environment.origin),
      device: request.device ?? 'webgpu',
      dtype: request.dtype,
      allowWasm: request.allowWasm,
      wasmPaths: request.wasmBaseUrl,
      gpu: environment.gpu,
      readText: environment.readText,
      onProgress,
    });
    try {
      onProgress?.({ stage: 'warming up', loaded: 0, total: 0 });
      await loaded.warmUp();
    } catch (error) {
      await loaded.dispose().catch(() => undefined);
      throw error;
    }
    const { device, dtype, note } = loaded.placement;
    const labels = [...loaded.spec.labels];
    const result: LlamaHostLoadResult =
      note === undefined ? { device, dtype, modelId: LLAMA_MODEL_ID, labels } : { device, dtype, modelId: LLAMA_MODEL_ID, note, labels };
    return { engine: loaded, result };
  });
}
