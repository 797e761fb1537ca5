/**
 * The same privacy gate on the site's and the widget's remote paths: a message with a card
 * number, an email and a phone number goes to a logging vLLM stand-in on another origin, which
 * must receive none of them; the site says which kinds of personal data were masked (never the
 * values), and the widget's `intent` event carries the same (`masked`, `masked_categories`).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import { WIDGET_DIST } from '../../scripts/lib/embed-servers';
import { VllmStandIn } from '../support/vllm-server';
import { collectConsole, launchChromium, newContext, serveSite, type Site } from './harness';

const VLLM_MODEL = 'banking77-intent';
const CARD = '4111 1111 1111 1111';
const EMAIL = 'jane.doe@example.com';
const PHONE = '+44 7700 900123';
const MESSAGE = `My new card ${CARD} has not arrived, email me at ${EMAIL} or call ${PHONE}`;
const CHAT = '/v1/chat/completions';

let site: Site;
/** A bank's page with the built widget (dist/widget/), served over loopback like the stand-in. */
let bank: { origin: string; server: Server };
let browser: Browser;
let vllm: VllmStandIn;
let context: BrowserContext | undefined;
let logs: string[] = [];

beforeAll(async () => {
  site = await serveSite();
  vllm = await VllmStandIn.start({ models: [VLLM_MODEL], cors: true });
  bank = await serveBankPage(vllm.url);
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
  await new Promise((done) => bank?.server.close(done));
});

/**
 * `/` is the bank's page: the widget with its remote model configured, and a record of its
 * events; everything else comes from dist/widget/. A real server, not a routed page: Chromium
 * lets only a page that itself came from the loopback address call the loopback stand-in.
 */
