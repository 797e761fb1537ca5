/**
 * The one factory table: which adapter each model id makes, from the runtime config. The
 * on-device models differ by host (a Web Worker in the browser; onnxruntime-node or
 * transformers.js on the CPU in the CLI), so the host passes its own makers; the remote adapters
 * are the same everywhere.
 */
import type { AdapterHealth, IntentAdapter } from '../core/adapter';
import type { ModelId, RuntimeConfig } from '../core/config';
import { ModelUnavailableError } from '../core/errors';
import type { Prediction } from '../core/prediction';
import { LazyAdapter } from './lazy-adapter';
import type { AdapterFactories } from './pipeline';

/** What a host makes itself: the models that run on the device. */
export interface HostMakers {
  custom: () => IntentAdapter;
  /** `llama-qlora`; a host that cannot run it passes an `UnconfiguredAdapter` saying why. */
  llama: () => IntentAdapter;
}

export function createFactories(config: RuntimeConfig, makers: HostMakers): AdapterFactories & Record<ModelId, () => IntentAdapter> {
  // The order is the model selector's and a benchmark round's: on-device models first.
  return {
    custom: makers.custom,
    'llama-qlora': makers.llama,
    vllm: () =>
      config.vllm.url && config.vllm.model
        ? new LazyAdapter('vllm', async () => {
            const { VllmAdapter } = await import('../adapters/vllm');
            return new VllmAdapter({
              baseUrl: config.vllm.url!,
              model: config.vllm.model!,
              apiKey: config.vllm.apiKey,
              mode: config.vllm.mode,
            });
          })
        : new UnconfiguredAdapter(
            'vllm',
            'Set the vLLM server URL and model name (VITE_VLLM_URL and VITE_VLLM_MODEL, or --vllm-url and --vllm-model).',
          ),
    gemini: () =>
      config.gemini.apiKey || config.gemini.baseUrl
        ? new LazyAdapter('gemini', async () => {
            const { GeminiAdapter } = await import('../adapters/gemini');
            return new GeminiAdapter({ apiKey: config.gemini.apiKey, baseUrl: config.gemini.baseUrl, model: config.gemini.model });
          })
        : new UnconfiguredAdapter('gemini', "Gemini needs your bank's proxy URL (VITE_GEMINI_BASE_URL) or an API key entered at run time."),
  };
}

/** A model that lacks the settings it needs, or cannot run in this host: it says why, and never answers. */
export class UnconfiguredAdapter implements IntentAdapter {
  constructor(
    readonly id: string,
    private readonly reason: string,
  ) {}

  load(): Promise<void> {
    return Promise.reject(new ModelUnavailableError(this.reason, this.id));
  }

  classify(): Promise<Prediction> {
    return this.load() as Promise<never>;
  }

  health(): Promise<AdapterHealth> {
    return Promise.resolve({ state: 'unavailable', reason: this.reason });
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}
