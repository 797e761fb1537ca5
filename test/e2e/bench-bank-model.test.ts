/**
 * A bank retrains the model on its own intents and benchmarks it, as the README says: a CSV of 6
 * intents (made here from Banking77 rows under the bank's own names, plus its own out-of-scope
 * examples), `npm run train` with a tiny configuration, then `npm run bench -- --model-dir DIR`
 * in Chromium. The round probes those 6 intents from the model's own probe-set.json and reports a
 * sensible accuracy; without that file it refuses, saying why; never the Banking77 probe set.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseJsonl } from '../../src/bench/jsonl';
import { probeIntents } from '../../src/bench/probe-choice';
import { PROBE_SET, type ProbeSet } from '../../src/bench/probe-set';
import { OUT_OF_SCOPE } from '../../src/core/labels';
import { readLabelledCsv } from '../../src/training/data';

const ROOT = join(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const scratch = mkdtempSync(join(tmpdir(), 'bench-bank-'));
const MODEL = join(scratch, 'my-bank');

/** The bank's intents, and the Banking77 intent whose rows stand in for each. */
const INTENTS: Record<string, string> = {
  card_arrival: 'card_delivery',
  lost_or_stolen_card: 'lost_card',
  top_up_failed: 'top_up_problem',
  exchange_rate: 'fx_rate',
  pin_blocked: 'pin_locked',
  cash_withdrawal_charge: 'atm_fee',
};
const BANK_INTENTS = Object.values(INTENTS).sort();

type Run = { code: number; stdout: string; stderr: string };

