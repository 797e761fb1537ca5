/**
 * Benchmarks in the page: a round every N requests through the site's own form, kept in
 * IndexedDB across reloads, exported as `benchmark_results.jsonl`, kept in memory (and said so)
 * where IndexedDB is blocked, never two rounds at once, and never in a user's way.
 *
 * WASM and the custom model only: a round is then 188 probes of a few ms each. (llama-qlora needs
 * WebGPU, which `?device=wasm` keeps the page off: it is in every round, unavailable.)
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { expect, test } from 'vitest';
import { summarizeAcrossRounds } from '../../src/bench/across-rounds';
import { PROBE_SET } from '../../src/bench/probe-set';
import type { BenchmarkRound } from '../../src/bench/round';
import { DB_NAME, STORE_NAME } from '../../src/bench/store';
import type { BankingIntentAutomation } from '../../src/ui/automation';
import { CARD_MESSAGE, classify, collectConsole, sharedSite } from './harness';

const PAGE = '/?device=wasm&model=custom';
const PROBES = PROBE_SET.n;
const OOS_PROBES = PROBE_SET.items.filter((i) => i.label === 'out_of_scope').length;
const MESSAGES = [
  CARD_MESSAGE,
  'How do I top up my account with a bank transfer?',
  'My card payment was declined at the shop',
  'Why was I charged a fee for withdrawing cash?',
  'I want to change my PIN',
];

let logs: string[] = [];

const shared = sharedSite({ webgpu: false });

async function open(path: string, initScript?: () => void): Promise<Page> {
  const context = await shared.newContext({ serviceWorkers: 'block', acceptDownloads: true });
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  logs = collectConsole(page);
  await page.goto(shared.site.origin + path);
  await page.evaluate(() => window.bankingIntent!.ready);
  return page;
}

/**
 * Sends `count` messages through the page's form, one after another, each answered before the
 * next: the site's own submit handler and pipeline, as if typed and sent with Enter.
 */
async function submitMessages(page: Page, count: number): Promise<void> {
  await page.evaluate(
    async ({ count, messages }) => {
      const form = document.querySelector<HTMLFormElement>('#classify-form')!;
      const box = document.querySelector<HTMLTextAreaElement>('#message')!;
      const result = document.querySelector<HTMLElement>('#result')!;
      const error = document.querySelector<HTMLElement>('#error')!;
      for (let i = 0; i < count; i++) {
        box.value = messages[i % messages.length]!;
        form.requestSubmit(); // clears the previous answer at once
        await new Promise<void>((resolve, reject) => {
          const check = () => {
            if (result.dataset.intent) resolve();
            else if (!error.hidden) reject(new Error(`message ${i + 1}: ${error.textContent}`));
            else setTimeout(check, 1);
          };
          check();
        });
      }
    },
    { count, messages: MESSAGES },
  );
}

/** The rounds as IndexedDB holds them, read with the plain IndexedDB API (not the app's store). */
function readIndexedDb(page: Page): Promise<BenchmarkRound[]> {
  return page.evaluate(
    ({ dbName, storeName }) =>
      new Promise<BenchmarkRound[]>((resolve, reject) => {
        const request = indexedDB.open(dbName);
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const db = request.result;
          const all = db.transaction(storeName, 'readonly').objectStore(storeName).getAll();
          all.onerror = () => reject(all.error);
          all.onsuccess = () => {
            db.close();
            resolve(all.result as BenchmarkRound[]);
          };
        };
      }),
    { dbName: DB_NAME, storeName: STORE_NAME },
  );
}

const storedRounds = (page: Page) => page.evaluate(() => window.bankingIntent!.rounds());
const benchStatus = (page: Page) => page.locator('#bench-status');

/** Waits until no round runs and `count` are stored. */
async function waitForRounds(page: Page, count: number): Promise<void> {
  await expect.poll(async () => (await storedRounds(page)).length, { timeout: 60_000, interval: 250 }).toBe(count);
  await expect.poll(() => benchStatus(page).getAttribute('data-state')).toBe('idle');
}

/** Clicks "Export JSONL" and returns the downloaded file's name and lines. */
async function exportJsonl(page: Page): Promise<{ name: string; lines: string[] }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSONL' }).click()]);
  const text = await readFile((await download.path())!, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return { name: download.suggestedFilename(), lines: text.split('\n').filter((line) => line !== '') };
}

