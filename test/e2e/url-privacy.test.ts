/**
 * A link cannot send a customer's text off the device. Two builds of the site with the bank's vLLM
 * server (a logging stand-in) configured in their env, each into a temporary folder (not dist/):
 * one that only configures it, one that also allows it (`VITE_REMOTE=vllm`). On the first,
 * `?escalate=1&fallback=vllm` sends nothing, says so, and only the user's own choice (the "Remote
 * models" panel, the Model list) lets messages go, after the page says where. On the second, the
 * page says where messages go before the first is sent. `?bench=1` never benchmarks the server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import type { BenchmarkRound } from '../../src/bench/round';
import { VllmStandIn } from '../support/vllm-server';
import { CARD_MESSAGE, classify, collectConsole, launchChromium, newContext } from './harness';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VLLM_MODEL = 'banking77-intent';
/** A card question, an unsure one, and two that are not about banking: none may leave. */
const MESSAGES = [CARD_MESSAGE, 'hmm, the thing with my account', "What's the weather like in Paris tomorrow?", 'asdf qwerty zxcv'];

interface Built {
  origin: string;
  close(): Promise<void>;
}

let vllm: VllmStandIn;
let configured: Built;
let allowed: Built;
let browser: Browser;
let context: BrowserContext | undefined;
let logs: string[] = [];
const folders: string[] = [];