async function tsx(script: string, args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(TSX, [script, ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  // 60 rows per intent, and 60 of the bank's own out-of-scope examples (weather, alarms, music).
  const csv = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const byIntent = new Map<string, string[]>();
  for (const { text, label } of readLabelledCsv(join(ROOT, 'data/banking77/train.csv'))) {
    if (INTENTS[label]) byIntent.set(label, [...(byIntent.get(label) ?? []), text]);
  }
  const lines = [...byIntent].flatMap(([label, texts]) => texts.slice(0, 60).map((text) => `${csv(text)},${INTENTS[label]}`));
  const other = readLabelledCsv(join(ROOT, 'data/hwu64/utterances.csv')).filter((r) =>
    ['weather_query', 'alarm_set', 'play_music'].includes(r.label),
  );
  for (const label of ['weather_query', 'alarm_set', 'play_music'])
    for (const { text } of other.filter((r) => r.label === label).slice(0, 20)) lines.push(`${csv(text)},${OUT_OF_SCOPE}`);
  const data = join(scratch, 'my-intents.csv');
  writeFileSync(data, `text,label\n${lines.join('\n')}\n`);

  const started = performance.now();
  const train = await tsx('scripts/train.ts', [
    ...['--data', data, '--out', MODEL, '--cache-dir', join(scratch, 'cache')],
    ...['--members', '1', '--epochs', '5', '--vocab-size', '400', '--parallel', '1', '--no-negatives'],
  ]);
  expect(train.code, train.stderr).toBe(0);
  expect(performance.now() - started).toBeLessThan(120_000);
}, 300_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test('training writes the model’s own probe set, drawn from its held-out rows', () => {
  const config = JSON.parse(readFileSync(join(MODEL, 'config.json'), 'utf8')) as { labels: string[] };
  expect([...config.labels].sort()).toEqual([...BANK_INTENTS, OUT_OF_SCOPE].sort());
  const set = JSON.parse(readFileSync(join(MODEL, 'probe-set.json'), 'utf8')) as ProbeSet;
  expect(set.id).toMatch(/^heldout-6-intents-[0-9a-f]{12}$/);
  expect(probeIntents(set)).toEqual(BANK_INTENTS);
  expect(set.items.some((i) => i.label === OUT_OF_SCOPE)).toBe(true);
  // Never a text it trained on: the validation split's rows, 6 per intent (10% of 60).
  expect(set.items.filter((i) => i.label === 'lost_card')).toHaveLength(6);
  expect(set.source).toContain('validation split');
});

test('npm run bench -- --model-dir: the round probes the 6 intents and reports a sensible accuracy, never the Banking77 probes', async () => {
  const out = join(scratch, 'rounds.jsonl');
  const bench = await tsx('scripts/bench.ts', ['--model-dir', MODEL, '--models', 'custom', '--rounds', '2', '--out', out, '--no-peer']);
  expect(bench.code, bench.stderr).toBe(0);
  const own = JSON.parse(readFileSync(join(MODEL, 'probe-set.json'), 'utf8')) as ProbeSet;
  const rounds = parseJsonl(readFileSync(out, 'utf8'));
  expect(rounds).toHaveLength(2);
  for (const round of rounds) {
    expect(round.probe_set).toEqual({ id: own.id, n: own.n, intents: 6 });
    expect(round.probe_set.id).not.toBe(PROBE_SET.id);
    const custom = round.models.custom!;
    expect(custom).toMatchObject({ status: 'ok', device: 'wasm', n: own.n, errors: 0 });
    expect(custom.in_scope_accuracy!).toBeGreaterThan(0.6);
    expect(custom.accuracy!).toBeGreaterThan(0.5);
    expect(custom.macro_f1!).toBeGreaterThan(0.4);
    expect(custom.accuracy_ci95![0]).toBeLessThanOrEqual(custom.accuracy!);
    expect(custom.accuracy_ci95![1]).toBeGreaterThanOrEqual(custom.accuracy!);
    // 36 in-scope probes: the interval is wide, and the record says so.
    expect(custom.accuracy_ci95![1] - custom.accuracy_ci95![0]).toBeGreaterThan(0.1);
    expect(custom.load_ms!).toBeGreaterThan(0);
    expect(custom.download_bytes!).toBeGreaterThan(100_000);
  }
  expect(bench.stdout).toMatch(new RegExp(`probe set ${own.id} \\(${own.n} queries, 6 intents\\)`));
  expect(bench.stdout).toMatch(/model +status +device +n +accuracy .* +errors +95% interval +macro-F1 +load ms +download/);
  expect(bench.stdout).toContain('Summary across the last 2 rounds');

  const summary = await tsx('scripts/bench.ts', ['--summary', out, '--last', '5']);
  expect(summary.code, summary.stderr).toBe(0);
  expect(summary.stdout).toMatch(/^Summary across the last 2 rounds \(of 5 asked for\)/);
  expect(summary.stdout).toContain(`probe set ${own.id} (${own.n} queries), 2 rounds`);
  expect(summary.stdout).toMatch(/\ncustom +2\/2 +\d+\.\d% +\d+\.\d-\d+\.\d%/);
}, 300_000);

test('without its probe-set.json the round is refused with a message naming the mismatch', async () => {
  const bare = join(scratch, 'my-bank-without-probes');
  cpSync(MODEL, bare, { recursive: true });
  rmSync(join(bare, 'probe-set.json'));
  expect(existsSync(join(bare, 'manifest.json'))).toBe(true); // the folder still loads: the manifest does not cover the probe set
  const out = join(scratch, 'refused.jsonl');
  const bench = await tsx('scripts/bench.ts', ['--model-dir', bare, '--models', 'custom', '--out', out, '--no-peer']);
  expect(bench.code).toBe(1);
  const lines = bench.stderr.split('\n').filter((l) => l.startsWith('error: '));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    /^error: Cannot benchmark custom on the Banking77 probe set \(b77-test-2x77-oos-[0-9a-f]{12}\): custom has 6 intents/,
  );
  expect(lines[0]).toContain(BANK_INTENTS.join(', '));
  expect(lines[0]).toContain('no probe-set.json of its own');
  expect(lines[0]).toContain('npm run probe-set -- --model-dir DIR --data HELD-OUT.csv');

  // The fix the message names: a probe set drawn from a CSV of the bank's rows (here some of its
  // training rows, which the command cannot tell: a real one holds rows kept out of training).
  const heldOut = join(scratch, 'held-out.csv');
  const rows = readFileSync(join(scratch, 'my-intents.csv'), 'utf8').trim().split('\n');
  writeFileSync(
    heldOut,
    `${rows[0]}\n${rows
      .slice(1)
      .filter((_, i) => i % 5 === 0)
      .join('\n')}\n`,
  );
  const made = await tsx('scripts/make-probe-set.ts', ['--model-dir', bare, '--data', heldOut]);
  expect(made.code, made.stderr).toBe(0);
  const set = JSON.parse(readFileSync(join(bare, 'probe-set.json'), 'utf8')) as ProbeSet;
  expect(probeIntents(set)).toEqual(BANK_INTENTS);
}, 300_000);
