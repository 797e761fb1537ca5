/**
 * After one visit the service worker has precached the app, the ORT runtime and the model, so the
 * site loads and classifies with the network off, and still asks nothing of any other origin.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  CARD_MESSAGE,
  classify,
  collectConsole,
  foreignRequests,
  launchChromium,
  newContext,
  recordRequests,
  serveSite,
  type Site,
} from './harness';

let site: Site;
let browser: Browser;

beforeAll(async () => {
  site = await serveSite();
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

const PRECACHED = [
  '/index.html',
  '/ort/ort-wasm-simd-threaded.asyncify.mjs',
  '/ort/ort-wasm-simd-threaded.asyncify.wasm',
  '/models/custom/config.json',
  '/models/custom/tokenizer.json',
  '/models/custom/model.onnx',
];

test('after one visit the site loads and classifies offline', async () => {
  const context = await newContext(browser);
  const requests = recordRequests(context);
  const page = await context.newPage();
  const logs = collectConsole(page);
  await page.goto(site.origin + '/');

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
  expect(foreignRequests(requests, site.origin)).toEqual([]);
  expect(answer.intent).toBe('card_arrival');
  await context.close();
});
