/**
 * The embeddable widget, embedded the way a bank would: the portal on origin A with a strict CSP
 * (no 'unsafe-inline', no 'unsafe-eval'), the widget folder (script, worker, ORT, model) on
 * origin B with CORS headers. Servers: scripts/lib/embed-servers.ts.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { serveEmbedExample, type EmbedServers } from '../../scripts/lib/embed-servers';
import type { BankingIntentWidget } from '../../src/widget/banking-intent-widget';
import { launchChromium, newContext } from './harness';

let servers: EmbedServers;
let browser: Browser;

beforeAll(async () => {
  servers = await serveEmbedExample();
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  await servers?.close();
});

/** A bank's Spanish strings: every text the widget can show a customer. */
const SPANISH = {
  label: 'Mensaje',
  placeholder: '¿En qué podemos ayudarle?',
  button: 'Clasificar',
  loading: 'Cargando el asistente…',
  working: 'Un momento…',
  answer: 'Tema:',
  action: 'Sugerido:',
  error: 'Lo sentimos:',
  outOfScope: 'Eso no parece una pregunta sobre su banco.',
  handoff: 'Hable con una persona',
  closest: 'Temas más cercanos:',
  errorEmpty: 'Escriba su pregunta primero.',
  errorInput: 'No pudimos leer ese mensaje. Escríbalo de nuevo en pocas palabras.',
  errorUnavailable: 'El asistente no está disponible ahora mismo.',
  errorGeneric: 'Algo salió mal. Inténtelo de nuevo.',
};

interface Watched {
  page: Page;
  /** CSP violations, console errors (page and workers), page errors and dialogs. */
  problems: string[];
  dialogs: string[];
  workers: string[];
}

/** A fresh context on a portal page, with everything that could go wrong recorded. */
async function openPortal(path = '/portal.html'): Promise<Watched> {
  const context = await newContext(browser, { serviceWorkers: 'block' });
  // Runs before the page's scripts (injected by the browser, so the CSP does not apply to it).
  await context.addInitScript(() => {
    const record = { violations: [] as string[], globals: Object.getOwnPropertyNames(window) };
    Object.defineProperty(window, '__widgetTest', { value: record });
    document.addEventListener('securitypolicyviolation', (event) => {
      record.violations.push(`${event.effectiveDirective} blocked ${event.blockedURI}`);
    });
  });
  const page = await context.newPage();
  const watched: Watched = { page, problems: [], dialogs: [], workers: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') watched.problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => watched.problems.push(`pageerror: ${error.message}`));
  page.on('dialog', (dialog) => {
    watched.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('worker', (worker) => {
    watched.workers.push(worker.url());
    worker.on('console', (message) => {
      if (message.type() === 'error') watched.problems.push(`worker console: ${message.text()}`);
    });
  });
  await page.goto(servers.portalOrigin + path);
  return watched;
}

async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __widgetTest: { violations: string[] } }).__widgetTest.violations);
}

/** Types into the nth widget's Message box and presses Enter. */
async function ask(page: Page, text: string, nth = 0): Promise<void> {
  const widget = page.locator('banking-intent-widget').nth(nth);
  await widget.getByRole('textbox', { name: 'Message', exact: true }).fill(text);
  await widget.getByRole('button', { name: 'Classify', exact: true }).click();
}

