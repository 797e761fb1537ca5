/**
 * The site's service worker (built by vite-plugin-pwa's injectManifest, see vite.config.ts): what
 * the generated one did (precache the app shell and the ORT runtime, serve index.html for
 * navigations, keep transformers.js's runtime once used, take over at once), except for the model
 * files. Those are cached and served by `ModelFiles`, which checks them against their folder's
 * manifest.json every time, so that a broken copy is replaced rather than served forever.
 */
/// <reference lib="webworker" />
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute, type PrecacheEntry } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { NetworkFirst } from 'workbox-strategies';
import { ModelFiles } from './model-files';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | PrecacheEntry)[] };

const entries = self.__WB_MANIFEST.map((entry) => (typeof entry === 'string' ? { url: entry, revision: null } : entry));
const absolute = (url: string) => new URL(url, self.location.href).href;

const models = new ModelFiles({
  urls: entries.map((entry) => absolute(entry.url)),
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
// transformers.js's own ~27 MB runtime: not precached for every visitor, kept once the Llama has
// been used (the page adds it too, src/ui/main.ts). Network first: a new build's runtime replaces
// the cached one (the names stay the same across versions); offline, the cached copy answers.
// Servers answer with `Vary: Origin`, and the worker's module import sends an Origin that the
// page's request did not: without ignoreVary the cached copy would never match.
registerRoute(/\/ort-transformers\/[^/]+$/, new NetworkFirst({ cacheName: 'ort-transformers', matchOptions: { ignoreVary: true } }), 'GET');

self.addEventListener('install', (event) => event.waitUntil(models.install()));
self.addEventListener('activate', (event) => event.waitUntil(models.activate()));
