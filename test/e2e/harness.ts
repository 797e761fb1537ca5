/**
 * Shared setup for the browser tests: the built site and Chromium come from scripts/lib/browser.ts
 * (also used by `npm run bench`); the rest is what tests need on top. One browser at a time: the
 * CI machines have two cores.
 */
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { launchChromium, serveSite, type Site } from '../../scripts/lib/browser';

export { chromiumPath, launchChromium, serveSite, type Site } from '../../scripts/lib/browser';

export const CARD_MESSAGE = 'I still have not received my new card';

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

/** A test file's site and browser, from `sharedSite`. */
export interface SharedSite {
  /** The built site, served once for the whole file. */
  readonly site: Site;
  /** One Chromium for the whole file. */
  readonly browser: Browser;
  /** A browser context for the running test (`newContext`'s defaults), closed after it. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** The context the running test opened last with `newContext` above. */
  readonly context: BrowserContext | undefined;
}

/**
 * Serves the site and starts Chromium before a file's tests and stops both after them; a context a
 * test opens through the result is closed after that test, even when it fails.
 */
export function sharedSite(options: { webgpu: boolean }): SharedSite {
  let site: Site | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  beforeAll(async () => {
    site = await serveSite();
    browser = await launchChromium(options);
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });
  return {
    get site() {
      return site!;
    },
    get browser() {
      return browser!;
    },
    get context() {
      return context;
    },
    async newContext(contextOptions) {
      context = await newContext(browser!, contextOptions);
      return context;
    },
  };
}

export interface Answer {
  intent: string | null;
  device: string | null;
  model: string | null;
}

/** Types `text` into the Message box, clicks Classify and waits for the answer (`timeout` ms, default Playwright's 30 s). */
export async function classify(page: Page, text: string, timeout?: number): Promise<Answer> {
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(text);
  await page.getByRole('button', { name: 'Classify', exact: true }).click();
  const result = page.locator('#result[data-intent]');
  await result.waitFor({ state: 'visible', timeout });
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
