/**
 * The site classifies in the page on both backends: WebGPU (SwiftShader, with
 * `--enable-unsafe-webgpu`) and WASM (no WebGPU adapter), and nothing leaves the site's origin.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
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

describe('classification in the page', () => {
  test('with WebGPU available, the model runs on WebGPU and answers card_arrival', async () => {
    browser = await launchChromium({ webgpu: true });
    const context = await newContext(browser, { serviceWorkers: 'block' });
    const requests = recordRequests(context);
    const page = await context.newPage();
    const logs = collectConsole(page);
    await page.goto(site.origin + '/');

    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { architecture?: string } } | null> } }).gpu;
      const found = await gpu?.requestAdapter();
      return found ? { architecture: found.info?.architecture ?? '' } : null;
    });
    expect(adapter, 'navigator.gpu.requestAdapter() gives an adapter with --enable-unsafe-webgpu').not.toBeNull();

    const answer = await classify(page, CARD_MESSAGE);
    expect(answer.device, logs.join('\n')).toBe('webgpu');
    expect(answer.model).toBe('custom');
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(foreignRequests(requests, site.origin)).toEqual([]);
    expect(answer.intent).toBe('card_arrival');
  });

  test('without WebGPU, the model runs on WASM and answers card_arrival', async () => {
    browser = await launchChromium({ webgpu: false });
    const context = await newContext(browser, { serviceWorkers: 'block' });
    const requests = recordRequests(context);
    const page = await context.newPage();
    const logs = collectConsole(page);
    await page.goto(site.origin + '/');
    expect(
      await page.evaluate(
        async () => (await (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu?.requestAdapter()) ?? null,
      ),
    ).toBeNull();

    const answer = await classify(page, CARD_MESSAGE);
    expect(answer.device, logs.join('\n')).toBe('wasm');
    expect(answer.model).toBe('custom');
    // The runtime came from our own /ort/ (the plain WebAssembly build: the WebGPU one is never
    // fetched without WebGPU), the model from /models/custom/, both inside the worker.
    expect(requests.some((url) => url.endsWith('/ort/ort-wasm-simd-threaded.wasm'))).toBe(true);
    expect(requests.some((url) => url.includes('asyncify'))).toBe(false);
    expect(requests.some((url) => url.endsWith('/models/custom/onnx/model.onnx'))).toBe(true);
    expect(foreignRequests(requests, site.origin)).toEqual([]);
    expect(answer.intent).toBe('card_arrival');
  });

  test('?device=wasm keeps the model off WebGPU even where it exists', async () => {
    browser = await launchChromium({ webgpu: true });
    const context = await newContext(browser, { serviceWorkers: 'block' });
    const requests = recordRequests(context);
    const page = await context.newPage();
    await page.goto(site.origin + '/?device=wasm');
    const answer = await classify(page, CARD_MESSAGE);
    expect(answer.device).toBe('wasm');
    await expect.poll(() => page.locator('#model-status').textContent()).toContain('WebAssembly');
    expect(foreignRequests(requests, site.origin)).toEqual([]);
  });
});
