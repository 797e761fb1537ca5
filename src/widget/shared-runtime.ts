/**
 * One model per page, however many widgets: widgets with the same model folder and ORT folder
 * share one `CustomAdapter` (so one worker and one download of model.onnx); widgets with the same
 * settings share one runtime. The registry lives in this module, not on `window`.
 *
 * The widget runs the custom model only: `model="llama-qlora"` is accepted as a setting but the
 * model is unavailable, with a reason, so that a `fallback` (e.g. `custom`) answers instead. Its
 * transformers.js worker, runtime and model would more than double the widget's download.
 */
import type { IntentAdapter } from '../core/adapter';
import type { ConfigOverrides } from '../core/config';
import { browserHosts } from '../runtime/browser-hosts';
import { createIntentRuntime, type IntentRuntime } from '../runtime/intent-runtime';
import { startWorker, WORKER_URL } from '../runtime/worker-url';

export { startWorker, WORKER_URL };

export interface RuntimeSettings {
  modelBaseUrl: string;
  ortBaseUrl: string;
  overrides: ConfigOverrides;
}

export const LLAMA_NOT_IN_WIDGET =
  'The llama-qlora model is not available in the widget: use it on the full site, or choose the custom model (model="custom", or fallback="custom").';

const adapters = new Map<string, IntentAdapter>();
const runtimes = new Map<string, IntentRuntime>();

/** The runtime for these settings, made on first use; the custom model is shared by folder. */
export function sharedRuntime(settings: RuntimeSettings): IntentRuntime {
  const key = JSON.stringify(settings);
  let runtime = runtimes.get(key);
  if (!runtime) {
    const hosts = browserHosts({
      modelBaseUrl: settings.modelBaseUrl,
      ortBaseUrl: settings.ortBaseUrl,
      createWorker: () => startWorker(WORKER_URL),
      llama: { unavailable: LLAMA_NOT_IN_WIDGET },
    });
    const folder = `${settings.modelBaseUrl}\n${settings.ortBaseUrl}`;
    const custom = () => {
      let adapter = adapters.get(folder);
      if (!adapter) adapters.set(folder, (adapter = hosts.custom()));
      return adapter;
    };
    runtime = createIntentRuntime(settings.overrides, { ...hosts, custom });
    runtimes.set(key, runtime);
  }
  return runtime;
}
