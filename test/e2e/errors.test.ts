/**
 * What the user sees when something is wrong: an empty message, a message or model output that
 * looks like markup, a missing or corrupt model file, a model folder on another site.
 * Service workers are blocked in these contexts so that `route` sees every request.
 */
import { createHash } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { expect, test } from 'vitest';
import { validateMessage } from '../../src/core/input';
import { classify, foreignRequests, recordRequests, sharedSite } from './harness';

// WebGPU on, so that a corrupt model also goes through the WebGPU-then-WASM fallback.
const shared = sharedSite({ webgpu: true });

async function open(path = '/', setup?: (context: BrowserContext) => Promise<unknown>): Promise<Page> {
  const context = await shared.newContext({ serviceWorkers: 'block' });
  await setup?.(context);
  const page = await context.newPage();
  await page.goto(shared.site.origin + path);
  return page;
}

/**
 * The folder's manifest.json rewritten to match files this test serves in place of the real ones,
 * so that the check below the manifest is the one that answers (model-integrity.test.ts covers files
 * that do not match their manifest).
 */
async function manifestMatching(context: BrowserContext, files: Record<string, () => Buffer | undefined>): Promise<void> {
  await context.route('**/models/custom/manifest.json', async (route) => {
    const response = await route.fetch();
    const manifest = (await response.json()) as { files: Record<string, { sha256: string; bytes: number }> };
    for (const [file, body] of Object.entries(files)) {
      const bytes = body();
      if (bytes) manifest.files[file] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength };
    }
    // Not `{ response }`: its headers say Content-Encoding (the server sends .br copies), the new body is plain.
    await route.fulfill({ status: response.status(), json: manifest });
  });
}

function emptyMessageError(): string {
  try {
    validateMessage('   ');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('validateMessage accepted an empty message');
}

async function expectNoResult(page: Page): Promise<void> {
  expect(await page.locator('#result').getAttribute('data-intent')).toBeNull();
  expect(await page.locator('#result').isVisible()).toBe(false);
}

test('an empty or blank message shows the empty-message error and no result', async () => {
  const page = await open('/?device=wasm');
  const error = page.getByRole('alert');

  await page.getByRole('button', { name: 'Classify', exact: true }).click();
  await expect.poll(() => error.textContent()).toBe(emptyMessageError());
  expect(await error.isVisible()).toBe(true);
  await expectNoResult(page);

  // Enter (without Shift) submits too; whitespace alone is still empty.
  const message = page.getByRole('textbox', { name: 'Message', exact: true });
  await page.evaluate(() => document.getElementById('error')?.setAttribute('hidden', ''));
  await message.fill(' \n\t \u200b ');
  await message.press('Enter');
  await expect.poll(() => error.isVisible()).toBe(true);
  expect(await error.textContent()).toBe(emptyMessageError());
  await expectNoResult(page);
});

test('markup in the message or in model labels is shown as text, never parsed', async () => {
  const markup = '<img src=x onerror="window.__xss=1">';
  // Labels are model output: give every label markup too.
  const page = await open('/?device=wasm', async (context) => {
    let served: Buffer | undefined;
    await context.route('**/models/custom/config.json', async (route) => {
      const response = await route.fetch();
      const config = (await response.json()) as { labels: string[]; id2label: Record<string, string>; label2id: Record<string, number> };
      config.labels = config.labels.map((label, i) => `<img src=x id=label${i} onerror="window.__xss=1">${label}`);
      // config.json names the labels for transformers.js too, and the engine refuses the two when they disagree.
      config.id2label = Object.fromEntries(config.labels.map((label, i) => [String(i), label]));
      config.label2id = Object.fromEntries(config.labels.map((label, i) => [label, i]));
      served = Buffer.from(JSON.stringify(config));
      await route.fulfill({ status: response.status(), contentType: 'application/json', body: served });
    });
    await manifestMatching(context, { 'config.json': () => served });
  });
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });

  const answer = await classify(page, `${markup} <script>window.__xss=2</script> where is my card`);
  expect(answer.intent).toMatch(/^<img src=x id=label\d+ onerror=/);
  expect(await page.locator('img').count()).toBe(0);
  expect(await page.locator('#result script, #result img').count()).toBe(0);
  expect(await page.locator('#result').textContent()).toContain('<img src=x id=label');
  expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
  expect(dialogs).toEqual([]);
});

test('a missing model.onnx is reported by name', async () => {
  const page = await open('/', (context) =>
    context.route('**/models/custom/onnx/model.onnx', (route) => route.fulfill({ status: 404, body: 'not found' })),
  );
  const error = page.getByRole('alert');
  await error.waitFor({ state: 'visible' });
  expect(await error.textContent()).toContain('model.onnx');
  expect(await error.textContent()).toContain('404');
  await expectNoResult(page);
});

test('a corrupt model.onnx is reported by name, on WebGPU and then WASM', async () => {
  const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251));
  const page = await open('/', async (context) => {
    await context.route('**/models/custom/onnx/model.onnx', (route) =>
      route.fulfill({ status: 200, contentType: 'application/octet-stream', body: garbage }),
    );
    await manifestMatching(context, { 'onnx/model.onnx': () => garbage });
  });
  const error = page.getByRole('alert');
  await error.waitFor({ state: 'visible' });
  const text = (await error.textContent()) ?? '';
  expect(text).toContain('model.onnx');
  expect(text).toContain('(wasm)');

  // Classifying afterwards explains the same problem instead of hanging.
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill('where is my card');
  await page.getByRole('button', { name: 'Classify', exact: true }).click();
  await expect.poll(() => error.textContent()).toContain('model.onnx');
  await expectNoResult(page);
});

test('?models= pointing at an empty folder names the first missing file', async () => {
  const page = await open('/?models=/no-such-models/');
  const error = page.getByRole('alert');
  await error.waitFor({ state: 'visible' });
  expect(await error.textContent()).toContain('config.json');
});

test('?models= on another site is refused before any request', async () => {
  const context = await shared.newContext({ serviceWorkers: 'block' });
  const requests = recordRequests(context);
  const page = await context.newPage();
  await page.goto(shared.site.origin + '/?models=' + encodeURIComponent('https://models.example.com/custom/'));
  const error = page.getByRole('alert');
  await error.waitFor({ state: 'visible' });
  expect(await error.textContent()).toContain('must point into this site');
  expect(await page.getByRole('button', { name: 'Classify', exact: true }).isDisabled()).toBe(true);
  expect(foreignRequests(requests, shared.site.origin)).toEqual([]);
});
