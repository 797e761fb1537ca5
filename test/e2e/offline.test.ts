/**
 * After one visit the service worker has precached the app and the model, and kept the one ORT
 * runtime pair the device used (the plain WebAssembly one here: no WebGPU), so the site loads and
 * classifies with the network off, and still asks nothing of any other origin. llama-qlora too,
 * once it has been used: the WebGPU build's runtime (~27 MB), which it loads, is not precached for
 * every visitor but kept after its first load.
 */
import type { Page } from 'playwright-core';
import { expect, test } from 'vitest';
import { BANKING77_LABELS } from '../../src/core/labels';
import { CARD_MESSAGE, classify, collectConsole, foreignRequests, newContext, recordRequests, sharedSite } from './harness';

const shared = sharedSite({ webgpu: false });

/** The runtime files in the service worker's runtime cache (`ort-runtime-<version>`), sorted. */
function runtimeCached(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const paths: string[] = [];
    for (const name of await caches.keys()) {
      if (!name.startsWith('ort-runtime')) continue;
      for (const request of await (await caches.open(name)).keys()) paths.push(new URL(request.url).pathname);
    }
    return paths.sort();
  });
}

const PRECACHED = [
  '/index.html',
  '/models/custom/config.json',
  '/models/custom/tokenizer.json',
  '/models/custom/spelling.json',
  '/models/custom/onnx/model.onnx',
];

/** llama-qlora's q4 folder: kept once the Llama has been used, not downloaded by every visitor. */
const LLAMA_FILES = [
  '/models/llama-qlora/config.json',
  '/models/llama-qlora/tokenizer.json',
  '/models/llama-qlora/tokenizer_config.json',
  '/models/llama-qlora/classifier.json',
  '/models/llama-qlora/onnx/model_q4.onnx',
];

test('after one visit the site loads and classifies offline', async () => {
  const context = await newContext(shared.browser);
  const requests = recordRequests(context);
  const page = await context.newPage();
  const logs = collectConsole(page);
  await page.goto(shared.site.origin + '/');

  // `ready` resolves once a service worker is active, i.e. after its install step, which is
  // where Workbox precaches every file; the cache listing below checks that it did.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  const cached = await page.evaluate(async () => {
    const paths: string[] = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) paths.push(new URL(request.url).pathname);
    }
    return paths;
  });
  expect(cached).toEqual(expect.arrayContaining(PRECACHED));
  expect(
    cached.some((path) => /^\/assets\/custom\.worker-.*\.js$/.test(path)),
    'the worker script is precached',
  ).toBe(true);
  expect(cached).not.toContain('/models/llama-qlora/onnx/model.onnx');
  expect(cached.filter((path) => path.startsWith('/models/llama-qlora/'))).toEqual([]);
  // The runtime this device used is kept (once the model has loaded); the WebGPU one is not. Both
  // builds' small glue files are precached.
  expect(cached).toEqual(expect.arrayContaining(['/ort/ort-wasm-simd-threaded.mjs', '/ort/ort-wasm-simd-threaded.asyncify.mjs']));
  await classify(page, CARD_MESSAGE);
  await expect.poll(() => runtimeCached(page)).toEqual(['/ort/ort-wasm-simd-threaded.wasm']);

  await context.setOffline(true);
  await page.reload();
  // Really offline: anything that is not precached fails.
  const uncached = await page.evaluate(() =>
    fetch('/not-precached.txt').then(
      () => 'fetched',
      () => 'failed',
    ),
  );
  expect(uncached).toBe('failed');
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

  const answer = await classify(page, CARD_MESSAGE);
  expect(answer.device, logs.join('\n')).toBe('wasm');
  await expect.poll(() => page.locator('#offline-status').textContent()).toContain('Available offline');
  expect(foreignRequests(requests, shared.site.origin)).toEqual([]);
  expect(answer.intent).toBe('card_arrival');
  await context.close();
});

test('llama-qlora, once used, also answers offline: its q4 files and its runtime kept after its first load', async () => {
  const context = await newContext(shared.browser);
  const requests = recordRequests(context);
  const page = await context.newPage();
  const logs = collectConsole(page);
  // No WebGPU here: the Llama runs on WASM when allowed, which is quicker to test.
  await page.goto(shared.site.origin + '/?model=llama-qlora&llama_wasm=1');
  expect(await classify(page, CARD_MESSAGE, 120_000), logs.join('\n')).toMatchObject({ model: 'llama-qlora', device: 'wasm' });
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await expect.poll(() => runtimeCached(page)).toEqual(['/ort/ort-wasm-simd-threaded.asyncify.wasm']);
  const models = () =>
    page.evaluate(async () => (await (await caches.open('model-files')).keys()).map((request) => new URL(request.url).pathname));
  await expect.poll(models, { timeout: 30_000 }).toEqual(expect.arrayContaining(LLAMA_FILES));

  await context.setOffline(true);
  await page.reload();
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  const answer = await classify(page, CARD_MESSAGE, 120_000);
  expect(answer, logs.join('\n')).toMatchObject({ model: 'llama-qlora', device: 'wasm' });
  expect(BANKING77_LABELS).toContain(answer.intent);
  expect(foreignRequests(requests, shared.site.origin)).toEqual([]);
  await context.close();
});
