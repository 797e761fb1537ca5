/**
 * Accessibility, checked in Chromium. axe-core audits the site (after a classification, with the
 * benchmark dashboard drawn and the Remote models and Storage panels open) and the widget example
 * portal at 1280 px and 390 px, and in the dark palette: no serious or critical violation (the
 * others are printed), and on a phone no sideways scrolling of the page. Then what axe cannot
 * judge: the live region says one sentence per answer, the message box is marked invalid and
 * linked to its error until the text is fixed, and the Storage panel measures what is stored,
 * clears it, and the site still classifies (downloading the model again).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AxeResults, ImpactValue } from 'axe-core';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { serveEmbedExample, type EmbedServers } from '../../scripts/lib/embed-servers';
import { validateMessage } from '../../src/core/input';
import { CARD_MESSAGE, classify, collectConsole, recordRequests, sharedSite } from './harness';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const OOS_MESSAGE = 'what is the weather tomorrow';

const shared = sharedSite({ webgpu: false });

interface Violation {
  id: string;
  impact: ImpactValue | undefined;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core on the page (WCAG 2.x A/AA and best practices, shadow roots included) and
 * prints every violation. Evaluated through the DevTools protocol, so a page's CSP does not block it.
 */
async function audit(page: Page, label: string): Promise<Violation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document): Promise<AxeResults> } }).axe;
    const results = await axe.run(document);
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? undefined,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((node) => node.target.join(' ')),
    }));
  });
  const counts: Record<string, number> = {};
  for (const v of violations) counts[v.impact ?? 'unknown'] = (counts[v.impact ?? 'unknown'] ?? 0) + 1;
  console.log(
    `axe, ${label}: ${violations.length} violated rules ${JSON.stringify(counts)}` +
      violations.map((v) => `\n  [${v.impact}] ${v.id}: ${v.help} (${v.targets.join(', ')})`).join(''),
  );
  return violations;
}

function seriousOrCritical(violations: readonly Violation[]): Violation[] {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The page scrolls sideways when its content is wider than the viewport. */
function pageOverflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
}

/** Lets layout, the charts' resize observers and the buttons' colour transitions settle. */
function settle(page: Page): Promise<unknown> {
  return page.evaluate(() => new Promise((done) => setTimeout(done, 300)));
}

async function resize(page: Page, size: { width: number; height: number }): Promise<void> {
  await page.setViewportSize(size);
  await settle(page);
}

async function colourScheme(page: Page, scheme: 'light' | 'dark'): Promise<void> {
  await page.emulateMedia({ colorScheme: scheme });
  await settle(page);
}

async function openSite(options: { serviceWorkers?: 'allow' | 'block'; path?: string } = {}): Promise<{ page: Page; logs: string[] }> {
  const context = await shared.newContext({ viewport: DESKTOP, serviceWorkers: options.serviceWorkers ?? 'block' });
  const page = await context.newPage();
  const logs = collectConsole(page);
  await page.goto(shared.site.origin + (options.path ?? '/?device=wasm'));
  await page.evaluate(() => window.bankingIntent!.ready);
  return { page, logs };
}

