/**
 * The one factory table: which adapter each model id makes, from the runtime config. The custom
 * model differs by host (a Web Worker in the browser, onnxruntime-node in the CLI), so the host
 * passes its own maker; the remote adapters are the same everywhere.
 */
import type { AdapterHealth, IntentAdapter } from '../core/adapter';
import type { ModelId, RuntimeConfig } from '../core/config';
import { ModelUnavailableError } from '../core/errors';
import type { Prediction } from '../core/prediction';
import { LazyAdapter } from './lazy-adapter';
import type { AdapterFactories } from './pipeline';

export function createFactories(
  config: RuntimeConfig,
  makeCustom: () => IntentAdapter,
): AdapterFactories & Record<ModelId, () => IntentAdapter> {
  return {
    custom: makeCustom,
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

/** A model that lacks the settings it needs: it says which, and never answers. */
class UnconfiguredAdapter implements IntentAdapter {
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
