/**
 * `npm run train` never replaces the bundled model by accident: without --force it refuses
 * public/models/custom (or any folder already holding a model) before any training starts, and
 * it checks its input files first, each named in one line.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const BUNDLED = join(ROOT, 'public/models/custom');
const scratch = mkdtempSync(join(tmpdir(), 'cli-train-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Result = { code: number; stdout: string; stderr: string; ms: number };

async function train(args: string[]): Promise<Result> {
  const started = performance.now();
  try {
    const { stdout, stderr } = await promisify(execFile)(TSX, ['scripts/train.ts', ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr, ms: performance.now() - started };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, ms: performance.now() - started };
  }
}

const snapshot = (dir: string) =>
  readdirSync(dir)
    .sort()
    .map((file) => `${file} ${statSync(join(dir, file)).size} ${statSync(join(dir, file)).mtimeMs}`);

const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l && !l.startsWith('npm warn'));

describe('npm run train: the bundled model is safe', () => {
  it('--out public/models/custom without --force: refused at once, exit 2, nothing trained or written', async () => {
    const before = snapshot(BUNDLED);
    for (const out of ['public/models/custom', './public/models/custom/', BUNDLED]) {
      // A cache folder of its own: a run that started training would create it.
      const cache = join(scratch, `cache-${out.length}`);
      const result = await train(['--out', out, '--cache-dir', cache, '--members', '1', '--epochs', '1']);
      expect(result.code, result.stderr).toBe(2);
      expect(errorLines(result.stderr)).toEqual([
        'error: refusing to overwrite the bundled model in public/models/custom: pass --force to replace it, or write elsewhere with --out DIR',
      ]);
      expect(result.stdout).toBe(''); // not even "training into ..."
      expect(() => statSync(cache)).toThrow();
      expect(result.ms).toBeLessThan(30_000);
    }
    expect(snapshot(BUNDLED)).toEqual(before);
  });

  it('another folder that holds a model is refused without --force too', async () => {
    const existing = join(scratch, 'existing');
    mkdirSync(existing);
    writeFileSync(join(existing, 'config.json'), '{}');
    const result = await train(['--out', existing, '--cache-dir', join(scratch, 'cache-existing')]);
    expect(result.code).toBe(2);
    expect(errorLines(result.stderr)).toEqual([
      `error: ${existing} already holds a model: pass --force to replace it, or choose another --out`,
    ]);
  });

  it('a missing --data or --test is one line naming the file, before training', async () => {
    const missing = await train(['--data', join(scratch, 'nope.csv'), '--out', join(scratch, 'out')]);
    expect(missing.code).toBe(1);
    expect(errorLines(missing.stderr)).toEqual([`error: --data ${join(scratch, 'nope.csv')} does not exist`]);
    const test = await train(['--test', join(scratch, 'nope-test.csv'), '--out', join(scratch, 'out')]);
    expect(test.code).toBe(1);
    expect(errorLines(test.stderr)).toEqual([`error: --test ${join(scratch, 'nope-test.csv')} does not exist`]);
  });
});
