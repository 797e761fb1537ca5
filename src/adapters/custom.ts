/**
 * Our own transformer, run in a dedicated worker so that the page stays responsive while the
 * model loads and classifies. The worker (workers/custom.worker.ts) holds the engine; the page's
 * side (worker lifetime, state, latency, aborts) is the shared `WorkerAdapter`.
 */
import { ModelFileError } from '../core/errors';
import { PROBE_SET_FILE } from '../bench/probe-hash';
import type { HostLoadRequest, HostLoadResult } from '../engine/custom-worker-host';
import { WorkerAdapter } from './worker-adapter';

export interface CustomAdapterOptions {
  /** Absolute URL of the model folder (config.json, tokenizer.json, spelling.json, onnx/model.onnx). */
  modelBaseUrl: string;
  /** Absolute URL of our copy of the onnxruntime-web runtime files. */
  ortBaseUrl: string;
  /** `false` keeps the model off WebGPU even where the browser has it. Default true. */
  preferWebGPU?: boolean;
  /** Default true: a model folder without manifest.json is refused. False only for development. */
  requireManifest?: boolean;
  /** Starts the worker; replaceable in tests. */
  createWorker?: () => Worker;
}

const MODEL_ID = 'custom';

export class CustomAdapter extends WorkerAdapter<HostLoadRequest, HostLoadResult> {
  readonly id = MODEL_ID;

  constructor(private readonly options: CustomAdapterOptions) {
    super();
  }

  /** Why the model runs on WASM rather than WebGPU, once loaded; undefined on WebGPU. */
  get webgpuSkipped(): string | undefined {
    return this.info?.webgpuSkipped;
  }

  /**
   * `probe-set.json` in the model folder, parsed; undefined when the folder has none. Fetched only
   * when a benchmark round asks (a model with Banking77's intents never needs it).
   */
  async ownProbeSet(): Promise<unknown> {
    const url = new URL(PROBE_SET_FILE, this.options.modelBaseUrl).href;
    const response = await fetch(url, { cache: 'no-cache', headers: { Accept: 'application/json' } });
    if (response.status === 404 || response.status === 410) return undefined;
    if (!response.ok) throw new ModelFileError({ message: `Could not read ${url}: HTTP ${response.status}.`, file: PROBE_SET_FILE });
    // A server that answers its index page for any path has no such file either.
    if (/text\/html/i.test(response.headers.get('content-type') ?? '')) return undefined;
    return (await response.json()) as unknown;
  }

  protected startWorker(): Worker {
    if (this.options.createWorker) return this.options.createWorker();
    return new Worker(new URL('../../workers/custom.worker.ts', import.meta.url), { type: 'module', name: 'custom-model' });
  }

  protected loadRequest(): HostLoadRequest {
    return {
      modelBaseUrl: this.options.modelBaseUrl,
      ortBaseUrl: this.options.ortBaseUrl,
      preferWebGPU: this.options.preferWebGPU,
      modelId: MODEL_ID,
      requireManifest: this.options.requireManifest,
    };
  }
}
