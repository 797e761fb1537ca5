/**
 * Shared setup for the browser tests: the built site (`dist/`, made by `npm run build`) served by
 * Vite's preview server on 127.0.0.1 with a free port, and a headless Chromium driven by
 * playwright-core. One browser at a time: the CI machines have two cores.
 *
 * Chromium: `CHROMIUM_PATH` if set, else /usr/bin/chromium, else Playwright's own download
 * (`npx playwright install chromium`).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST = resolve(ROOT, 'dist');

export const CARD_MESSAGE = 'I still have not received my new card';

/** Quiet, sandbox-free flags that work headless as root and keep Chromium off the network. */
const BASE_FLAGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumPath(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return fromEnv;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  return undefined; // Playwright's own browser, if installed.
}

/** `webgpu: true` adds `--enable-unsafe-webgpu`: a SwiftShader adapter without a GPU. */
export function launchChromium(options: { webgpu: boolean }): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: options.webgpu ? [...BASE_FLAGS, '--enable-unsafe-webgpu'] : BASE_FLAGS,
  });
}

export interface Site {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  close(): Promise<void>;
}

export async function serveSite(): Promise<Site> {
  if (!existsSync(resolve(DIST, 'index.html'))) {
    throw new Error(`No built site in ${DIST}: run \`npm run build\` first (npm test does).`);
  }
  const server: PreviewServer = await preview({
    root: ROOT,
    logLevel: 'warn',
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('The preview server has no TCP address.');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () => server.close(),
  };
}

/** Every URL a context requests (pages, dedicated workers, the service worker). */
export function recordRequests(context: BrowserContext): string[] {
  const urls: string[] = [];
  context.on('request', (request) => urls.push(request.url()));
  return urls;
}

/** The requested URLs that are neither on `origin` nor in-page (`data:`, `blob:`). */
export function foreignRequests(urls: readonly string[], origin: string): string[] {
  return urls.filter((url) => {
    const parsed = new URL(url);
    if (parsed.protocol === 'data:' || parsed.protocol === 'blob:') return false;
    return parsed.origin !== origin;
  });
}

export function newContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1100, height: 900 }, ...options });
}

export interface Answer {
  intent: string | null;
  device: string | null;
  model: string | null;
}

/** Types `text` into the Message box, clicks Classify and waits for the answer. */
export async function classify(page: Page, text: string): Promise<Answer> {
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(text);
  await page.getByRole('button', { name: 'Classify', exact: true }).click();
  const result = page.locator('#result[data-intent]');
  await result.waitFor({ state: 'visible' });
  return {
    intent: await result.getAttribute('data-intent'),
    device: await result.getAttribute('data-device'),
    model: await result.getAttribute('data-model'),
  };
}

/** Browser console errors, for failure messages: a test that fails should say why. */
export function collectConsole(page: Page): string[] {
  const lines: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') lines.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => lines.push(`pageerror: ${error.message}`));
  return lines;
}
