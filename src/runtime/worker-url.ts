/**
 * The custom model's worker as a built asset, and how to start it from any page.
 *
 * Cross-origin embedding: a page cannot start a worker from another origin's URL, but it can
 * start a same-origin `blob:` module worker whose only line imports that URL (the import is a
 * CORS request). The model and ORT URLs sent to the worker are absolute, so they work from there.
 */
import workerAsset from '../../workers/custom.worker.ts?worker&url';

/** The built worker module, next to this script (Vite emits it as an asset of the library). */
export const WORKER_URL = new URL(workerAsset, import.meta.url).href;

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
