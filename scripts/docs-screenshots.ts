/**
 * The README's pictures of the site and the widget at a desktop and a phone width, in headless
 * Chromium: `npm run build && npm run docs:screenshots`.
 *
 *   docs/site-1280.png, docs/site-390.png, docs/site-390-dark.png   the site after an answer and one
 *                                                                   benchmark round (custom, WASM)
 *   docs/widget-1280.png, docs/widget-390.png, docs/widget-390-dark.png   the example portal after an answer
 */
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, serveSite } from './lib/browser';
import { defineCommand, runCli } from './lib/cli';
import { serveEmbedExample } from './lib/embed-servers';

const command = defineCommand({
  command: 'npm run docs:screenshots --',
  summary: `Takes the README's screenshots of the site (after an answer and one benchmark round, the dashboard
    showing) and of the widget in the example portal, at 1280 px and 390 px wide, light, and at 390 px dark.
    Needs \`npm run build\` first.`,
  options: {
    out: { type: 'string', value: 'DIR', default: 'docs', description: 'the folder the pictures are written to' },
  },
  examples: ['npm run build && npm run docs:screenshots', 'npm run docs:screenshots -- --out /tmp/shots'],
});

interface Shot {
  width: number;
  scheme: 'light' | 'dark';
}

const SHOTS: Shot[] = [
  { width: 1280, scheme: 'light' },
  { width: 390, scheme: 'light' },
  { width: 390, scheme: 'dark' },
];

const fileName = (what: string, { width, scheme }: Shot) => `${what}-${width}${scheme === 'dark' ? '-dark' : ''}.png`;

/** A page at `shot`'s width and colour scheme, from the start (the charts take their colours when drawn). */
async function openPage(browser: Browser, { width, scheme }: Shot): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme, serviceWorkers: 'block' });
  return context.newPage();
}

async function siteShot(browser: Browser, origin: string, shot: Shot, path: string): Promise<void> {
  const page = await openPage(browser, shot);
  try {
    await page.goto(`${origin}/?device=wasm`);
    await page.evaluate(() => window.bankingIntent!.ready);
    await page.evaluate(() => window.bankingIntent!.runBenchmark({ models: ['custom'] }));
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('I still have not received my new card');
    await page.getByRole('button', { name: 'Classify', exact: true }).click();
    await page.locator('#result[data-intent]').waitFor();
    await page.locator('#bench-charts canvas').first().waitFor();
    await page.evaluate(() => new Promise((done) => setTimeout(done, 500)));
    await page.screenshot({ path, fullPage: true });
  } finally {
    await page.context().close();
  }
}

async function widgetShot(browser: Browser, portalOrigin: string, shot: Shot, path: string): Promise<void> {
  const page = await openPage(browser, shot);
  try {
    await page.goto(`${portalOrigin}/portal.html`);
    await page.locator('#portal-status', { hasText: 'ready' }).waitFor();
    await page.getByRole('textbox', { name: 'Message' }).fill('my card got stolen');
    await page.keyboard.press('Enter');
    await page.locator('#portal-answer[data-intent]').waitFor();
    await page.screenshot({ path, fullPage: true });
  } finally {
    await page.context().close();
  }
}

runCli(async () => {
  const { values } = command.parse();
  const out = resolve(values.out);
  const site = await serveSite();
  const servers = await serveEmbedExample();
  const browser = await launchChromium({ webgpu: false });
  try {
    for (const shot of SHOTS) {
      const path = resolve(out, fileName('site', shot));
      await siteShot(browser, site.origin, shot, path);
      console.log(`Wrote ${path}`);
    }
    for (const shot of SHOTS) {
      const path = resolve(out, fileName('widget', shot));
      await widgetShot(browser, servers.portalOrigin, shot, path);
      console.log(`Wrote ${path}`);
    }
  } finally {
    await browser.close();
    await servers.close();
    await site.close();
  }
});
