/**
 * `eval --limit N` (scripts/lib/sample.ts): a sample stratified by label and seeded, not the first
 * N rows of a file sorted by label.
 */
import { describe, expect, it } from 'vitest';
import { readLabelledCsv } from '../../src/training/data';
import { stratifiedSample } from '../../scripts/lib/sample';

const rows = (counts: Record<string, number>) =>
  Object.entries(counts).flatMap(([label, n]) => Array.from({ length: n }, (_, i) => ({ text: `${label} ${i}`, label })));

describe('stratifiedSample', () => {
  it('each label gets its share of N (largest remainders), the counts reported per label, rows in input order', () => {
    const input = rows({ a: 50, b: 30, c: 20 });
    const { rows: drawn, perLabel } = stratifiedSample(input, 10, 1);
    expect(perLabel).toEqual({ a: 5, b: 3, c: 2 });
    expect(drawn).toHaveLength(10);
    for (const [label, n] of Object.entries(perLabel)) expect(drawn.filter((r) => r.label === label)).toHaveLength(n);
    const positions = drawn.map((r) => input.indexOf(r));
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
    expect(new Set(drawn).size).toBe(10);

    const uneven = stratifiedSample(rows({ a: 7, b: 2, c: 1 }), 5, 3);
    expect(Object.values(uneven.perLabel).reduce((s, n) => s + n, 0)).toBe(5);
    expect(uneven.perLabel.a).toBeGreaterThanOrEqual(3);
  });

  it('seeded: the same seed draws the same rows, another seed others', () => {
    const input = rows({ a: 40, b: 40, c: 40 });
    const texts = (seed: number) => stratifiedSample(input, 12, seed).rows.map((r) => r.text);
    expect(texts(7)).toEqual(texts(7));
    expect(texts(7)).not.toEqual(texts(8));
  });

  it('N at least the rows: every row; N = 0: none', () => {
    const input = rows({ a: 3, b: 2 });
    expect(stratifiedSample(input, 5, 1)).toEqual({ rows: input, perLabel: { a: 3, b: 2 } });
    expect(stratifiedSample(input, 99, 1).rows).toEqual(input);
    expect(stratifiedSample(input, 0, 1)).toEqual({ rows: [], perLabel: {} });
  });

  it('fewer rows than labels: N labels with one row each, which labels decided by the seed', () => {
    const input = rows(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`l${String(i).padStart(2, '0')}`, 5])));
    const first = stratifiedSample(input, 4, 1);
    expect(Object.values(first.perLabel)).toEqual([1, 1, 1, 1]);
    const labelSets = [1, 2, 3, 4, 5].map((seed) => Object.keys(stratifiedSample(input, 4, seed).perLabel).join());
    expect(new Set(labelSets).size).toBeGreaterThan(1);
    // Not simply the first labels of the file.
    expect(labelSets.every((set) => set === 'l00,l01,l02,l03')).toBe(false);
  });

  it('on the Banking77 test split (sorted by label), 300 rows cover all 77 intents, 3-4 each', () => {
    const test = readLabelledCsv('data/banking77/test.csv');
    expect(new Set(test.slice(0, 300).map((r) => r.label)).size).toBeLessThan(10); // what --limit used to evaluate
    const { rows: drawn, perLabel } = stratifiedSample(test, 300, 1);
    expect(drawn).toHaveLength(300);
    expect(Object.keys(perLabel)).toHaveLength(77);
    expect(Math.min(...Object.values(perLabel))).toBeGreaterThanOrEqual(3);
    expect(Math.max(...Object.values(perLabel))).toBeLessThanOrEqual(4);
  });

  it('refuses a size that is not a non-negative integer', () => {
    expect(() => stratifiedSample(rows({ a: 2 }), -1, 1)).toThrow(/non-negative integer/);
    expect(() => stratifiedSample(rows({ a: 2 }), 1.5, 1)).toThrow(/non-negative integer/);
  });
});

describe('npm run eval -- --limit N', () => {
  it('evaluates a stratified, seeded sample and reports its rows per label in the JSON; no progress noise off a terminal', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const run = (seed: string) =>
      promisify(execFile)('node_modules/.bin/tsx', ['scripts/eval.ts', '--limit', '20', '--seed', seed, '--batch-size', '1', '--json']);
    const { stdout, stderr } = await run('2');
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      n: number;
      sample: { limit: number; seed: number; rows: number; per_label: Record<string, number> };
    };
    expect(report.n).toBe(20);
    expect(report.sample).toMatchObject({ limit: 20, seed: 2, rows: 20 });
    expect(Object.keys(report.sample.per_label)).toHaveLength(20); // 20 different intents, not the file's first one or two
    expect(Object.values(report.sample.per_label).every((n) => n === 1)).toBe(true);
    expect(stdout).toMatch(/a sample of 20, stratified over 20 labels, seed 2/);
    expect(stderr.split('\n').filter((l) => l && !l.startsWith('npm warn'))).toEqual([]);
  });
});
