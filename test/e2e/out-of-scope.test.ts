/**
 * Out-of-scope answers in Chromium, on the site and in the widget embedded cross-origin: a message
 * that is not about banking gets the bank's words and its link to a person (and, smaller, the
 * closest banking intents); a banking message still gets its intent; the threshold changes the
 * answer at run time without a reload; the bank's words replace ours; markup stays text.
 *
 * The tests with "what is the weather tomorrow" rely on the model's own threshold (stored with the
 * model, chosen on validation data). The others force the answer with a threshold of 0.999, which
 * every message's best banking intent falls below, so they test the display on any model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { build, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { serveEmbedExample, type EmbedServers } from '../../scripts/lib/embed-servers';
import { CARD_MESSAGE, classify, collectConsole, sharedSite, type Site } from './harness';

const WEATHER = 'what is the weather tomorrow';
const MESSAGE = 'I can only help with banking questions.';
/** Below every message's best in-scope probability: the answer is out_of_scope whatever the model. */
const REJECT_ALL = '0.999';

// WASM only: these tests are about answers and display, and WASM loads fastest without a GPU.
const shared = sharedSite({ webgpu: false });
let servers: EmbedServers;

beforeAll(async () => {
  servers = await serveEmbedExample();
});

afterAll(async () => {
  await servers?.close();
});

/** A fresh context on `url`; `dialogs` records any alert() a message's markup might have run. */
async function open(url: string): Promise<{ page: Page; logs: string[]; dialogs: string[] }> {
  const context = await shared.newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  const logs = collectConsole(page);
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(url);
  return { page, logs, dialogs };
}