describe('axe-core: no serious or critical violations', () => {
  test('the site after a classification, with the dashboard, at 1280 px and 390 px (light and dark)', async () => {
    const { page, logs } = await openSite();
    expect((await classify(page, CARD_MESSAGE)).intent, logs.join('\n')).toBe('card_arrival');
    await page.evaluate(() => window.bankingIntent!.runBenchmark({ models: ['custom'] }));
    await page.locator('#bench-latest table').waitFor();
    await page.locator('#bench-charts canvas').first().waitFor();
    await page.getByText('Remote models', { exact: true }).click();
    await page.getByText('Storage', { exact: true }).click();
    await page.locator('#storage-rows tr[data-kind="rounds"]').waitFor();

    expect(seriousOrCritical(await audit(page, 'site, 1280 px'))).toEqual([]);

    await resize(page, PHONE);
    expect(seriousOrCritical(await audit(page, 'site, 390 px'))).toEqual([]);
    const phone = await pageOverflow(page);
    expect(phone.scrollWidth, 'the page does not scroll sideways at 390 px').toBeLessThanOrEqual(phone.innerWidth);
    // The table is wider than a phone: it scrolls inside its own (focusable) box.
    const box = page.locator('#bench-latest .bench-table__scroll');
    expect(await box.evaluate((element) => element.scrollWidth > element.clientWidth)).toBe(true);
    expect(await box.getAttribute('tabindex')).toBe('0');

    await resize(page, { width: 360, height: 740 });
    const narrow = await pageOverflow(page);
    expect(narrow.scrollWidth, 'nor at 360 px').toBeLessThanOrEqual(narrow.innerWidth);

    await resize(page, PHONE);
    await colourScheme(page, 'dark');
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).not.toBe('rgb(243, 245, 248)');
    expect(seriousOrCritical(await audit(page, 'site, 390 px, dark'))).toEqual([]);

    // The out-of-scope answer: the bank's words and the hand-off link, in both palettes.
    expect((await classify(page, OOS_MESSAGE)).intent).toBe('out_of_scope');
    expect(seriousOrCritical(await audit(page, 'site, out-of-scope answer, 390 px, dark'))).toEqual([]);
    await colourScheme(page, 'light');
    expect(seriousOrCritical(await audit(page, 'site, out-of-scope answer, 390 px'))).toEqual([]);
  });

  test('the widget example portal after an answer, at 1280 px and 390 px (light and dark)', async () => {
    let servers: EmbedServers | undefined;
    try {
      servers = await serveEmbedExample();
      const context = await shared.newContext({ viewport: DESKTOP, serviceWorkers: 'block' });
      const page = await context.newPage();
      await page.goto(`${servers.portalOrigin}/portal.html`);
      await page.locator('#portal-status', { hasText: 'ready' }).waitFor();
      await page.getByRole('textbox', { name: 'Message' }).fill('my card got stolen');
      await page.keyboard.press('Enter');
      await page.locator('#portal-answer[data-intent]').waitFor();

      expect(seriousOrCritical(await audit(page, 'widget portal, 1280 px'))).toEqual([]);
      await resize(page, PHONE);
      expect(seriousOrCritical(await audit(page, 'widget portal, 390 px'))).toEqual([]);
      const phone = await pageOverflow(page);
      expect(phone.scrollWidth, 'the portal does not scroll sideways at 390 px').toBeLessThanOrEqual(phone.innerWidth);

      // The portal declares `color-scheme: light dark`: the widget follows it into the dark.
      await colourScheme(page, 'dark');
      const widgetBackground = () => page.locator('banking-intent-widget').evaluate((element) => getComputedStyle(element).backgroundColor);
      expect(await widgetBackground()).not.toBe('rgb(255, 255, 255)');
      expect(seriousOrCritical(await audit(page, 'widget portal, 390 px, dark'))).toEqual([]);
      await colourScheme(page, 'light');
      expect(await widgetBackground()).toBe('rgb(255, 255, 255)');
    } finally {
      await servers?.close();
    }
  });
});

describe('what a screen reader hears', () => {
  test('the live region announces one short sentence per answer, not the whole result', async () => {
    const { page, logs } = await openSite();
    const live = page.locator('#result-announcement');
    expect(await live.getAttribute('role')).toBe('status');
    expect(await live.getAttribute('aria-live')).toBe('polite');
    // The result block itself is not live, nor inside anything live.
    expect(await page.locator('#result').evaluate((element) => element.closest('[aria-live], [role="status"], [role="alert"]'))).toBeNull();

    expect((await classify(page, CARD_MESSAGE)).intent, logs.join('\n')).toBe('card_arrival');
    const sentence = (await live.textContent()) ?? '';
    expect(sentence).toMatch(/^Card arrival, \d{1,3}\.\d% confidence\.$/);
    const confidence = (await page.locator('#result .result__confidence strong').textContent()) ?? '';
    expect(sentence).toContain(confidence);
    expect((await page.locator('#result').textContent())?.length).toBeGreaterThan(5 * sentence.length);
    // Read out, not shown: the result block shows it.
    const box = await live.boundingBox();
    expect(box === null || (box.width <= 1 && box.height <= 1)).toBe(true);

    expect((await classify(page, OOS_MESSAGE)).intent).toBe('out_of_scope');
    expect(await live.textContent()).toMatch(/^Not a banking question, \d{1,3}\.\d% sure\.$/);
  });

  test('the message box is marked invalid and described by its error, until it holds a valid message', async () => {
    const { page } = await openSite();
    const box = page.getByRole('textbox', { name: 'Message', exact: true });
    /** The text of the elements the box's aria-describedby names, in order. */
    const description = () =>
      box.evaluate((element) =>
        (element.getAttribute('aria-describedby') ?? '')
          .split(/\s+/)
          .filter(Boolean)
          .map((id) => document.getElementById(id)?.textContent?.trim() ?? `(no #${id})`),
      );
    let empty = '';
    try {
      validateMessage(' ');
    } catch (error) {
      empty = (error as Error).message;
    }

    expect(await box.getAttribute('aria-invalid')).toBeNull();
    expect(await description()).not.toContain(empty);
    await page.getByRole('button', { name: 'Classify', exact: true }).click();
    await expect.poll(() => box.getAttribute('aria-invalid')).toBe('true');
    expect((await description())[0]).toBe(empty);
    expect(await page.locator('#error').isVisible()).toBe(true);

    // Still blank: still invalid. Then a real message clears the mark and the error at once.
    await box.fill('   ');
    expect(await box.getAttribute('aria-invalid')).toBe('true');
    await box.fill('my card');
    expect(await box.getAttribute('aria-invalid')).toBeNull();
    expect(await description()).not.toContain(empty);
    expect(await page.locator('#error').isHidden()).toBe(true);
    // The hint stays described.
    expect(await box.getAttribute('aria-describedby')).toContain('message-hint');

    expect((await classify(page, CARD_MESSAGE)).intent).toBe('card_arrival');
    expect(await box.getAttribute('aria-invalid')).toBeNull();
  });
});

