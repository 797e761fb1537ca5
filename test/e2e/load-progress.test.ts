/**
 * Honest load progress on the built site (issue 15): on a first visit the bar counts every byte
 * the first answer waits for (the onnxruntime-web `.wasm` as well as the model's files), says the
 * whole download before it starts, and reaches its end only with the last byte; on a visit served
 * by the service worker's cache it claims no download.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { expect, test } from 'vitest';
import { DIST } from '../../scripts/lib/browser';
import { CARD_MESSAGE, classify, collectConsole, newContext, sharedSite } from './harness';

const shared = sharedSite({ webgpu: false });

const RUNTIME_WASM = '/ort/ort-wasm-simd-threaded.wasm';

/** The files the model's first answer waits for: config.json names them, manifest.json sizes them. */
function modelFiles(): string[] {
  const config = JSON.parse(readFileSync(resolve(DIST, 'models/custom/config.json'), 'utf8')) as { files: Record<string, string> };
  return ['config.json', 'manifest.json', ...Object.values(config.files)].map((file) => `/models/custom/${file}`);
}

interface Sample {
  /** The bar's `value` attribute; null while it is indeterminate. */
  value: number | null;
  max: number;
  text: string;
}

/** Records every state of the loading bar and its label, from the first paint on. */
async function recordBar(page: Page): Promise<() => Promise<Sample[]>> {
  await page.addInitScript(() => {
    const samples: { value: number | null; max: number; text: string }[] = [];
    (window as unknown as { __bar: typeof samples }).__bar = samples;
    document.addEventListener('DOMContentLoaded', () => {
      const bar = document.getElementById('load-progress') as HTMLProgressElement | null;
      const stage = document.getElementById('load-stage');
      const loading = document.getElementById('loading');
      if (!bar || !stage || !loading) return;
      const record = () => {
        if (loading.hidden) return;
        const value = bar.getAttribute('value');
        samples.push({ value: value === null ? null : Number(value), max: bar.max, text: stage.textContent ?? '' });
      };
      const observer = new MutationObserver(record);
      observer.observe(bar, { attributes: true });
      observer.observe(stage, { childList: true, characterData: true, subtree: true });
      observer.observe(loading, { attributes: true });
    });
  });
  return () => page.evaluate(() => (window as unknown as { __bar: Sample[] }).__bar);
}

test('first visit: the bar counts the runtime and the model, says the total first, and ends with the last byte', async () => {
  const context = await newContext(shared.browser, { serviceWorkers: 'block' });
  const requested: string[] = [];
  context.on('request', (request) => requested.push(new URL(request.url()).pathname));
  const page = await context.newPage();
  const logs = collectConsole(page);
  // Slow enough for the bar to be seen filling (about 1.5 s for the 17.8 MB), as on a fast line.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 5,
    downloadThroughput: 12_500_000,
    uploadThroughput: 12_500_000,
  });
  const bar = await recordBar(page);
  await page.goto(shared.site.origin + '/');
  const answer = await classify(page, CARD_MESSAGE, 120_000);
  expect(answer.device, logs.join('\n')).toBe('wasm');

  const samples = await bar();
  const determinate = samples.filter((s): s is Sample & { value: number } => s.value !== null && s.max > 1);
  expect(determinate.length, JSON.stringify(samples.slice(0, 20))).toBeGreaterThan(0);

  // The runtime's .wasm came from our /ort/ (the worker host fetches it and hands it to
  // onnxruntime-web; that ORT fetches nothing more is checked in test/unit/load-progress.test.ts).
  expect(requested).toContain(RUNTIME_WASM);
  const runtimeBytes = statSync(resolve(DIST, 'ort/ort-wasm-simd-threaded.wasm')).size;
  const modelBytes = statSync(resolve(DIST, 'models/custom/onnx/model.onnx')).size;

  // The total, from the first report on: at least the runtime and the model, and it does not change.
  const total = determinate[0]!.max;
  expect(total).toBeGreaterThanOrEqual(runtimeBytes + modelBytes);
  for (const sample of determinate) expect(sample.max).toBe(total);
  // Said before the download: "one-time download, about 17.8 MB".
  expect(determinate[0]!.text).toContain(`one-time download, about ${(total / 1_000_000).toFixed(1)} MB`);
  expect(samples.find((s) => /download/i.test(s.text))?.text).toMatch(/one-time download, about \d+\.\d MB/);

  // Exactly the bytes the answer waited for: the runtime's .wasm and the model's files, decoded
  // sizes as they are on disk (the same files the browser fetched).
  const files = [RUNTIME_WASM, ...modelFiles()];
  for (const file of files) expect(requested, file).toContain(file);
  expect(total).toBe(files.reduce((sum, file) => sum + statSync(resolve(DIST, file.slice(1))).size, 0));

  // It fills while the bytes arrive, never goes back, and is full only at the end: every sample
  // before the last determinate one is short of the total.
  expect(determinate.filter((s) => s.value > 0 && s.value < total).length).toBeGreaterThan(0);
  for (let i = 1; i < determinate.length; i++) expect(determinate[i]!.value).toBeGreaterThanOrEqual(determinate[i - 1]!.value);
  const full = determinate.findIndex((s) => s.value >= total);
  if (full !== -1) expect(determinate.slice(full).every((s) => s.value === total)).toBe(true);
  // After the last byte: preparing the model, an indeterminate step.
  const last = samples.at(-1)!;
  expect(samples.some((s) => s.value === null && /Preparing|Warming/.test(s.text))).toBe(true);
  expect(last.value === null || last.value === total).toBe(true);
  await context.close();
});

test('a visit served by the service worker cache says so and claims no download', async () => {
  const context = await newContext(shared.browser);
  const page = await context.newPage();
  const logs = collectConsole(page);
  await page.goto(shared.site.origin + '/');
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await classify(page, CARD_MESSAGE, 120_000);
  // The runtime kept for the next visit (src/ui/main.ts), the model precached.
  const runtimeKept = () =>
    page.evaluate(async () => {
      let files = 0;
      for (const name of await caches.keys()) if (name.startsWith('ort-runtime')) files += (await (await caches.open(name)).keys()).length;
      return files;
    });
  await expect.poll(runtimeKept).toBeGreaterThanOrEqual(1);

  const bar = await recordBar(page);
  await page.reload();
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  const answer = await classify(page, CARD_MESSAGE, 120_000);
  expect(answer.device, logs.join('\n')).toBe('wasm');
  const texts = (await bar()).map((s) => s.text);
  expect(
    texts.some((text) => text.startsWith('Loading the model from this device (no download)')),
    texts.join('\n'),
  ).toBe(true);
  expect(texts.filter((text) => /download/i.test(text) && !/no download/.test(text))).toEqual([]);
  await context.close();
});
