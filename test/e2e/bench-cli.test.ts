/**
 * `npm run bench` as a user runs it: serves the built site, drives it in Chromium, and writes the
 * browser's round records as JSONL. (The peer comparison it also runs is covered by flops.test.ts;
 * `--no-peer` keeps this test short.)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { PROBE_SET } from '../../src/bench/probe-set';

const MODEL_FIELDS = [
  'status',
  'device',
  'n',
  'avg_latency_ms',
  'p50_latency_ms',
  'p95_latency_ms',
  'p99_latency_ms',
  'accuracy',
  'in_scope_accuracy',
  'oos_rejected',
  'in_scope_rejected',
  'n_in_scope',
  'n_oos',
  'mean_confidence',
  'errors',
];

test('npm run bench -- --models custom --rounds 2 --single-thread writes 2 browser rounds and prints the table', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'bench-')), 'rounds.jsonl');
  const { stdout } = await promisify(execFile)('npx', [
    'tsx',
    'scripts/bench.ts',
    '--models',
    'custom',
    '--rounds',
    '2',
    '--out',
    out,
    '--no-peer',
    // The site without COOP/COEP, as a host that sends neither serves it: WASM on one thread.
    '--single-thread',
  ]);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(2);
  for (const line of lines) {
    const round = JSON.parse(line) as Record<string, unknown> & {
      models: Record<string, Record<string, unknown>>;
      environment: Record<string, unknown>;
    };
    expect(Object.keys(round)).toEqual(
      expect.arrayContaining(['timestamp', 'request_count', 'trigger', 'probe_set', 'models', 'summary', 'environment']),
    );
    expect(round.trigger).toBe('cli');
    expect(Object.keys(round.models)).toEqual(['custom']);
    expect(Object.keys(round.models.custom!)).toEqual(expect.arrayContaining(MODEL_FIELDS));
    expect(round.models.custom).toMatchObject({ status: 'ok', device: 'wasm', n: PROBE_SET.n, n_oos: 34 });
    expect(round.models.custom!.in_scope_accuracy).toBeGreaterThan(0.85);
    expect(round.environment.user_agent).toMatch(/Chrome/);
    expect(round.environment.cross_origin_isolated).toBe(false);
  }
  expect(stdout).toMatch(/round 1: .*, WASM on one thread \(not cross-origin isolated\)/);
  // The table: status, device, n, accuracy, in-scope accuracy, out-of-scope rejected, in-scope rejected, ...
  expect(stdout).toMatch(/model\s+status\s+device\s+n\s+accuracy\s+in scope\s+oos rejected\s+in-scope rejected\s+mean conf/);
  expect(stdout).toMatch(new RegExp(`custom\\s+ok\\s+wasm\\s+${PROBE_SET.n}(\\s+\\d+\\.\\d%){4}\\s+0\\.\\d{3}`));
  expect(stdout).toMatch(/summary: Use custom: .* custom rejected .* of the 34 out-of-scope probes/);
});

test('npm run bench -- --models llama-qlora on WASM is refused at once, saying how to run it', async () => {
  const error = (await promisify(execFile)('npx', ['tsx', 'scripts/bench.ts', '--models', 'llama-qlora', '--no-peer']).catch(
    (e: unknown) => e,
  )) as { code: number; stderr: string };
  expect(error.code).toBe(1);
  expect(error.stderr).toContain('error: llama-qlora needs WebGPU: add --device webgpu, or --llama-wasm to run it on WebAssembly');
});
