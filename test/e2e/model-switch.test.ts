/**
 * The model selector: one page switches between the on-device model and remote ones (a vLLM
 * stand-in on 127.0.0.1) without a reload, shows why a model cannot answer, falls back and
 * escalates as configured in the "Remote models" panel, and contacts no server it was not told to.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import { VllmStandIn } from '../support/vllm-server';
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

const VLLM_MODEL = 'banking77-intent';

let site: Site;
let browser: Browser;
let vllm: VllmStandIn;
let context: BrowserContext | undefined;
let requests: string[] = [];
let logs: string[] = [];

beforeAll(async () => {
  site = await serveSite();
  vllm = await VllmStandIn.start({ models: [VLLM_MODEL], cors: true });
  // WASM only: these tests are about routing, and WASM loads fastest on a CPU-only machine.
  browser = await launchChromium({ webgpu: false });
});

beforeEach(() => {
  vllm.reset();
});

afterEach(async () => {
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
  await vllm?.close();
  await site?.close();
});

async function open(path: string): Promise<Page> {
  context = await newContext(browser, { serviceWorkers: 'block' });
  requests = recordRequests(context);
  const page = await context.newPage();
  logs = collectConsole(page);
  await page.goto(site.origin + path);
  return page;
}

function modelSelect(page: Page) {
  return page.getByRole('combobox', { name: 'Model', exact: true });
}

/** The option's text, e.g. `gemini (unavailable)`. */
function optionText(page: Page, id: string): Promise<string | null> {
  return modelSelect(page).locator(`option[value="${id}"]`).textContent();
}

/** Opens "Remote models", fills the fields (checks the boxes) named by their labels and applies them. */
async function applySettings(page: Page, fields: Record<string, string | boolean>): Promise<void> {
  const details = page.locator('#settings');
  if ((await details.getAttribute('open')) === null) await page.getByText('Remote models', { exact: true }).click();
  for (const [label, value] of Object.entries(fields)) {
    const field = page.getByLabel(label, { exact: true });
    if (typeof value === 'boolean') await field.setChecked(value);
    else await field.fill(value);
  }
  await page.getByRole('button', { name: 'Apply', exact: true }).click();
  await expect.poll(() => page.locator('#settings-status').textContent()).toBe('Settings applied.');
}

async function resultText(page: Page): Promise<string> {
  return (await page.locator('#result').textContent()) ?? '';
}

test('switches from the custom model to a vLLM server and back, without a reload', async () => {
  const page = await open('/?device=wasm');
  await page.evaluate(() => {
    (window as { __marker?: number }).__marker = 1;
  });

  expect(await classify(page, CARD_MESSAGE), logs.join('\n')).toEqual({ intent: 'card_arrival', device: 'wasm', model: 'custom' });

  // Configuring a server contacts nothing; selecting it checks it, and the next message goes there.
  await applySettings(page, { 'vLLM URL': vllm.url, 'vLLM model': VLLM_MODEL });
  expect(vllm.requests).toEqual([]);
  await modelSelect(page).selectOption('vllm');
  await expect.poll(() => optionText(page, 'vllm')).toContain('ready');
  expect(await page.locator('#model-state').textContent()).toContain(`Messages go to ${vllm.url}`);
  expect(new URL(page.url()).searchParams.get('model')).toBe('vllm');

  const card = '4111 1111 1111 1111';
  const remote = await classify(page, `My new card ${card} still has not arrived`);
  expect(remote, logs.join('\n')).toEqual({ intent: 'card_arrival', device: 'remote', model: 'vllm' });
  const text = await resultText(page);
  expect(text).toContain('Personal data (card number) was masked before sending.');
  expect(text).toContain('Remote server');
  const sent = vllm.requestsTo('/v1/chat/completions');
  expect(sent).toHaveLength(1);
  expect(JSON.stringify(sent[0]!.body)).not.toContain(card);

  await modelSelect(page).selectOption('custom');
  expect(await classify(page, CARD_MESSAGE)).toEqual({ intent: 'card_arrival', device: 'wasm', model: 'custom' });
  expect(vllm.requestsTo('/v1/chat/completions')).toHaveLength(1);

  expect(await page.evaluate(() => (window as { __marker?: number }).__marker)).toBe(1);
  expect(foreignRequests(requests, site.origin).filter((url) => !url.startsWith(vllm.url + '/'))).toEqual([]);
  // Applying settings and switching models reconfigured the one runtime: the on-device model
  // (its worker and its file) was made once.
  expect(requests.filter((url) => new URL(url).pathname.endsWith('/models/custom/onnx/model.onnx'))).toHaveLength(1);
});

