/**
 * npm run bench:startup -- [--runs 3] [--webgpu] [--json FILE]   (--help: every option)
 *
 * What a customer waits for, measured on the built site and on the widget example in headless
 * Chromium: bytes transferred, time to interactive (the message box can be typed in) and time to
 * the first answer, on a first visit (empty browser) and on a cached visit (the same browser, the
 * service worker and the HTTP cache warm). The site is served by `vite preview` with the
 * precompressed copies (scripts/lib/precompress.ts), as `npm start` serves it; the widget by the
 * example portal's two servers (`npm run example:widget`). Each figure is the median of the runs.
 *
 * Bytes are counted by the servers: what they wrote to their sockets during the visit (headers and
 * bodies, compressed where they were), for every request of the page, its workers and its service
 * worker. (The browser's own per-request sizes count an HTTP-cache hit as a download.)
 */
import type { BrowserContext, Page } from 'playwright-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchPersistentChromium, serveSite } from './lib/browser';
import { defineCommand, positiveInt, runCli } from './lib/cli';
import { serveEmbedExample } from './lib/embed-servers';

const MESSAGE = 'I still have not received my new card';

interface Visit {
  bytes: number;
  interactiveMs: number;
  firstAnswerMs: number;
}

interface Surface {
  /** Opens the page; resolves once the message box can be typed in. */
  open(page: Page): Promise<void>;
  /** Asks one question; resolves with the answer's intent. */
  ask(page: Page): Promise<string>;
}

async function visit(context: BrowserContext, surface: Surface, bytesSent: () => number): Promise<Visit> {
  const before = bytesSent();
  const page = await context.newPage();
  const started = performance.now();
  await surface.open(page);
  const interactiveMs = performance.now() - started;
  const intent = await surface.ask(page);
  const firstAnswerMs = performance.now() - started;
  if (intent !== 'card_arrival') throw new Error(`the first answer was ${intent}, not card_arrival`);
  // Let the service worker finish keeping what the page used before the next visit.
  await page.evaluate(async () => {
    if ('serviceWorker' in navigator && navigator.serviceWorker.controller) await navigator.serviceWorker.ready;
  });
  await page.waitForTimeout(1500);
  const result = { bytes: bytesSent() - before, interactiveMs, firstAnswerMs };
  await page.close();
  return result;
}

const site = (origin: string): Surface => ({
  async open(page) {
    await page.goto(origin + '/');
    await page.getByRole('textbox', { name: 'Message', exact: true }).waitFor({ state: 'visible' });
  },
  async ask(page) {
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill(MESSAGE);
    await page.getByRole('button', { name: 'Classify', exact: true }).click();
    const result = page.locator('#result[data-intent]');
    await result.waitFor({ state: 'visible', timeout: 120_000 });
    return (await result.getAttribute('data-intent')) ?? '';
  },
});

const widget = (portalOrigin: string): Surface => ({
  async open(page) {
    await page.goto(portalOrigin + '/portal.html');
    await page.locator('banking-intent-widget').getByRole('textbox', { name: 'Message', exact: true }).waitFor({ state: 'visible' });
  },
  async ask(page) {
    const answer = page.evaluate(
      () =>
        new Promise<string>((resolve) =>
          document.addEventListener('banking-intent:result', (event) => resolve((event as CustomEvent<{ intent: string }>).detail.intent), {
            once: true,
          }),
        ),
    );
    const element = page.locator('banking-intent-widget');
    await element.getByRole('textbox', { name: 'Message', exact: true }).fill(MESSAGE);
    await element.getByRole('button', { name: 'Classify', exact: true }).click();
    return answer;
  },
});

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

interface Row {
  surface: string;
  visit: 'first' | 'cached';
  runs: number;
  bytes: number;
  interactive_ms: number;
  first_answer_ms: number;
}

async function measure(name: string, surface: Surface, bytesSent: () => number, runs: number, webgpu: boolean): Promise<Row[]> {
  const first: Visit[] = [];
  const cached: Visit[] = [];
  for (let i = 0; i < runs; i++) {
    // A new profile is an empty browser: no HTTP cache, no service worker, no storage.
    const profile = mkdtempSync(join(tmpdir(), 'bench-startup-'));
    const context = await launchPersistentChromium(profile, { webgpu });
    try {
      first.push(await visit(context, surface, bytesSent));
      cached.push(await visit(context, surface, bytesSent));
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
    process.stderr.write(`${name}: run ${i + 1}/${runs}\n`);
  }
  const row = (visitName: Row['visit'], visits: Visit[]): Row => ({
    surface: name,
    visit: visitName,
    runs,
    bytes: median(visits.map((v) => v.bytes)),
    interactive_ms: Math.round(median(visits.map((v) => v.interactiveMs))),
    first_answer_ms: Math.round(median(visits.map((v) => v.firstAnswerMs))),
  });
  return [row('first', first), row('cached', cached)];
}

const command = defineCommand({
  command: 'npm run bench:startup --',
  summary: `Serves the built site (as npm start does) and the widget example, and measures in headless Chromium the
    bytes transferred, the time to interactive and the time to the first answer, on a first visit and on a cached
    visit: the median of --runs runs. Needs \`npm run build\` first.`,
  options: {
    runs: { type: 'string', value: 'N', default: '3', description: 'runs per surface (each a first and a cached visit)' },
    webgpu: { type: 'boolean', description: 'offer WebGPU (SwiftShader here): the default measures a WASM-only browser' },
    json: { type: 'string', value: 'FILE', defaultText: 'print only', description: 'also write the rows as JSON' },
  },
  examples: ['npm run build && npm run bench:startup', 'npm run bench:startup -- --runs 5 --json startup.json'],
});

runCli(async () => {
  const { values } = command.parse();
  const runs = positiveInt(values.runs, 'runs', 3);
  const served = await serveSite();
  const embed = await serveEmbedExample();
  try {
    const rows = [
      ...(await measure('site', site(served.origin), served.bytesSent, runs, values.webgpu === true)),
      ...(await measure('widget', widget(embed.portalOrigin), embed.bytesSent, runs, values.webgpu === true)),
    ];
    console.log(`Startup, ${values.webgpu ? 'WebGPU offered' : 'WASM-only browser'}, median of ${runs} runs:`);
    console.table(
      rows.map((r) => ({
        surface: r.surface,
        visit: r.visit,
        'MB transferred': (r.bytes / 1e6).toFixed(2),
        'interactive (ms)': r.interactive_ms,
        'first answer (ms)': r.first_answer_ms,
      })),
    );
    if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2) + '\n');
  } finally {
    await Promise.all([served.close(), embed.close()]);
  }
});
