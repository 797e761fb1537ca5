/**
 * llama-qlora in the built site: with WebGPU (SwiftShader, `--enable-unsafe-webgpu`) it loads in
 * its own worker on transformers.js, from this origin only, and answers on `webgpu`; without
 * WebGPU it is unavailable and says why, and a fallback answers instead. The bundled model is
 * retrained from time to time, so its answers are not asserted: only that each is a Banking77 label or out_of_scope.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { BANKING77_LABELS, OUT_OF_SCOPE } from '../../src/core/labels';
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

const MESSAGE = "I still haven't got my new card";
const LLAMA_TIMEOUT_MS = 120_000;

let site: Site;
let browser: Browser | undefined;

beforeAll(async () => {
  site = await serveSite();
});

afterEach(async () => {
  await browser?.close();
  browser = undefined;
});

afterAll(async () => {
  await site?.close();
});

function modelSelect(page: Page) {
  return page.getByRole('combobox', { name: 'Model', exact: true });
}

function optionText(page: Page, id: string): Promise<string | null> {
  return modelSelect(page).locator(`option[value="${id}"]`).textContent();
}

test('with WebGPU, ?model=llama-qlora answers on webgpu with a Banking77 label, fetching nothing from another origin', async () => {
  browser = await launchChromium({ webgpu: true });
  const context = await newContext(browser, { serviceWorkers: 'block' });
  const requests = recordRequests(context);
  const page = await context.newPage();
  const logs = collectConsole(page);
  await page.goto(site.origin + '/?model=llama-qlora');
  expect(await modelSelect(page).inputValue()).toBe('llama-qlora');
  // It loads at once, in its own worker, and the selector says so (with the download's progress).
  await expect.poll(() => page.locator('#model-state').textContent()).toMatch(/^Loading: /);

  // Loading, the warm-up and the first query compile WebGPU shaders on SwiftShader's CPU: slow.
  const answer = await classify(page, MESSAGE, LLAMA_TIMEOUT_MS);
  expect(answer.model, logs.join('\n')).toBe('llama-qlora');
  expect(answer.device).toBe('webgpu');
  expect([...BANKING77_LABELS, OUT_OF_SCOPE]).toContain(answer.intent);
  expect(await page.locator('#error').isHidden()).toBe(true);
  const meta = (await page.locator('#result .meta').textContent()) ?? '';
  expect(meta).toContain('llama-qlora');
  expect(meta).toContain('WebGPU');
  await expect.poll(() => optionText(page, 'llama-qlora')).toBe('llama-qlora (ready, WebGPU)');
  expect(await page.locator('#model-state').textContent()).toBe('Ready on WebGPU. Messages stay in this page.');

  // The one ORT runtime's WebGPU build from /ort/, the q4 weights (not the fp32 reference).
  expect(requests.some((url) => url.endsWith('/ort/ort-wasm-simd-threaded.asyncify.wasm'))).toBe(true);
  expect(requests.some((url) => url.endsWith('/models/llama-qlora/onnx/model_q4.onnx'))).toBe(true);
  expect(requests.some((url) => url.endsWith('/models/llama-qlora/onnx/model.onnx'))).toBe(false);
  // The custom model was never asked for.
  expect(requests.some((url) => url.includes('/models/custom/'))).toBe(false);
  expect(foreignRequests(requests, site.origin)).toEqual([]);
});

test('without WebGPU, llama-qlora is unavailable with the reason, the fallback answers, and switching needs no reload', async () => {
  browser = await launchChromium({ webgpu: false });
  const context = await newContext(browser, { serviceWorkers: 'block' });
  const requests = recordRequests(context);
  const page = await context.newPage();
  const logs = collectConsole(page);
  await page.goto(site.origin + '/?model=llama-qlora&fallback=custom');
  await page.evaluate(() => {
    (window as { __marker?: number }).__marker = 1;
  });

  expect(await modelSelect(page).inputValue()).toBe('llama-qlora');
  const state = page.locator('#model-state');
  await expect.poll(() => state.textContent(), { timeout: 60_000 }).toMatch(/^Unavailable: The llama-qlora model needs WebGPU/);
  expect(await optionText(page, 'llama-qlora')).toBe('llama-qlora (unavailable)');

  // The answer comes from the fallback, and says that llama-qlora failed (its `fallback_from`).
  const fallback = await classify(page, MESSAGE);
  expect(fallback.model, logs.join('\n')).toBe('custom');
  expect(fallback.device).toBe('wasm');
  expect([...BANKING77_LABELS, OUT_OF_SCOPE]).toContain(fallback.intent);
  expect(await page.locator('#result').textContent()).toContain('Answered by custom after llama-qlora failed.');

  // Switching in the selector takes effect on the next message, without a reload.
  await modelSelect(page).selectOption('custom');
  expect(new URL(page.url()).searchParams.get('model')).toBe('custom');
  expect(await classify(page, CARD_MESSAGE)).toEqual({ intent: 'card_arrival', device: 'wasm', model: 'custom' });
  expect(await page.locator('#result').textContent()).not.toContain('Answered by');
  await modelSelect(page).selectOption('llama-qlora');
  await expect.poll(() => state.textContent()).toMatch(/needs WebGPU/);

  expect(await page.evaluate(() => (window as { __marker?: number }).__marker)).toBe(1);
  expect(foreignRequests(requests, site.origin)).toEqual([]);
});

test('without WebGPU, ?llama_wasm=1 lets llama-qlora run on WebAssembly, and the page says why', async () => {
  browser = await launchChromium({ webgpu: false });
  const context = await newContext(browser, { serviceWorkers: 'block' });
  const requests = recordRequests(context);
  const page = await context.newPage();
  const logs = collectConsole(page);
  await page.goto(site.origin + '/?model=llama-qlora&llama_wasm=1');

  const answer = await classify(page, MESSAGE, LLAMA_TIMEOUT_MS);
  expect(answer.model, logs.join('\n')).toBe('llama-qlora');
  expect(answer.device).toBe('wasm');
  expect([...BANKING77_LABELS, OUT_OF_SCOPE]).toContain(answer.intent);
  await expect.poll(() => page.locator('#model-status').textContent()).toBe('Model ready: llama-qlora on WebAssembly (CPU).');
  expect(await page.locator('#model-status').getAttribute('title')).toBe('This browser offers no WebGPU adapter.');
  expect(foreignRequests(requests, site.origin)).toEqual([]);
});