/** Every field of a round record (see src/bench/round.ts), nested ones included. */
function expectRoundRecord(round: BenchmarkRound, trigger: BenchmarkRound['trigger']): void {
  expect(round).toEqual({
    timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    request_count: expect.any(Number),
    trigger,
    probe_set: { id: PROBE_SET.id, n: PROBES, intents: 77 },
    models: {
      custom: expect.any(Object),
      'llama-qlora': expect.any(Object),
      vllm: expect.any(Object),
      gemini: expect.any(Object),
    },
    summary: { fastest_model: 'custom', most_accurate_model: 'custom', recommendation: expect.stringMatching(/^Use custom: /) },
    // The site is served cross-origin isolated (vite.config.ts), so WASM may use threads.
    environment: {
      user_agent: expect.stringContaining('Chrome'),
      webgpu: null,
      hardware_concurrency: expect.any(Number),
      cross_origin_isolated: true,
    },
  });

  const custom = round.models.custom!;
  expect(custom).toEqual({
    status: 'ok',
    device: 'wasm',
    n: PROBES,
    avg_latency_ms: expect.any(Number),
    p50_latency_ms: expect.any(Number),
    p95_latency_ms: expect.any(Number),
    p99_latency_ms: expect.any(Number),
    accuracy: expect.any(Number),
    in_scope_accuracy: expect.any(Number),
    oos_rejected: expect.any(Number),
    in_scope_rejected: expect.any(Number),
    n_in_scope: PROBES - OOS_PROBES,
    n_oos: OOS_PROBES,
    mean_confidence: expect.any(Number),
    errors: 0,
    latencies_ms: expect.any(Array),
    macro_f1: expect.any(Number),
    accuracy_ci95: [expect.any(Number), expect.any(Number)],
    load_ms: expect.any(Number),
    download_bytes: expect.any(Number),
  });
  // Loaded when the page opened (before the round): the worker's load, with the model's bytes.
  expect(custom.load_ms!).toBeGreaterThan(0);
  expect(custom.download_bytes!).toBeGreaterThan(1_000_000);
  expect(custom.accuracy_ci95![0]).toBeLessThan(custom.accuracy!);
  expect(custom.accuracy_ci95![1]).toBeGreaterThan(custom.accuracy!);
  expect(custom.latencies_ms).toHaveLength(PROBES);
  expect(custom.latencies_ms!.every((ms) => typeof ms === 'number' && ms > 0)).toBe(true);
  expect(custom.p50_latency_ms!).toBeLessThanOrEqual(custom.p95_latency_ms!);
  expect(custom.p95_latency_ms!).toBeLessThanOrEqual(custom.p99_latency_ms!);
  // Whether or not this model rejects: in scope it is as good as ever, and a missed rejection costs accuracy over all probes.
  expect(custom.in_scope_accuracy!).toBeGreaterThan(0.8);
  expect(custom.accuracy!).toBeGreaterThan(0.65);
  expect(custom.accuracy!).toBeCloseTo(
    ((PROBES - OOS_PROBES) * custom.in_scope_accuracy! + OOS_PROBES * custom.oos_rejected!) / PROBES,
    12,
  );
  expect(custom.mean_confidence!).toBeGreaterThan(0);
  expect(custom.mean_confidence!).toBeLessThanOrEqual(1);

  // Nothing configures the remote models here, and the Llama cannot run: they are in the record, with the reason.
  for (const id of ['llama-qlora', 'vllm', 'gemini']) {
    expect(round.models[id]).toEqual({
      status: 'unavailable',
      device: null,
      n: 0,
      avg_latency_ms: null,
      p50_latency_ms: null,
      p95_latency_ms: null,
      p99_latency_ms: null,
      accuracy: null,
      in_scope_accuracy: null,
      oos_rejected: null,
      in_scope_rejected: null,
      n_in_scope: 0,
      n_oos: 0,
      mean_confidence: null,
      errors: 0,
      macro_f1: null,
      accuracy_ci95: null,
      load_ms: null,
      download_bytes: null,
      reason: expect.stringMatching(/\S/),
    });
  }
}