/** Builds the site with `env` added to the process env (as a deployment would set it) and serves it. */
async function buildSite(env: Record<string, string>): Promise<Built> {
  const outDir = mkdtempSync(join(tmpdir(), 'url-privacy-'));
  folders.push(outDir);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    await build({ root: ROOT, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  } finally {
    process.env = saved;
  }
  const server: PreviewServer = await preview({
    root: ROOT,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('The preview server has no TCP address.');
  return { origin: `http://127.0.0.1:${address.port}`, close: () => server.close() };
}

beforeAll(async () => {
  vllm = await VllmStandIn.start({ models: [VLLM_MODEL], cors: true });
  const env = { VITE_VLLM_URL: vllm.url, VITE_VLLM_MODEL: VLLM_MODEL };
  configured = await buildSite(env);
  allowed = await buildSite({ ...env, VITE_REMOTE: 'vllm' });
  // WASM only: these tests are about where text goes, and WASM loads fastest on a CPU-only machine.
  browser = await launchChromium({ webgpu: false });
});

beforeEach(() => vllm.reset());

afterEach(async () => {
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
  await configured?.close();
  await allowed?.close();
  await vllm?.close();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

async function open(site: Built, path: string): Promise<Page> {
  context = await newContext(browser, { serviceWorkers: 'block' });
  const page = await context.newPage();
  logs = collectConsole(page);
  await page.goto(site.origin + path);
  await page.evaluate(() => window.bankingIntent!.ready);
  return page;
}

/** Everything the stand-in received, CORS preflights included (they name the server too). */
const received = () => [...vllm.requests, ...vllm.preflights].map((r) => `${r.method} ${r.path}`);
const destinations = (page: Page) => page.locator('#classify-form #message-destinations');
const notice = (page: Page) => page.locator('#classify-form #address-notice');

/** Opens "Remote models", fills the fields named by their labels and applies them. */
async function applySettings(page: Page, fields: Record<string, string>): Promise<void> {
  const details = page.locator('#settings');
  if ((await details.getAttribute('open')) === null) await page.getByText('Remote models', { exact: true }).click();
  for (const [label, value] of Object.entries(fields)) await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByRole('button', { name: 'Apply', exact: true }).click();
  await expect.poll(() => page.locator('#settings-status').textContent()).toBe('Settings applied.');
}

test('?escalate=1&fallback=vllm on a vLLM-configured build sends nothing until the configuration allows it and the page says so', async () => {
  const page = await open(configured, '/?device=wasm&escalate=1&fallback=vllm');

  // The address's request is refused, visibly, and the page says the truth about where messages go.
  expect(await notice(page).isVisible()).toBe(true);
  expect(await notice(page).textContent()).toMatch(
    /asks to send messages to vllm \(fallback=vllm\), which this page is not set up to do: ignored/,
  );
  expect(await destinations(page).textContent()).toBe('Messages stay in this page.');
  expect(await page.locator('#model-state').textContent()).toContain('Messages stay in this page.');

  for (const message of MESSAGES) {
    const answer = await classify(page, message);
    expect(answer, logs.join('\n')).toMatchObject({ model: 'custom', device: 'wasm' });
    expect(await page.locator('#result').textContent()).not.toContain('Escalated');
  }
  expect(received()).toEqual([]);

  // The user allows it in the "Remote models" panel (the server is the build's, already shown there).
  expect(await page.getByLabel('vLLM URL', { exact: true }).inputValue()).toBe(vllm.url);
  await applySettings(page, { 'Fallback chain': 'vllm' });
  expect(received()).toEqual([]); // applying sends nothing either
  const line = destinations(page);
  expect(await line.isVisible()).toBe(true);
  expect(await line.textContent()).toBe(
    'Messages stay in this page unless the on-device model fails or its answer is less than certain (so nearly always): ' +
      `then they go to ${vllm.url} (vllm); personal data is masked first.`,
  );
  expect(await line.getAttribute('class')).toContain('warning');
  expect(await notice(page).isHidden()).toBe(true);

  expect(await classify(page, CARD_MESSAGE), logs.join('\n')).toMatchObject({ model: 'vllm', device: 'remote' });
  expect(await page.locator('#result').textContent()).toContain('Escalated from custom');
  expect(vllm.requestsTo('/v1/chat/completions')).toHaveLength(1);
});

test('?model=vllm on that build is ignored until the user chooses vllm in the Model list', async () => {
  const page = await open(configured, '/?device=wasm&model=vllm');
  expect(await page.getByRole('combobox', { name: 'Model', exact: true }).inputValue()).toBe('custom');
  expect(await notice(page).textContent()).toMatch(/asks to send messages to vllm \(model=vllm\)/);
  expect(await classify(page, CARD_MESSAGE)).toMatchObject({ model: 'custom' });
  expect(received()).toEqual([]);

  await page.getByRole('combobox', { name: 'Model', exact: true }).selectOption('vllm');
  await expect.poll(() => destinations(page).textContent()).toBe(`Messages go to ${vllm.url} (vllm); personal data is masked first.`);
  expect(await classify(page, CARD_MESSAGE), logs.join('\n')).toMatchObject({ model: 'vllm', device: 'remote' });
  expect(vllm.requestsTo('/v1/chat/completions')).toHaveLength(1);
});

test('on a build that allows vLLM the page says where messages go, and that the address set it, before the first is sent', async () => {
  const page = await open(allowed, '/?device=wasm&escalate=1&fallback=vllm');
  const line = destinations(page);
  expect(await line.isVisible()).toBe(true);
  expect(await line.textContent()).toBe(
    'Messages stay in this page unless the on-device model fails or its answer is less than certain (so nearly always): ' +
      `then they go to ${vllm.url} (vllm); personal data is masked first. Set by this page's address (fallback, escalate).`,
  );
  expect(await notice(page).isHidden()).toBe(true);
  expect(received()).toEqual([]); // nothing before the first message

  expect(await classify(page, CARD_MESSAGE), logs.join('\n')).toMatchObject({ model: 'vllm', device: 'remote' });
  expect(vllm.requestsTo('/v1/chat/completions')).toHaveLength(1);
});

test('?bench=1 on a build that allows vLLM benchmarks the on-device models only', async () => {
  const page = await open(allowed, '/?device=wasm&bench=1');
  for (const message of MESSAGES.slice(0, 3)) expect(await classify(page, message)).toMatchObject({ model: 'custom' });

  const rounds = () => page.evaluate(() => window.bankingIntent!.rounds());
  await expect.poll(async () => (await rounds()).length, { timeout: 120_000, interval: 500 }).toBeGreaterThanOrEqual(2);
  await expect.poll(() => page.locator('#bench-status').getAttribute('data-state'), { timeout: 120_000 }).toBe('idle');
  const stored: BenchmarkRound[] = await rounds();
  for (const round of stored) {
    expect(round.trigger).toBe('auto');
    expect(round.models.custom).toMatchObject({ status: 'ok' });
    expect(round.models.vllm).toMatchObject({
      status: 'unavailable',
      n: 0,
      reason: expect.stringMatching(/schedule set by the page address/),
    });
  }
  expect(received()).toEqual([]);
});