describe('the site', () => {
  const result = (page: Page) => page.locator('#result');
  const handoff = (page: Page) => result(page).getByRole('link', { name: 'Talk to a person', exact: true });
  const threshold = (page: Page) => page.getByRole('spinbutton', { name: 'Out-of-scope threshold', exact: true });

  async function setThreshold(page: Page, value: string): Promise<void> {
    await threshold(page).fill(value);
    await threshold(page).press('Enter');
  }

  test('"what is the weather tomorrow" gets the hand-off with the model\'s own threshold; a banking message still gets its intent', async () => {
    const { page, logs } = await open(`${shared.site.origin}/?device=wasm`);
    expect(await threshold(page).inputValue()).toBe('');

    expect((await classify(page, WEATHER)).intent, logs.join('\n')).toBe('out_of_scope');
    expect(await result(page).textContent()).toContain(MESSAGE);
    expect(await handoff(page).isVisible()).toBe(true);
    expect(await handoff(page).getAttribute('href')).toBe('#contact');
    expect(await page.locator('#contact').count()).toBe(1);
    expect(await result(page).getByRole('heading', { name: 'Closest banking intents' }).isVisible()).toBe(true);

    expect((await classify(page, CARD_MESSAGE)).intent).toBe('card_arrival');
    expect(await result(page).textContent()).not.toContain(MESSAGE);
    expect(await handoff(page).count()).toBe(0);

    // 0 turns rejection off: the same message gets its closest banking intent.
    await setThreshold(page, '0');
    expect((await classify(page, WEATHER)).intent).not.toBe('out_of_scope');
  });

  test('the threshold changes the answer from the next message on, without a reload', async () => {
    const { page, logs } = await open(`${shared.site.origin}/?device=wasm`);
    await page.evaluate(() => {
      (window as { __marker?: number }).__marker = 1;
    });
    expect((await classify(page, CARD_MESSAGE)).intent, logs.join('\n')).toBe('card_arrival');

    await setThreshold(page, REJECT_ALL);
    expect(new URL(page.url()).searchParams.get('oos_threshold')).toBe(REJECT_ALL);
    expect((await classify(page, CARD_MESSAGE)).intent).toBe('out_of_scope');
    expect(await result(page).textContent()).toContain(MESSAGE);
    expect(await handoff(page).isVisible()).toBe(true);
    // What the message came closest to is still there, smaller.
    const closest = result(page).locator('.scores--closest .scores__intent');
    expect(await closest.first().getAttribute('title')).toBe('card_arrival');

    await setThreshold(page, '0');
    expect((await classify(page, CARD_MESSAGE)).intent).toBe('card_arrival');

    // A value out of range is refused with a message, and the last good one still applies.
    await setThreshold(page, '1.5');
    await expect.poll(() => page.locator('#oos-threshold-error').textContent()).toMatch(/between 0 and 1/);
    expect(new URL(page.url()).searchParams.get('oos_threshold')).toBe('0');

    // Empty: the model's own threshold again.
    await setThreshold(page, '');
    expect(await page.locator('#oos-threshold-error').isHidden()).toBe(true);
    expect(new URL(page.url()).searchParams.has('oos_threshold')).toBe(false);
    expect((await classify(page, CARD_MESSAGE)).intent).toBe('card_arrival');
    expect(await page.evaluate(() => (window as { __marker?: number }).__marker)).toBe(1);
  });

  test("the customer's markup stays text, and ?oos_threshold= fills the setting", async () => {
    const { page, logs, dialogs } = await open(`${shared.site.origin}/?device=wasm&oos_threshold=${REJECT_ALL}`);
    expect(await threshold(page).inputValue()).toBe(REJECT_ALL);
    const text = '<img src=x onerror=alert(1)><script>alert(2)</script> where is my card';
    expect((await classify(page, text)).intent, logs.join('\n')).toBe('out_of_scope');
    expect(await page.getByRole('textbox', { name: 'Message', exact: true }).inputValue()).toBe(text);
    expect(await handoff(page).isVisible()).toBe(true);
    expect(await page.locator('#result img, #result script, img').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });
});

/** The site built with `env` set (as a bank's build would), into a folder of its own, and served. */
async function serveBuiltWith(env: Record<string, string>): Promise<Site> {
  const outDir = mkdtempSync(join(tmpdir(), 'site-oos-env-'));
  const saved = { ...process.env };
  try {
    Object.assign(process.env, env);
    await build({ logLevel: 'silent', build: { outDir, emptyOutDir: true } });
  } finally {
    process.env = saved;
  }
  const server = await preview({
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('The preview server has no TCP address.');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: async () => {
      await server.close();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

describe("a bank's build", () => {
  let built: Site | undefined;

  afterAll(async () => {
    await built?.close();
  });

  test('VITE_OOS_MESSAGE, VITE_HANDOFF_TEXT and VITE_HANDOFF_URL replace the words and the link, shown as text', async () => {
    const words = '<b>We only answer banking questions</b> here.';
    built = await serveBuiltWith({
      VITE_OOS_MESSAGE: words,
      VITE_HANDOFF_TEXT: 'Email an adviser',
      VITE_HANDOFF_URL: 'mailto:help@bank.example',
    });
    const { page, logs } = await open(`${built.origin}/?device=wasm&oos_threshold=${REJECT_ALL}`);
    expect((await classify(page, CARD_MESSAGE)).intent, logs.join('\n')).toBe('out_of_scope');
    const result = page.locator('#result');
    expect(await result.locator('.result__label').textContent()).toBe(words);
    expect(await result.locator('b').count()).toBe(0);
    expect(await result.getByRole('link', { name: 'Email an adviser', exact: true }).getAttribute('href')).toBe('mailto:help@bank.example');
    expect(await result.textContent()).not.toContain(MESSAGE);
  });
});

describe('the widget on a bank portal (cross-origin, strict CSP)', () => {
  const widget = (page: Page) => page.locator('banking-intent-widget');

  interface Answered {
    intent: string;
    outOfScope: boolean;
    handoff: { label: string; href: string } | null;
    action: { label: string; href: string } | null;
  }

  /** Types `text` into the widget, sends it and resolves with the `intent` event's detail. */
  async function ask(page: Page, text: string): Promise<Answered> {
    const answered = page.evaluate(
      () =>
        new Promise<Answered>((done) =>
          document.addEventListener(
            'intent',
            (event) => {
              const { intent, outOfScope, handoff, action } = (event as CustomEvent<Answered>).detail;
              done({ intent, outOfScope, handoff, action });
            },
            { once: true },
          ),
        ),
    );
    await widget(page).getByRole('textbox', { name: 'Message', exact: true }).fill(text);
    await widget(page).getByRole('button', { name: 'Classify', exact: true }).click();
    return answered;
  }

  async function setAttributes(page: Page, attributes: Record<string, string | null>): Promise<void> {
    await widget(page).evaluate((element, values) => {
      for (const [name, value] of Object.entries(values)) {
        if (value === null) element.removeAttribute(name);
        else element.setAttribute(name, value);
      }
    }, attributes);
  }

  test('"what is the weather tomorrow" gets the portal\'s hand-off and says so in its event; a banking message still gets its intent', async () => {
    const { page, logs } = await open(`${servers.portalOrigin}/portal.html`);
    const weather = await ask(page, WEATHER);
    expect(weather, logs.join('\n')).toEqual({
      intent: 'out_of_scope',
      outOfScope: true,
      handoff: { label: 'Chat with an adviser', href: '#contact' },
      action: { label: 'Chat with an adviser', href: '#contact' },
    });
    const answer = widget(page).getByRole('status');
    expect(await answer.getAttribute('data-intent')).toBe('out_of_scope');
    expect(await answer.locator('[part=out-of-scope]').textContent()).toBe(MESSAGE);
    const link = answer.getByRole('link', { name: 'Chat with an adviser', exact: true });
    expect(await link.isVisible()).toBe(true);
    expect(await link.getAttribute('href')).toBe('#contact');
    expect(await answer.locator('[part=closest]').textContent()).toMatch(/^Closest topics: \S/);
    // The portal reacts to the event with its own words.
    expect(await page.locator('#portal-answer').textContent()).toContain("doesn't look like a banking question");

    const card = await ask(page, CARD_MESSAGE);
    expect(card).toMatchObject({ intent: 'card_arrival', outOfScope: false, handoff: null });
    expect(await answer.locator('[part=intent]').textContent()).toContain('card arrival');
    expect(await answer.locator('[part=out-of-scope]').count()).toBe(0);
  });

  test('oos-threshold switches at run time; oos-message, handoff-text and handoff-url replace the words, as text', async () => {
    const { page, logs } = await open(`${servers.portalOrigin}/portal.html`);
    const answer = widget(page).getByRole('status');
    const words = '<b>Only</b> banking here <img src=x onerror=alert(1)>';
    await setAttributes(page, {
      'oos-threshold': REJECT_ALL,
      'oos-message': words,
      'handoff-text': 'Call us',
      'handoff-url': 'tel:+442071234567',
    });

    const rejected = await ask(page, CARD_MESSAGE);
    expect(rejected, logs.join('\n')).toMatchObject({
      intent: 'out_of_scope',
      outOfScope: true,
      handoff: { label: 'Call us', href: 'tel:+442071234567' },
    });
    expect(await answer.locator('[part=out-of-scope]').textContent()).toBe(words);
    expect(await answer.getByRole('link', { name: 'Call us', exact: true }).getAttribute('href')).toBe('tel:+442071234567');
    expect(await answer.locator('[part=closest]').textContent()).toContain('card arrival');
    expect(await widget(page).evaluate((host) => host.shadowRoot!.querySelectorAll('b, img').length)).toBe(0);

    await setAttributes(page, { 'oos-threshold': '0' });
    expect(await ask(page, CARD_MESSAGE)).toMatchObject({ intent: 'card_arrival', outOfScope: false, handoff: null });
    await setAttributes(page, { 'oos-threshold': null });
    expect(await ask(page, CARD_MESSAGE)).toMatchObject({ intent: 'card_arrival', outOfScope: false });

    // A link a customer could not safely follow is refused at once, and never shown.
    const refused = page.evaluate(
      () =>
        new Promise<string>((done) =>
          document.addEventListener('error', (event) => done((event as unknown as CustomEvent<{ message: string }>).detail.message), {
            once: true,
          }),
        ),
    );
    await setAttributes(page, { 'handoff-url': 'javascript:alert(1)' });
    expect(await refused).toMatch(/handoff-url attribute .* is not a link a customer can follow/);
    await setAttributes(page, { 'oos-threshold': REJECT_ALL });
    expect(await ask(page, CARD_MESSAGE)).toMatchObject({ intent: 'out_of_scope', handoff: null });
    expect(await answer.getByRole('link').count()).toBe(0);
  });
});