test('120 requests through the site give exactly 2 rounds, kept in IndexedDB across a reload and exported as JSONL', async () => {
  const page = await open(PAGE);
  await expect.poll(() => benchStatus(page).textContent()).toBe('0 rounds stored. Next automatic round after 50 more requests.');

  // Two the way a person does it (click, then type and Enter), the rest through the same form.
  await classify(page, CARD_MESSAGE);
  const box = page.getByRole('textbox', { name: 'Message', exact: true });
  await box.fill('');
  await box.pressSequentially('I want to change my PIN');
  await box.press('Enter');
  await page.locator('#result[data-intent]').waitFor();
  await submitMessages(page, 118);

  await waitForRounds(page, 2);
  const stored = await readIndexedDb(page);
  expect(stored, logs.join('\n')).toHaveLength(2);
  expect(stored.map((r) => [r.trigger, r.request_count])).toEqual([
    ['auto', 50],
    ['auto', 100],
  ]);
  for (const round of stored) expectRoundRecord(round, 'auto');
  expect(await page.locator('#bench-warning').isHidden()).toBe(true);

  // The dashboard after a reload: both rounds, the latest as a table, the charts.
  await page.reload();
  await page.evaluate(() => window.bankingIntent!.ready);
  await expect.poll(() => benchStatus(page).textContent()).toMatch(/^2 rounds stored\./);
  expect(await readIndexedDb(page)).toEqual(stored);
  const table = page.locator('#bench-latest table');
  expect(await table.locator('caption').textContent()).toContain('after 100 requests');
  expect(await table.locator('tbody tr[data-model]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-model')))).toEqual([
    'custom',
    'llama-qlora',
    'vllm',
    'gemini',
  ]);
  expect(await table.locator('tr[data-model="custom"] td').first().textContent()).toBe('OK');
  // The two out-of-scope rates and the in-scope accuracy, beside the accuracy over all probes.
  const heads = await table.locator('thead th').allTextContents();
  const cells = ['', ...(await table.locator('tr[data-model="custom"] td').allTextContents())]; // the row's name is a th
  const cell = (head: string) => cells[heads.indexOf(head)];
  const shown = (x: number | null | undefined) => `${(100 * x!).toFixed(1)}%`;
  expect(cell('Accuracy')).toBe(shown(stored[1]!.models.custom!.accuracy));
  expect(cell('In-scope accuracy')).toBe(shown(stored[1]!.models.custom!.in_scope_accuracy));
  expect(cell('Out-of-scope rejected')).toBe(shown(stored[1]!.models.custom!.oos_rejected));
  expect(cell('In-scope rejected')).toBe(shown(stored[1]!.models.custom!.in_scope_rejected));
  expect(await table.locator('tr[data-model="vllm"] td').allTextContents()).toContain('—');
  expect(await page.locator('.bench__recommendation').textContent()).toBe(stored[1]!.summary.recommendation);
  const latest = stored[1]!.models.custom!;
  expect(cell('Macro-F1')).toBe(shown(latest.macro_f1));
  expect(cell('95% interval')).toBe(`${shown(latest.accuracy_ci95![0])}–${shown(latest.accuracy_ci95![1])}`);
  expect(cell('Download')).toMatch(/^\d+\.\d MB$/);

  // The summary across rounds: the medians of the stored rounds, as `npm run bench -- --summary` computes them.
  const across = page.locator('section.bench__across');
  await across.waitFor();
  expect(await across.locator('h3').textContent()).toBe('Summary across rounds');
  const medians = summarizeAcrossRounds(stored).probe_sets[0]!.models.find((m) => m.model === 'custom')!;
  const acrossHeads = await across.locator('thead th').allTextContents();
  const acrossCells = ['', ...(await across.locator('tr[data-model="custom"] td').allTextContents())];
  expect(acrossCells[acrossHeads.indexOf('Rounds')]).toBe('2/2');
  expect(acrossCells[acrossHeads.indexOf('Accuracy')]).toBe(shown(medians.accuracy));
  expect(acrossCells[acrossHeads.indexOf('Macro-F1')]).toBe(shown(medians.macro_f1));
  await page.locator('#bench-charts canvas').first().waitFor();
  expect(await page.locator('#bench-charts .bench-charts__cell[data-model="custom"] canvas').count()).toBe(1);
  expect(await page.locator('#bench-charts canvas').count()).toBe(3);

  const file = await exportJsonl(page);
  expect(file.name).toBe('benchmark_results.jsonl');
  expect(file.lines).toHaveLength(2);
  const exported = file.lines.map((line) => JSON.parse(line) as BenchmarkRound);
  for (const round of exported) expectRoundRecord(round, 'auto');
  expect(exported).toEqual(stored);

  // Importing the same file adds nothing; a broken file is refused with its line numbers.
  const importFile = async (name: string, text: string) => {
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Import JSONL' }).click()]);
    await chooser.setFiles({ name, mimeType: 'application/x-ndjson', buffer: Buffer.from(text) });
  };
  await importFile('benchmark_results.jsonl', file.lines.join('\n') + '\n');
  await expect
    .poll(() => page.locator('#bench-notice').textContent())
    .toBe('Imported 0 new rounds from benchmark_results.jsonl (2 rounds already stored).');
  expect(await readIndexedDb(page)).toHaveLength(2);
  await importFile('broken.jsonl', `${file.lines[0]}\n{"timestamp": 1\n`);
  const error = page.locator('#bench-error');
  await error.waitFor();
  expect(await error.textContent()).toContain('broken.jsonl was not imported');
  expect(await error.locator('li').allTextContents()).toEqual([expect.stringMatching(/^Line 2: not valid JSON/)]);
  expect(await readIndexedDb(page)).toHaveLength(2);
});

