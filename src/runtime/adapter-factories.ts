/**
 * The one factory table: which adapter each model id makes, from the runtime config. The
 * on-device models differ by host (a Web Worker in the browser; onnxruntime-node or
 * transformers.js on the CPU in the CLI), so the host passes its own makers; the remote adapters
 * are the same everywhere.
 */
import type { IntentAdapter } from '../core/adapter';
import type { ModelId, RuntimeConfig } from '../core/config';
import { LazyAdapter } from '../adapters/lazy-adapter';
import { UnconfiguredAdapter } from '../adapters/unconfigured-adapter';
import type { AdapterFactories } from '../pipeline/pipeline';

/** What a host makes itself: the models that run on the device. */
export interface HostMakers {
  custom: () => IntentAdapter;
  /** `llama-qlora` with its settings; a host that cannot run it passes an `UnconfiguredAdapter` saying why. */
  llama: (settings: RuntimeConfig['llama']) => IntentAdapter;
}

export function createFactories(config: RuntimeConfig, makers: HostMakers): AdapterFactories & Record<ModelId, () => IntentAdapter> {
  // The order is the model selector's and a benchmark round's: on-device models first.
  return {
    custom: makers.custom,
    'llama-qlora': () => makers.llama(config.llama),
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
