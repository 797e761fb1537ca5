/**
 * The fine-tuned Llama (llama-qlora), run in a dedicated worker on transformers.js. The worker
 * (workers/llama.worker.ts) holds the engine; the page's side (worker lifetime, state, latency,
 * aborts) is the shared `WorkerAdapter`. Needs WebGPU unless `allowWasm` is set: without it, load
 * fails with `ModelUnavailableError('The llama-qlora model needs WebGPU…')`.
 */
import type { LlamaDtype } from '../engine/llama-engine';
import type { LlamaHostLoadRequest, LlamaHostLoadResult } from '../engine/llama-worker-host';
import { WorkerAdapter } from './worker-adapter';

export interface LlamaAdapterOptions {
  /** Absolute URL of the model folder (transformers.js layout plus classifier.json). */
  modelBaseUrl: string;
  /** Absolute URL of our copy of the onnxruntime-web runtime files. */
  wasmBaseUrl: string;
  /** Default `webgpu`. */
  device?: 'webgpu' | 'wasm';
  /** Run on WASM where WebGPU is missing rather than fail. Default false. */
  allowWasm?: boolean;
  dtype?: LlamaDtype;
  /** Starts the worker; replaceable in tests. */
  createWorker?: () => Worker;
}

export class LlamaQloraAdapter extends WorkerAdapter<LlamaHostLoadRequest, LlamaHostLoadResult> {
  readonly id = 'llama-qlora';

  constructor(private readonly options: LlamaAdapterOptions) {
    super();
  }

  /** The weights' variant in use once loaded (q4, q4f16 or fp32). */
  get dtype(): LlamaDtype | undefined {
    return this.info?.dtype;
  }

  /** Why the model does not run where it was asked to (no WebGPU, no shader-f16), when it does not. */
  get placementNote(): string | undefined {
    return this.info?.note;
  }

  protected startWorker(): Worker {
    if (this.options.createWorker) return this.options.createWorker();
    return new Worker(new URL('../../workers/llama.worker.ts', import.meta.url), { type: 'module', name: 'llama-qlora-model' });
  }

  protected loadRequest(): LlamaHostLoadRequest {
    const { modelBaseUrl, wasmBaseUrl, device, allowWasm, dtype } = this.options;
    return { modelBaseUrl, wasmBaseUrl, device, allowWasm, dtype };
  }
}
