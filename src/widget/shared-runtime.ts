/**
 * One model per page, however many widgets: widgets with the same model folder and ORT folder
 * share one `CustomAdapter` (so one worker and one download of model.onnx); widgets with the same
 * settings also share one `IntentPipeline`. The registry lives in this module, not on `window`.
 *
 * Cross-origin embedding: a page cannot start a worker from another origin's URL, but it can
 * start a same-origin `blob:` module worker whose only line imports that URL (the import is a
 * CORS request). The model and ORT URLs sent to the worker are absolute, so they work from there.
 *
 * The widget runs the custom model only: `model="llama-qlora"` is accepted as a setting but the
 * model is unavailable, with a reason, so that a `fallback` (e.g. `custom`) answers instead. Its
 * transformers.js worker, runtime and model would more than double the widget's download.
 */
import workerAsset from '../../workers/custom.worker.ts?worker&url';
import { CustomAdapter } from '../adapters/custom';
import { resolveConfig, type ConfigOverrides } from '../core/config';
import { IntentPipeline } from '../pipeline/pipeline';
import { createFactories, UnconfiguredAdapter } from '../pipeline/registry';

/** The built worker module, next to this script (Vite emits it as an asset of the library). */
export const WORKER_URL = new URL(workerAsset, import.meta.url).href;

export interface RuntimeSettings {
  modelBaseUrl: string;
  ortBaseUrl: string;
  overrides: ConfigOverrides;
}

export const LLAMA_NOT_IN_WIDGET =
  'The llama-qlora model is not available in the widget: use it on the full site, or choose the custom model (model="custom", or fallback="custom").';

const adapters = new Map<string, CustomAdapter>();
const pipelines = new Map<string, IntentPipeline>();

/** The pipeline for these settings, made on first use; the custom model is shared by folder. */
export function sharedPipeline(settings: RuntimeSettings): IntentPipeline {
  const key = JSON.stringify(settings);
  const known = pipelines.get(key);
  if (known) return known;
  const config = resolveConfig({ overrides: settings.overrides });
  const pipeline = new IntentPipeline({
    factories: createFactories(config, {
      custom: () => sharedCustom(settings.modelBaseUrl, settings.ortBaseUrl),
      llama: () => new UnconfiguredAdapter('llama-qlora', LLAMA_NOT_IN_WIDGET),
    }),
    active: config.model,
    fallback: config.fallback,
    escalateBelow: config.escalateBelow,
    oosThreshold: config.outOfScope.threshold,
    escalateOutOfScope: config.outOfScope.escalate,
  });
  pipelines.set(key, pipeline);
  return pipeline;
}

function sharedCustom(modelBaseUrl: string, ortBaseUrl: string): CustomAdapter {
  const key = `${modelBaseUrl}\n${ortBaseUrl}`;
  let adapter = adapters.get(key);
  if (!adapter) {
    adapter = new CustomAdapter({ modelBaseUrl, ortBaseUrl, createWorker: () => startWorker(WORKER_URL) });
    adapters.set(key, adapter);
  }
  return adapter;
}

/** A module worker for `url`: direct when same-origin, else through a blob trampoline. */
export function startWorker(url: string): Worker {
  const options: WorkerOptions = { type: 'module', name: 'banking-intent-model' };
  if (new URL(url).origin === location.origin) return new Worker(url, options);
  const trampoline = URL.createObjectURL(new Blob([`import ${JSON.stringify(url)};`], { type: 'text/javascript' }));
  try {
    return new Worker(trampoline, options);
  } finally {
    // The constructor has already resolved the blob URL; the worker keeps its own reference.
    URL.revokeObjectURL(trampoline);
  }
}
