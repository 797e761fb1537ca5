/**
 * The on-device models in a browser: each in a Web Worker of its own. The custom model's worker
 * holds onnxruntime-web (WebGPU where the device has it, else WebAssembly); the Llama's holds
 * transformers.js, and its client code is fetched only when the Llama is first used.
 */
import { CustomAdapter } from '../adapters/custom';
import { LazyAdapter } from '../adapters/lazy-adapter';
import { UnconfiguredAdapter } from '../adapters/unconfigured-adapter';
import type { RuntimeHosts } from './intent-runtime';

export interface BrowserHostOptions {
  /** Absolute URL of the custom model's folder. */
  modelBaseUrl: string;
  /** Absolute URL of the onnxruntime-web runtime files for the custom model. */
  ortBaseUrl: string;
  /** `wasm` keeps the on-device models off WebGPU; `auto` (default) uses it where the browser has it. */
  device?: 'auto' | 'wasm';
  /** Starts the custom model's worker (the widget starts it across origins); default: the bundled worker. */
  createWorker?: () => Worker;
  /**
   * The Llama's model folder and its transformers.js runtime files. Without them llama-qlora is
   * unavailable, saying so, and a fallback answers instead.
   */
  llama?: { modelBaseUrl: string; wasmBaseUrl: string } | { unavailable: string };
}

const LLAMA_ID = 'llama-qlora';

export function browserHosts(options: BrowserHostOptions): RuntimeHosts {
  return {
    custom: () =>
      new CustomAdapter({
        modelBaseUrl: options.modelBaseUrl,
        ortBaseUrl: options.ortBaseUrl,
        preferWebGPU: options.device !== 'wasm',
        createWorker: options.createWorker,
      }),
    llama: ({ allowWasm }) => llamaAdapter(options, allowWasm),
  };
}

/**
 * The fine-tuned Llama: it needs WebGPU; where `device: 'wasm'` keeps the page off WebGPU it runs
 * only if `allowWasm`. Without a WebGPU adapter the worker itself reports it unavailable, with why.
 */
function llamaAdapter(options: BrowserHostOptions, allowWasm: boolean) {
  const llama = options.llama ?? { unavailable: 'The llama-qlora model is not set up here (no model folder was given).' };
  if ('unavailable' in llama) return new UnconfiguredAdapter(LLAMA_ID, llama.unavailable);
  if (options.device === 'wasm' && !allowWasm) {
    return new UnconfiguredAdapter(
      LLAMA_ID,
      'The llama-qlora model needs WebGPU, and ?device=wasm keeps this page off it. Add llama_wasm=1 to the address to run it on WebAssembly (slowly), or choose another model.',
    );
  }
  return new LazyAdapter(LLAMA_ID, async () => {
    const { LlamaQloraAdapter } = await import('../adapters/llama-qlora');
    return new LlamaQloraAdapter({
      modelBaseUrl: llama.modelBaseUrl,
      wasmBaseUrl: llama.wasmBaseUrl,
      device: options.device === 'wasm' ? 'wasm' : 'webgpu',
      allowWasm,
    });
  });
}