test('Gemini with nothing configured is unavailable with the reason; classifying says why, or falls back', async () => {
  const page = await open('/?device=wasm&model=gemini');
  expect(await modelSelect(page).inputValue()).toBe('gemini');
  const state = page.locator('#model-state');
  await expect.poll(() => state.textContent()).toMatch(/^Unavailable: Gemini needs your bank's proxy URL/);
  expect(await optionText(page, 'gemini')).toBe('gemini (unavailable)');

  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(CARD_MESSAGE);
  await page.getByRole('button', { name: 'Classify', exact: true }).click();
  const error = page.getByRole('alert');
  await expect.poll(() => error.textContent()).toMatch(/gemini: Gemini needs your bank's proxy URL/);
  expect(await page.locator('#result').getAttribute('data-intent')).toBeNull();

  // With the on-device model as fallback, the answer comes from it and says why.
  await applySettings(page, { 'Fallback chain': 'custom' });
  expect(await modelSelect(page).inputValue()).toBe('gemini');
  const answer = await classify(page, CARD_MESSAGE);
  expect(answer, logs.join('\n')).toEqual({ intent: 'card_arrival', device: 'wasm', model: 'custom' });
  expect(await resultText(page)).toContain('Answered by custom after gemini failed.');
  expect(await error.isHidden()).toBe(true);
  expect(foreignRequests(requests, site.origin)).toEqual([]);
});

test('an unsure on-device answer is escalated to vLLM, and a failing vLLM falls back to the device', async () => {
  const page = await open('/?device=wasm');
  // Every on-device answer is below 0.999: each one goes on to the vLLM server.
  await applySettings(page, { 'vLLM URL': vllm.url, 'vLLM model': VLLM_MODEL, 'Fallback chain': 'vllm', 'Escalate below': '0.999' });
  const escalated = await classify(page, CARD_MESSAGE);
  expect(escalated, logs.join('\n')).toEqual({ intent: 'card_arrival', device: 'remote', model: 'vllm' });
  expect(await resultText(page)).toContain('Escalated from custom');

  await applySettings(page, { 'Fallback chain': 'custom', 'Escalate below': '' });
  await modelSelect(page).selectOption('vllm');
  await expect.poll(() => optionText(page, 'vllm')).toContain('ready');
  // The first attempt and both retries (the pipeline's default policy) fail.
  vllm.failNext(500, undefined, { times: 3, path: '/v1/chat/completions' });
  const fallback = await classify(page, CARD_MESSAGE);
  expect(fallback).toEqual({ intent: 'card_arrival', device: 'wasm', model: 'custom' });
  expect(await resultText(page)).toContain('Answered by custom after vllm failed.');
});

test('an on-device out_of_scope answer stands by default; with "Escalate out-of-scope" on, it goes on to vLLM', async () => {
  // 0.999: every on-device answer is out_of_scope, whatever the model.
  const page = await open('/?device=wasm&oos_threshold=0.999');
  await applySettings(page, { 'vLLM URL': vllm.url, 'vLLM model': VLLM_MODEL, 'Fallback chain': 'vllm' });
  expect(await page.getByLabel('Escalate out-of-scope', { exact: true }).isChecked()).toBe(false);
  expect(await classify(page, CARD_MESSAGE), logs.join('\n')).toEqual({ intent: 'out_of_scope', device: 'wasm', model: 'custom' });
  expect(vllm.requestsTo('/v1/chat/completions')).toEqual([]);

  await applySettings(page, { 'Escalate out-of-scope': true });
  // The new pipeline keeps the threshold set for this page.
  expect(await page.getByRole('spinbutton', { name: 'Out-of-scope threshold', exact: true }).inputValue()).toBe('0.999');
  expect(await classify(page, CARD_MESSAGE)).toEqual({ intent: 'card_arrival', device: 'remote', model: 'vllm' });
  expect(await resultText(page)).toContain('Escalated from custom');
  expect(vllm.requestsTo('/v1/chat/completions')).toHaveLength(1);
});