test('with IndexedDB blocked the page says results are kept in memory only, and still runs and exports rounds', async () => {
  // What private mode or a storage policy does to a page: every IndexedDB open fails.
  const page = await open(PAGE, () => {
    IDBFactory.prototype.open = () => {
      throw new DOMException('IndexedDB is not available in this test (as in private mode).', 'SecurityError');
    };
  });

  const warning = page.getByRole('alert').filter({ hasText: 'Benchmark results are kept in memory only' });
  await warning.waitFor();
  expect(await warning.textContent()).toMatch(/^Not saved on this device: .*SecurityError.*kept in memory only.*Export them as JSONL/);

  await page.getByRole('button', { name: 'Run benchmark now' }).click();
  await expect
    .poll(() => benchStatus(page).textContent())
    .toMatch(new RegExp(`^Running a manual benchmark round: (starting…|custom \\d+/${PROBES})`));
  await waitForRounds(page, 1);
  expect(await benchStatus(page).textContent()).toMatch(/^1 round stored\./);
  expect(await warning.isVisible()).toBe(true);

  const file = await exportJsonl(page);
  expect(file.name).toBe('benchmark_results.jsonl');
  expect(file.lines, logs.join('\n')).toHaveLength(1);
  const round = JSON.parse(file.lines[0]!) as BenchmarkRound;
  expectRoundRecord(round, 'manual');
  expect(round.request_count).toBe(0);
});