async function serveBankPage(vllmUrl: string): Promise<{ origin: string; server: Server }> {
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bank</title>
<script type="module" src="/banking-intent-widget.js"></script>
<script>
  window.__intents = [];
  window.__errors = [];
  document.addEventListener('intent', (event) => window.__intents.push(event.detail));
  document.addEventListener('error', (event) => event.detail && window.__errors.push(event.detail));
</script></head>
<body><banking-intent-widget model="vllm" vllm-url="${vllmUrl}" vllm-model="${VLLM_MODEL}"></banking-intent-widget></body></html>`;
  const types: Record<string, string> = { '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(page);
      return;
    }
    const file = resolve(WIDGET_DIST, `.${path}`);
    if (!file.startsWith(WIDGET_DIST + sep)) {
      response.writeHead(404);
      response.end();
      return;
    }
    readFile(file).then(
      (body) => {
        response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
        response.end(body);
      },
      () => {
        response.writeHead(404);
        response.end();
      },
    );
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Neither the values nor their digits (with any separators) anywhere in `text`. */
function expectNoPersonalData(text: string): void {
  for (const secret of [CARD, EMAIL, PHONE, 'jane.doe', '7700 900123']) expect(text).not.toContain(secret);
  const digits = text.replace(/\D/g, '');
  for (const secret of [CARD, PHONE]) expect(digits).not.toContain(secret.replace(/\D/g, ''));
}

/** What the stand-in was sent: every request, headers and bodies, as one text. */
function logged(): string {
  return JSON.stringify(vllm.requests);
}

async function open(path: string, origin = site.origin): Promise<Page> {
  context = await newContext(browser, { serviceWorkers: 'block' });
  const page = await context.newPage();
  logs = collectConsole(page);
  await page.goto(origin + path);
  return page;
}

/** The site with the vLLM stand-in configured in "Remote models" and selected. */
async function siteOnVllm(): Promise<Page> {
  const page = await open('/?device=wasm');
  const details = page.locator('#settings');
  if ((await details.getAttribute('open')) === null) await page.getByText('Remote models', { exact: true }).click();
  await page.getByLabel('vLLM URL', { exact: true }).fill(vllm.url);
  await page.getByLabel('vLLM model', { exact: true }).fill(VLLM_MODEL);
  await page.getByRole('button', { name: 'Apply', exact: true }).click();
  await expect.poll(() => page.locator('#settings-status').textContent()).toBe('Settings applied.');
  const select = page.getByRole('combobox', { name: 'Model', exact: true });
  await select.selectOption('vllm');
  await expect.poll(() => select.locator('option[value="vllm"]').textContent()).toContain('ready');
  return page;
}

test('the site masks before sending to vLLM and says which kinds were masked, never the values', async () => {
  const page = await siteOnVllm();
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(MESSAGE);
  await page.getByRole('button', { name: 'Classify', exact: true }).click();
  const result = page.locator('#result[data-intent]');
  await result.waitFor({ state: 'visible' });
  expect(await result.getAttribute('data-model'), logs.join('\n')).toBe('vllm');

  const sent = vllm.requestsTo(CHAT);
  expect(sent).toHaveLength(1);
  expect(JSON.stringify(sent[0]!.body)).toMatch(/has not arrived/);
  expectNoPersonalData(logged());

  const shown = (await result.textContent()) ?? '';
  expect(shown).toMatch(/Personal data \((?=[^)]*card number)(?=[^)]*email)(?=[^)]*phone number)[^)]+\) was masked before sending\./);
  expectNoPersonalData(shown);
});

test('the widget masks before sending to vLLM, and its intent event says which kinds were masked', async () => {
  const page = await open('/', bank.origin);
  const widget = page.locator('banking-intent-widget');
  await widget.getByRole('textbox', { name: 'Message', exact: true }).fill(MESSAGE);
  await widget.getByRole('button', { name: 'Classify', exact: true }).click();

  type Detail = { intent: string; prediction: { model: string; masked: boolean; masked_categories: string[] } };
  type Recorded = { __intents: Detail[]; __errors: unknown[] };
  const answered = await page
    .waitForFunction(() => (window as unknown as Recorded).__intents.length > 0, undefined, { timeout: 60_000 })
    .then(() => true)
    .catch(() => false);
  const errors = await page.evaluate(() => (window as unknown as Recorded).__errors);
  expect(answered, `no intent event; errors: ${JSON.stringify(errors)}\n${logs.join('\n')}`).toBe(true);
  const intents = await page.evaluate(() => (window as unknown as Recorded).__intents);
  expect(intents).toHaveLength(1);
  const [detail] = intents;
  expect(detail!.prediction).toMatchObject({ model: 'vllm', masked: true });
  expect(detail!.prediction.masked_categories.length).toBeGreaterThanOrEqual(3);
  expectNoPersonalData(JSON.stringify(detail));

  const sent = vllm.requestsTo(CHAT);
  expect(sent).toHaveLength(1);
  expect(JSON.stringify(sent[0]!.body)).toMatch(/has not arrived/);
  expectNoPersonalData(logged());
});

test('the site refuses a 307 to another origin: nothing reaches it, and the error says redirects are not followed', async () => {
  const elsewhere = await VllmStandIn.start({ models: [VLLM_MODEL], cors: true });
  try {
    const page = await siteOnVllm();
    vllm.redirectNext(307, `${elsewhere.url}${CHAT}`, { path: CHAT, times: 10 });
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill(MESSAGE);
    await page.getByRole('button', { name: 'Classify', exact: true }).click();
    const error = page.getByRole('alert');
    await expect.poll(() => error.textContent(), { timeout: 30_000 }).toMatch(/vllm: .*redirects are never followed/);
    expect(await page.locator('#result').getAttribute('data-intent')).toBeNull();
    expect(vllm.requestsTo(CHAT).length).toBeGreaterThan(0);
    expect(elsewhere.requests).toEqual([]);
    expect(elsewhere.preflights).toEqual([]);
  } finally {
    await elsewhere.close();
  }
});