describe('the Storage panel', () => {
  test('shows what is cached with sizes, asks for persistence, clears it all, and the site still classifies', async () => {
    const { page, logs } = await openSite({ serviceWorkers: 'allow' });
    // The service worker has cached the app, the runtime and the model files.
    await page.locator('#offline-status', { hasText: 'Available offline.' }).waitFor({ timeout: 120_000 });
    await page.evaluate(() => window.bankingIntent!.runBenchmark({ models: ['custom'] }));

    await page.getByText('Storage', { exact: true }).click();
    const row = (kind: string) => page.locator(`#storage-rows tr[data-kind="${kind}"]`);
    const bytes = async (kind: string) => Number(await row(kind).getAttribute('data-bytes'));
    await row('models').waitFor();
    await expect.poll(() => bytes('models'), { timeout: 30_000 }).toBeGreaterThan(1_000_000);
    expect(await bytes('runtime'), 'the onnxruntime WebAssembly').toBeGreaterThan(1_000_000);
    expect(await bytes('app')).toBeGreaterThan(0);
    expect(await bytes('rounds')).toBeGreaterThan(0);
    expect(await row('rounds').getAttribute('data-count')).toBe('1');
    expect(await row('models').textContent()).toMatch(/Model files.*Cache Storage, \d+ files.*\d+\.\d MB/);
    expect(Number(await page.locator('#storage-total').getAttribute('data-usage'))).toBeGreaterThan(0);

    // persist(): the browser's answer is shown, whichever it is.
    await page.getByRole('button', { name: 'Keep it persistently' }).click();
    const persistence = page.locator('#storage-persistence');
    await expect.poll(() => persistence.getAttribute('data-persisted')).toMatch(/^(true|false)$/);
    expect(await persistence.getAttribute('data-persisted')).toBe(String(await page.evaluate(() => navigator.storage.persisted())));

    await page.getByRole('button', { name: 'Clear stored data' }).click();
    const status = page.locator('#storage-status');
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/^Removed model files \(\d+ files, [\d.]+ MB\),/);
    expect(await status.textContent()).toContain('1 benchmark round');
    await expect.poll(() => bytes('models')).toBe(0);
    for (const kind of ['runtime', 'app', 'rounds']) expect(await bytes(kind), kind).toBe(0);
    expect(await page.evaluate(() => caches.keys())).toEqual([]);
    expect(await page.evaluate(() => window.bankingIntent!.rounds())).toEqual([]);
    expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()) === undefined)).toBe(true);
    await expect.poll(() => page.locator('#bench-status').textContent()).toMatch(/^0 rounds stored\./);
    expect(await page.locator('#offline-status').textContent()).toBe('');

    // The loaded model keeps answering in this page...
    expect((await classify(page, CARD_MESSAGE)).intent, logs.join('\n')).toBe('card_arrival');
    // ...and the next visit downloads the model again, and answers.
    const requests = recordRequests(shared.context!);
    await page.reload();
    await page.evaluate(() => window.bankingIntent!.ready);
    expect((await classify(page, CARD_MESSAGE)).intent, logs.join('\n')).toBe('card_arrival');
    expect(requests.some((url) => url.includes('/models/custom/') && url.endsWith('.onnx'))).toBe(true);
  });
});
