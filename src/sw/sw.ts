/**
 * The site's service worker (built by vite-plugin-pwa's injectManifest, see vite.config.ts): what
 * the generated one did (precache the app shell and the ORT runtime, serve index.html for
 * navigations, keep the onnxruntime-web runtime once used, take over at once), except for the model
 * files. Those are cached and served by `ModelFiles`, which checks them against their folder's
 * manifest.json every time, so that a broken copy is replaced rather than served forever.
 */
/// <reference lib="webworker" />
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute, type PrecacheEntry } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheFirst } from 'workbox-strategies';
import { ModelFiles } from './model-files';
import { isRuntimeCache, ORT_RUNTIME_CACHE } from './runtime-files';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | PrecacheEntry)[] };

const entries = self.__WB_MANIFEST.map((entry) => (typeof entry === 'string' ? { url: entry, revision: null } : entry));
const absolute = (url: string) => new URL(url, self.location.href).href;

// Every visitor gets the default model at install; another model's files once the page has used it.
const DEFAULT_MODEL_FOLDER = absolute('models/custom/');

const models = new ModelFiles({
  urls: entries.map((entry) => absolute(entry.url)),
  installFolders: [DEFAULT_MODEL_FOLDER],
  caches: self.caches,
  fetch: (input, init) => self.fetch(input, init),
  log: (message) => console.warn(`[service worker] ${message}`),
});
const modelUrls = new Set(models.cachedUrls);

self.skipWaiting();
clientsClaim();

// Before the precache's route: model files never come from Workbox's precache.
registerRoute(
  ({ request }) => models.handles(request),
  ({ request }) => models.respond(request),
);
precacheAndRoute(entries.filter((entry) => !modelUrls.has(absolute(entry.url))));
cleanupOutdatedCaches();
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));
// The onnxruntime-web runtime's WebAssembly (14 or 27 MB, by device): not precached for every
// visitor, kept once used (the page asks for the one it used too, as a first visit's worker is not
// yet controlled). Cache first, in a cache named after the revisions of the runtime's precached
// glue files: a new onnxruntime-web version (same file names) gets a new cache, so an old binary is
// never served with new glue, and a cached visit asks the network nothing. Servers answer with
// `Vary: Origin`, which a worker's request and the page's differ in: hence ignoreVary.
const RUNTIME_WASM = /\/ort\/[^/]+\.wasm$/;
const runtimeCache = `${ORT_RUNTIME_CACHE}-${versionKey(entries.filter((entry) => /(^|\/)ort\/[^/]+\.mjs$/.test(entry.url)))}`;
registerRoute(RUNTIME_WASM, new CacheFirst({ cacheName: runtimeCache, matchOptions: { ignoreVary: true } }), 'GET');

self.addEventListener('install', (event) => event.waitUntil(models.install()));
// From the page, once a model has loaded: `{ type: 'keep', runtime: [URL of the .wasm it used], folder? }`
// (folder: a model folder that is not cached at install).
self.addEventListener('message', (event) => {
  const data = event.data as { type?: unknown; runtime?: unknown; folder?: unknown } | null;
  if (data?.type !== 'keep') return;
  const runtime = Array.isArray(data.runtime) ? data.runtime.filter((url): url is string => typeof url === 'string') : [];
  const keep = async () => {
    const urls = runtime.map(absolute).filter((url) => new URL(url).origin === self.location.origin && RUNTIME_WASM.test(url));
    const cache = await caches.open(runtimeCache);
    for (const url of urls) if (!(await cache.match(url, { ignoreVary: true }))) await cache.add(url);
    if (typeof data.folder === 'string') await models.keep(data.folder);
  };
  event.waitUntil(keep().catch((error: unknown) => console.warn(`[service worker] ${String(error)}`)));
});
self.addEventListener('activate', (event) =>
  event.waitUntil(
    (async () => {
      await models.activate();
      // Runtimes of earlier versions.
      for (const name of await caches.keys()) if (isRuntimeCache(name) && name !== runtimeCache) await caches.delete(name);
    })(),
  ),
);

/** A short key for the precache revisions of `entries` (FNV-1a over their revisions). */
function versionKey(entries: readonly { revision?: string | null }[]): string {
  let hash = 0x811c9dc5;
  for (const char of entries.map((entry) => entry.revision ?? '').join()) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
