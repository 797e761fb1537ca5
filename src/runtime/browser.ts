/**
 * The package's browser entry: `import { createIntentRuntime } from 'banking-intent-runtime'`.
 *
 *   const runtime = createIntentRuntime({ modelBaseUrl: '/models/custom/', ortBaseUrl: '/ort/' });
 *   await runtime.load(undefined, { onProgress: ({ file, progress }) => bar.update(file, progress) });
 *   const { intent } = await runtime.classify('I still have not received my new card');
 *
 * The model and the onnxruntime-web files are looked up next to this module by default (the
 * package ships them there); a bank hosting them elsewhere passes their URLs.
 */
import { startWorker, WORKER_URL } from './worker-url';
import { browserHosts, type BrowserHostOptions } from './browser-hosts';
import { createIntentRuntime as createRuntime, type IntentRuntime, type RuntimeHosts, type RuntimeOptions } from './intent-runtime';

export interface BrowserRuntimeOptions extends RuntimeOptions {
  /** URL of the custom model's folder (relative ones resolve against the page). Default: `./models/custom/` next to this module. */
  modelBaseUrl?: string;
  /** URL of the onnxruntime-web runtime files. Default: `./ort/` next to this module. */
  ortBaseUrl?: string;
  /** `wasm` keeps the model off WebGPU; default `auto`. */
  device?: BrowserHostOptions['device'];
  /** The Llama's files, to offer llama-qlora (see `BrowserHostOptions.llama`). */
  llamaFiles?: BrowserHostOptions['llama'];
}

/** A runtime whose on-device models run in Web Workers. Pass `hosts` to make the on-device adapters yourself. */
export function createIntentRuntime(options: BrowserRuntimeOptions = {}, hosts?: RuntimeHosts): IntentRuntime {
  const { modelBaseUrl, ortBaseUrl, device, llamaFiles, ...rest } = options;
  const absolute = (url: string | undefined, fallback: string) => new URL(url ?? fallback, url ? document.baseURI : import.meta.url).href;
  return createRuntime(
    rest,
    hosts ??
      browserHosts({
        modelBaseUrl: absolute(modelBaseUrl, './models/custom/'),
        ortBaseUrl: absolute(ortBaseUrl, './ort/'),
        device,
        llama: llamaFiles,
        createWorker: () => startWorker(WORKER_URL),
      }),
  );
}

export * from './public-api';