describe('the widget embedded cross-origin under a strict CSP', () => {
  test('"my card got stolen" fires an intent event with lost_or_stolen_card, without CSP violations', async () => {
    const { page, problems } = await openPortal();
    await ask(page, 'my card got stolen');
    const portalAnswer = page.locator('#portal-answer[data-intent]');
    await portalAnswer.waitFor({ state: 'visible' });

    expect(await portalAnswer.getAttribute('data-intent'), problems.join('\n')).toBe('lost_or_stolen_card');
    expect(await portalAnswer.textContent()).toBe('We can help: Block your card now');
    expect(await portalAnswer.getByRole('link').getAttribute('href')).toBe(`${servers.portalOrigin}/cards/block`);
    const action = page.locator('banking-intent-widget').getByRole('link', { name: 'Block your card now' });
    expect(await action.getAttribute('href')).toBe(`${servers.portalOrigin}/cards/block`);
    expect(await page.locator('#portal-status').textContent()).toBe('The assistant is ready.');
    expect(await violations(page)).toEqual([]);
    expect(problems).toEqual([]);
    // Every widget file came from origin B; the model and runtime were fetched from there.
    expect(servers.widgetRequests).toEqual(expect.arrayContaining(['/banking-intent-widget.js', '/models/custom/onnx/model.onnx']));
    await page.context().close();
  });

  test('in a cross-origin-isolated portal (COOP/COEP) the widget still answers, on one thread', async () => {
    const { page, problems } = await openPortal('/isolated-portal.html');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await ask(page, 'I still have not received my new card');
    const portalAnswer = page.locator('#portal-answer[data-intent]');
    await portalAnswer.waitFor({ state: 'visible' });
    expect(await portalAnswer.getAttribute('data-intent'), problems.join('\n')).toBe('card_arrival');
    expect(await violations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  test('the widget leaks no globals and no page styles reach inside it', async () => {
    const { page } = await openPortal();
    await page.locator('#portal-status', { hasText: 'ready' }).waitFor();
    const leaked = await page.evaluate(() => {
      const before = new Set((window as unknown as { __widgetTest: { globals: string[] } }).__widgetTest.globals);
      return Object.getOwnPropertyNames(window).filter((name) => !before.has(name) && name !== '__widgetTest');
    });
    expect(leaked).toEqual([]);
    const font = await page
      .locator('banking-intent-widget')
      .getByRole('button', { name: 'Classify' })
      .evaluate((button) => getComputedStyle(button).fontFamily);
    expect(font).not.toContain('Comic Sans');
    await page.context().close();
  });

  test("the customer's markup stays inert text", async () => {
    const { page, problems, dialogs } = await openPortal();
    const widget = page.locator('banking-intent-widget');
    for (const text of ['<img src=x onerror=alert(1)>', '<script>alert(1)</script>']) {
      const answered = page.evaluate(
        () =>
          new Promise<string>((done) =>
            document.addEventListener('banking-intent:result', (event) => done((event as CustomEvent<{ intent: string }>).detail.intent), {
              once: true,
            }),
          ),
      );
      await ask(page, text);
      expect(typeof (await answered)).toBe('string');
      expect(await widget.getByRole('textbox', { name: 'Message' }).inputValue()).toBe(text);
    }
    const elements = await widget.evaluate((host) => host.shadowRoot!.querySelectorAll('img, script').length);
    expect(elements).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(await violations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  test('two widgets on one page share one worker and one model download', async () => {
    servers.widgetRequests.length = 0;
    const { page, problems, workers } = await openPortal('/two-widgets.html');
    expect(await page.locator('banking-intent-widget').count()).toBe(2);
    await ask(page, 'my card got stolen', 0);
    await ask(page, 'I still have not received my new card', 1);
    const answers = page.locator('banking-intent-widget').getByRole('status');
    await answers.nth(0).locator('[part=intent]').waitFor();
    await answers.nth(1).locator('[part=intent]').waitFor();
    expect(await answers.nth(0).getAttribute('data-intent'), problems.join('\n')).toBe('lost_or_stolen_card');
    expect(await answers.nth(1).getAttribute('data-intent')).toBe('card_arrival');
    expect(servers.widgetRequests.filter((path) => path === '/models/custom/onnx/model.onnx')).toHaveLength(1);
    expect(servers.widgetRequests.filter((path) => path.startsWith('/assets/custom.worker'))).toHaveLength(1);
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatch(/^blob:/);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  test("in Spanish the customer sees only Spanish: an empty message, an answer with the bank's names, a load failure", async () => {
    const { page } = await openPortal();
    await page.locator('#portal-status', { hasText: 'ready' }).waitFor();
    const widget = page.locator('banking-intent-widget').first();
    await widget.evaluate((host, strings) => {
      const element = host as BankingIntentWidget;
      element.strings = strings;
      element.intentLabels = { lost_or_stolen_card: 'Tarjeta perdida o robada' };
      element.actions = { lost_or_stolen_card: { label: 'Bloquear su tarjeta', href: '/cards/block' } };
    }, SPANISH);
    const status = widget.getByRole('status');

    await widget.getByRole('button', { name: 'Clasificar', exact: true }).click();
    expect(await status.textContent()).toBe('Lo sentimos: Escriba su pregunta primero.');

    const result = page.evaluate(
      () =>
        new Promise<{ intent: string; label: string }>((done) =>
          document.addEventListener(
            'banking-intent:result',
            (event) => {
              const { intent, label } = (event as CustomEvent<{ intent: string; label: string }>).detail;
              done({ intent, label });
            },
            { once: true },
          ),
        ),
    );
    await widget.getByRole('textbox', { name: 'Mensaje', exact: true }).fill('my card got stolen');
    await widget.getByRole('button', { name: 'Clasificar', exact: true }).click();
    expect(await result).toEqual({ intent: 'lost_or_stolen_card', label: 'Tarjeta perdida o robada' });
    await status.locator('[part=intent]').waitFor();
    expect(await status.textContent()).toMatch(/^Tema: Tarjeta perdida o robada \(\d+ %\)Sugerido: Bloquear su tarjeta$/);

    // A widget whose model folder is not there: the customer reads Spanish; with `debug`, the
    // bank's developer also reads what to check; the event carries the technical reason.
    const failures = await page.evaluate(
      async ({ strings, base }) => {
        const errors: { code: string; message: string }[] = [];
        document.addEventListener('banking-intent:error', (event) =>
          errors.push((event as CustomEvent<{ code: string; message: string }>).detail),
        );
        const texts: string[] = [];
        for (const debug of [false, true]) {
          const element = document.createElement('banking-intent-widget');
          element.setAttribute('models-base', base);
          if (debug) element.setAttribute('debug', '');
          element.strings = strings;
          document.body.append(element);
          const answer = element.shadowRoot!.querySelector('[role=status]')!;
          for (let i = 0; i < 600 && !answer.querySelector('[part=error]'); i++) await new Promise((r) => setTimeout(r, 50));
          texts.push([...answer.children].map((child) => child.textContent).join(' | '));
        }
        return { texts, errors };
      },
      { strings: SPANISH, base: `${servers.widgetOrigin}/missing-folder/` },
    );
    expect(failures.texts[0]).toBe('Lo sentimos: El asistente no está disponible ahora mismo.');
    expect(failures.texts[1]).toMatch(/^Lo sentimos: El asistente no está disponible ahora mismo\. \| The widget could not load its model/);
    expect(failures.texts[1]).toContain('Access-Control-Allow-Origin');
    expect(failures.errors.length).toBeGreaterThanOrEqual(2);
    expect(failures.errors[0]!.message).not.toBe('');
    await page.context().close();
  });

  test('keyboard only: Tab to the box, type, Enter; the answer is announced in a polite live region', async () => {
    const { page, problems } = await openPortal();
    let focused = '';
    for (let presses = 0; presses < 10 && focused !== 'message'; presses++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.querySelector('banking-intent-widget')?.shadowRoot?.activeElement?.id ?? '');
    }
    expect(focused).toBe('message');
    await page.keyboard.type('my card got stolen');
    await page.keyboard.press('Enter');
    const live = page.locator('banking-intent-widget [aria-live="polite"]');
    await live.locator('[part=intent]').waitFor();
    expect(await live.getAttribute('role')).toBe('status');
    expect(await live.textContent(), problems.join('\n')).toContain('lost or stolen card');
    await page.context().close();
  });
});
