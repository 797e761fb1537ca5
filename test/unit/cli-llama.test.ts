/**
 * `npm run classify` and `npm run eval` with `--model llama-qlora`, as a user runs them (child
 * processes), on the bundled folder public/models/llama-qlora (transformers.js, device cpu). The
 * bundled Llama is retrained from time to time, so its answers are not asserted: only that each
 * is a Banking77 label, with the fields and the shape the custom model's output has.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BANKING77_LABELS, OUT_OF_SCOPE } from '../../src/core/labels';

const run = promisify(execFile);
const MESSAGE = "I still haven't got my new card";

type Failed = { code: number; stdout: string; stderr: string };
const tsx = (script: string, args: string[]) => run('npx', ['tsx', script, ...args]);
const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

let empty: string;

beforeAll(async () => {
  empty = await mkdtemp(join(tmpdir(), 'no-llama-'));
});
afterAll(async () => {
  await rm(empty, { recursive: true, force: true });
});

describe('npm run classify -- --model llama-qlora', () => {
  it('answers with a Banking77 label, on the cpu, in the same JSON shape as custom', async () => {
    const [line] = jsonLines((await tsx('scripts/classify.ts', ['--json', '--model', 'llama-qlora', MESSAGE])).stdout);
    expect(line).toMatchObject({ model: 'llama-qlora', device: 'cpu', truncated: false, fallback_from: [], masked: false });
    expect(BANKING77_LABELS).toContain(line!.intent);
    const [custom] = jsonLines((await tsx('scripts/classify.ts', ['--json', '--model', 'custom', MESSAGE])).stdout);
    expect(Object.keys(line!).sort()).toEqual(Object.keys(custom!).sort());

    const top = line!.top as { intent: string; score: number }[];
    expect(top).toHaveLength(5);
    expect(top[0]!.intent).toBe(line!.intent);
    expect(top[0]!.score).toBe(line!.confidence);
    for (const entry of top) expect(BANKING77_LABELS).toContain(entry.intent);
    for (let i = 1; i < top.length; i++) expect(top[i]!.score).toBeLessThanOrEqual(top[i - 1]!.score);
    expect(line!.confidence).toBeGreaterThan(0);
    expect(line!.confidence).toBeLessThanOrEqual(1);
    expect(line!.latency_ms).toBeGreaterThan(0);
  });

  it('a --llama-dir without the model fails with one line naming the missing file, exit 1', async () => {
    const missing = join(empty, 'llama-qlora');
    const error = (await tsx('scripts/classify.ts', ['--model', 'llama-qlora', '--llama-dir', missing, MESSAGE]).catch(
      (e: Failed) => e,
    )) as Failed;
    expect(error.code).toBe(1);
    const lines = error.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: .*llama-qlora: Model file classifier\.json is missing/);
    expect(lines[0]).toContain(join(missing, 'classifier.json'));
  });

  it('with --fallback custom, a missing Llama folder leaves the answer to custom, listing llama-qlora', async () => {
    const args = ['--json', '--model', 'llama-qlora', '--llama-dir', join(empty, 'nothing'), '--fallback', 'custom', MESSAGE];
    const [line] = jsonLines((await tsx('scripts/classify.ts', args)).stdout);
    expect(line).toMatchObject({ model: 'custom', device: 'cpu', fallback_from: ['llama-qlora'] });
  });
});

describe('npm run eval -- --model llama-qlora', () => {
  it('reports accuracy and p50/p95/p99 latency in the same JSON shape as custom (no batched throughput)', async () => {
    // The report in words, then (--json) one JSON object on the last line.
    const parse = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    const llama = parse((await tsx('scripts/eval.ts', ['--model', 'llama-qlora', '--limit', '6', '--json'])).stdout);
    expect(llama).toMatchObject({ model: 'llama-qlora', device: 'cpu', n: 6 });
    for (const key of ['accuracy', 'macro_f1', 'ece', 'p50_ms', 'p95_ms', 'p99_ms', 'mean_ms'])
      expect(llama[key]).toEqual(expect.any(Number));
    expect(llama.accuracy as number).toBeGreaterThanOrEqual(0);
    expect(llama.accuracy as number).toBeLessThanOrEqual(1);
    expect(llama.p50_ms as number).toBeGreaterThan(0);
    expect(llama.p50_ms as number).toBeLessThanOrEqual(llama.p99_ms as number);
    for (const label of Object.keys(llama.per_intent_f1 as object)) expect([...BANKING77_LABELS, OUT_OF_SCOPE]).toContain(label);

    const custom = parse((await tsx('scripts/eval.ts', ['--model', 'custom', '--limit', '6', '--json'])).stdout);
    const batched = ['batched_qps', 'batch_size'];
    expect(Object.keys(llama).sort()).toEqual(
      Object.keys(custom)
        .filter((key) => !batched.includes(key))
        .sort(),
    );
  });

  it("refuses the custom model's --model-dir for the Llama, saying to use --llama-dir", async () => {
    const error = (await tsx('scripts/eval.ts', ['--model', 'llama-qlora', '--model-dir', empty, '--limit', '1']).catch(
      (e: Failed) => e,
    )) as Failed;
    expect(error.code).toBe(1);
    expect(error.stderr).toContain("error: --model-dir is the custom model's folder: pass the Llama's as --llama-dir");
  });
});