test('rounds never overlap, however many triggers arrive, and a user request is answered before the running round ends', async () => {
  const page = await open(PAGE + '&bench=5');
  expect(await page.getByRole('spinbutton', { name: 'Run every' }).inputValue()).toBe('5');

  // Every round start and end, seen through the automation API.
  await page.evaluate(() => {
    const api: BankingIntentAutomation = window.bankingIntent!;
    const log = { active: 0, max: 0, starts: [] as number[], ends: [] as number[], errors: [] as string[] };
    (window as unknown as { benchLog: typeof log }).benchLog = log;
    api.on('round-start', () => {
      log.active++;
      log.max = Math.max(log.max, log.active);
      log.starts.push(performance.now());
    });
    api.on('round', () => {
      log.active--;
      log.ends.push(performance.now());
    });
    api.on('round-error', ({ error, round }) => {
      if (round) return; // finished (and reported by `round`) but not stored
      log.active--;
      log.ends.push(performance.now());
      log.errors.push(String(error));
    });
  });

  // 40 requests trigger a round 8 times, and "Run benchmark now" is pressed while one runs.
  await submitMessages(page, 40);
  await expect.poll(() => benchStatus(page).getAttribute('data-state')).toBe('running');
  const run = page.getByRole('button', { name: 'Run benchmark now' });
  for (let i = 0; i < 3; i++) await run.click();
  await expect.poll(() => benchStatus(page).textContent()).toMatch(new RegExp(`custom \\d+/${PROBES}`));
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { benchLog: { active: number; starts: number[] } }).benchLog), {
      timeout: 60_000,
    })
    .toMatchObject({ active: 0 });
  await expect.poll(() => benchStatus(page).getAttribute('data-state')).toBe('idle');

  const log = await page.evaluate(
    () => (window as unknown as { benchLog: { max: number; starts: number[]; ends: number[]; errors: string[] } }).benchLog,
  );
  expect(log.errors).toEqual([]);
  expect(log.max).toBe(1);
  expect(log.starts.length).toBeGreaterThanOrEqual(2);
  // A queued round joins the triggers that came after it: 9 triggers, at most one round running and one waiting.
  expect(log.starts.length).toBeLessThanOrEqual(3);
  expect(log.ends).toHaveLength(log.starts.length);
  for (let i = 1; i < log.starts.length; i++) expect(log.starts[i]!).toBeGreaterThanOrEqual(log.ends[i - 1]!);
  const stored = await storedRounds(page);
  expect(stored).toHaveLength(log.starts.length);
  expect(stored.some((round) => round.trigger === 'manual')).toBe(true);

  // A message sent while a round is under way is answered long before the round ends.
  const timing = await page.evaluate(async () => {
    const api = window.bankingIntent!;
    const started = new Promise<void>((resolve) => {
      const off = api.on('round-progress', ({ model, done }) => {
        if (model === 'custom' && done >= 20) {
          off();
          resolve();
        }
      });
    });
    const running = api.runBenchmark({ trigger: 'manual' });
    let roundEnd = 0;
    void running.then(() => (roundEnd = performance.now()));
    await started;

    let progress = 0;
    const offProgress = api.on('round-progress', ({ done }) => (progress = done));
    const form = document.querySelector<HTMLFormElement>('#classify-form')!;
    const result = document.querySelector<HTMLElement>('#result')!;
    document.querySelector<HTMLTextAreaElement>('#message')!.value = 'I lost my card, please block it';
    const issued = performance.now();
    form.requestSubmit();
    while (!result.dataset.intent) await new Promise((resolve) => setTimeout(resolve, 1));
    const answered = performance.now();
    const probesWhenAnswered = progress;
    offProgress();
    await running;
    return { issued, answered, roundEnd, probesWhenAnswered, intent: result.dataset.intent };
  });
  expect(timing.intent).toBeTruthy();
  expect(timing.answered).toBeLessThan(timing.roundEnd);
  expect(timing.probesWhenAnswered).toBeLessThan(PROBES);
  expect(timing.answered - timing.issued).toBeLessThan(timing.roundEnd - timing.issued);
});

test('window.bankingIntent runs a round over the models asked for, stores it and exports it', async () => {
  const page = await open(PAGE + '&bench=0');
  expect(await benchStatus(page).textContent()).toMatch(/Automatic rounds are off\.$/);

  const round = await page.evaluate(() => window.bankingIntent!.runBenchmark({ trigger: 'cli', models: ['custom'] }));
  expect(round.trigger).toBe('cli');
  expect(Object.keys(round.models)).toEqual(['custom']);
  expect(round.models.custom).toMatchObject({ status: 'ok', device: 'wasm', n: PROBES });

  const unknown = await page.evaluate(() =>
    window.bankingIntent!.runBenchmark({ models: ['custom', 'gpt'] }).then(
      () => 'resolved',
      (error: Error) => error.message,
    ),
  );
  expect(unknown).toMatch(/unknown model "gpt".*custom, llama-qlora, vllm, gemini/);

  expect(await storedRounds(page)).toEqual([round]);
  expect(await readIndexedDb(page)).toEqual([round]);
  expect(await page.evaluate(() => window.bankingIntent!.exportJsonl())).toBe(JSON.stringify(round) + '\n');
  await expect.poll(() => benchStatus(page).textContent()).toMatch(/^1 round stored\./);
  expect(await page.locator('#bench-latest caption').textContent()).toContain(': cli, after 0 requests');
});
