/**
 * Every command-line entry point as a user starts it (`tsx scripts/X.ts`, what `npm run X` runs):
 * `--help` and `-h` print the usage, the options with their defaults and an example, exit 0; an
 * unknown option exits 2 with one line naming it (and the nearest valid one); a bad value exits 2
 * naming the option. None of these loads a model, so each takes a second or two.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

type Result = { code: number; stdout: string; stderr: string };

async function tsx(script: string, args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await promisify(execFile)(TSX, [script, ...args], { cwd: ROOT, env: { ...process.env, CI: '1' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `npm run NAME` → scripts/X.ts, from package.json: every script run with tsx. */
const NPM_SCRIPTS = Object.entries(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>)
  .map(([name, line]) => [name, /^tsx (scripts\/[\w-]+\.ts)$/.exec(line)?.[1]] as const)
  .filter((entry): entry is readonly [string, string] => entry[1] !== undefined);
const ALL = [...NPM_SCRIPTS, ['(no npm script)', 'scripts/reexport-custom.ts'] as const];

/** Runs `work` over `items`, two at a time (the machines have two cores). */
async function twoAtATime<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all([lane(), lane()]);
  return results;
}

describe('every command: --help', () => {
  it('package.json has the commands the README lists, each a tsx script', () => {
    expect(NPM_SCRIPTS.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'train',
        'eval',
        'classify',
        'bench',
        'bench:node',
        'merge-qlora',
        'verify:llama',
        'train:llama',
        'probe-set',
        'privacy:report',
        'models:manifest',
        'example:widget',
        'docs:widget-screenshot',
      ]),
    );
  });

  it('--help: exit 0, usage, options with defaults, --help itself, an example; nothing on standard error but npm noise', async () => {
    const results = await twoAtATime(ALL, ([, script]) => tsx(script, ['--help']));
    for (const [i, [name, script]] of ALL.entries()) {
      const { code, stdout, stderr } = results[i]!;
      const label = `${name} (${script})`;
      expect(code, `${label}: ${stderr}`).toBe(0);
      expect(stdout, label).toMatch(/^Usage: (npm run [\w:-]+ --|npx tsx scripts\/[\w-]+\.ts) /);
      expect(stdout, label).toMatch(/\nOptions:\n/);
      expect(stdout, label).toContain('-h, --help');
      expect(stdout, label).toMatch(/\nExamples?:\n {2}\S/);
      // Every option that takes a value says its default (or "required").
      const options = stdout.split('\nOptions:\n')[1]!.split('\n\n')[0]!;
      const entries = options.split(/\n(?= {2}-)/);
      expect(entries.length, label).toBeGreaterThan(1);
      for (const entry of entries.filter((e) => /^ {2}(-\w, )?--[\w-]+ \S/.test(e)))
        expect(entry.replace(/\s+/g, ' '), label).toMatch(/\(default: [^)]+\)/);
      if (name !== '(no npm script)') expect(stdout, label).toContain(`npm run ${name}`);
      expect(
        stderr.split('\n').filter((l) => l && !l.startsWith('npm warn')),
        label,
      ).toEqual([]);
    }
  });

  it('-h is --help; help wins over anything else on the line', async () => {
    const short = await tsx('scripts/eval.ts', ['-h']);
    expect(short.code).toBe(0);
    expect(short.stdout).toMatch(/^Usage: npm run eval -- \[options\]/);
    const mixed = await tsx('scripts/train.ts', ['--out', 'public/models/custom', '--help']);
    expect(mixed.code).toBe(0);
    expect(mixed.stdout).toContain('--force');
  });

  it('each option of eval, train and classify with its default', async () => {
    const [evalHelp, trainHelp, classifyHelp] = await Promise.all([
      tsx('scripts/eval.ts', ['--help']),
      tsx('scripts/train.ts', ['--help']),
      tsx('scripts/classify.ts', ['--help']),
    ]);
    expect(evalHelp.stdout).toMatch(/--data FILE +a CSV with columns text,label \(default: data\/banking77\/test\.csv\)/);
    expect(evalHelp.stdout).toMatch(/--limit N +.*stratified by label/);
    expect(evalHelp.stdout).toMatch(/--seed N +seed of the --limit sample \(default: 1\)/);
    expect(trainHelp.stdout).toMatch(/--out DIR +where to write the model \(default: a new folder models\/custom-<date>-<time>\)/);
    expect(trainHelp.stdout).toMatch(/--members N +.*\(default: 5\)/);
    expect(classifyHelp.stdout).toMatch(/--model NAME +[^\n]*\n[^\n]*\(default: custom\)/);
    expect(classifyHelp.stdout).toMatch(/--top K +.*\(default: 5\)/);
    expect(classifyHelp.stdout).toContain('[MESSAGE ...]');
  });
});

describe('every command: usage errors exit 2 with one line', () => {
  it('an unknown option names itself, on every command', async () => {
    const results = await twoAtATime(ALL, ([, script]) => tsx(script, ['--no-such-option-here']));
    for (const [i, [name]] of ALL.entries()) {
      const { code, stdout, stderr } = results[i]!;
      expect(code, `${name}: ${stderr}`).toBe(2);
      const lines = stderr.split('\n').filter((l) => l && !l.startsWith('npm warn'));
      expect(lines, name).toEqual([expect.stringMatching(/^error: Unknown option '--no-such-option-here'\./)]);
      expect(stdout, name).toBe('');
    }
  });

  it('a typo gets the nearest valid option', async () => {
    const cases: [string, string[], string][] = [
      ['scripts/eval.ts', ['--modle', 'custom'], "error: Unknown option '--modle'. Did you mean '--model'?"],
      ['scripts/classify.ts', ['--jsno', 'hello'], "error: Unknown option '--jsno'. Did you mean '--json'?"],
      ['scripts/train.ts', ['--epoch', '3'], "error: Unknown option '--epoch'. Did you mean '--epochs'?"],
      ['scripts/merge-qlora.ts', ['--adaptor=x'], "error: Unknown option '--adaptor'. Did you mean '--adapter'?"],
      ['scripts/bench.ts', ['--round', '2'], "error: Unknown option '--round'. Did you mean '--rounds'?"],
      ['scripts/eval.ts', ['--hepl'], "error: Unknown option '--hepl'. Did you mean '--help'?"],
    ];
    const results = await twoAtATime(cases, ([script, args]) => tsx(script, args));
    for (const [i, [script, args, line]] of cases.entries()) {
      expect(results[i]!.code, `${script} ${args.join(' ')}`).toBe(2);
      expect(results[i]!.stderr.trim().split('\n').at(-1)).toBe(line);
    }
  });

  it('a bad value names the option', async () => {
    const cases: [string, string[], RegExp][] = [
      ['scripts/eval.ts', ['--limit', 'abc'], /^error: --limit must be a positive integer, got "abc"$/],
      ['scripts/eval.ts', ['--model', 'gpt'], /^error: --model must be custom or llama-qlora, got "gpt"$/],
      ['scripts/eval.ts', ['--limit'], /^error: --limit needs a value$/],
      ['scripts/classify.ts', ['--top', '0', 'hello'], /^error: --top must be a positive integer, got "0"$/],
      ['scripts/classify.ts', ['--oos-threshold', '1.5', 'hello'], /^error: --oos-threshold: .*between 0 and 1.*got "1\.5"$/],
      ['scripts/train.ts', ['--weights', 'int4'], /^error: --weights must be int8 or fp32, got "int4"$/],
      ['scripts/bench.ts', ['--device', 'gpu'], /^error: --device must be wasm or webgpu, got "gpu"$/],
      ['scripts/serve-widget-example.ts', ['--port', 'http'], /^error: --port must be a port number \(0-65535\), got "http"$/],
      ['scripts/eval.ts', ['stray'], /^error: Unexpected argument 'stray'/],
    ];
    const results = await twoAtATime(cases, ([script, args]) => tsx(script, args));
    for (const [i, [script, args, line]] of cases.entries()) {
      expect(results[i]!.code, `${script} ${args.join(' ')}: ${results[i]!.stderr}`).toBe(2);
      expect(results[i]!.stderr.trim().split('\n').at(-1)).toMatch(line);
    }
  });

  it('a missing input is one line naming the file, exit 1, no stack', async () => {
    const cases: [string, string[], string][] = [
      ['scripts/eval.ts', ['--data', 'no/such.csv'], 'error: --data no/such.csv does not exist'],
      ['scripts/eval.ts', ['--model-dir', 'no/such/folder'], 'error: --model-dir no/such/folder does not exist'],
      ['scripts/model-manifest.ts', ['--check', 'no/such/folder'], 'error: model folder no/such/folder does not exist'],
      ['scripts/merge-qlora.ts', ['--base', 'no/base', '--adapter', 'a', '--out', 'o'], 'error: --base no/base does not exist'],
    ];
    const results = await twoAtATime(cases, ([script, args]) => tsx(script, args));
    for (const [i, [, , line]] of cases.entries()) {
      expect(results[i]!.code).toBe(1);
      expect(results[i]!.stderr.split('\n').filter((l) => l && !l.startsWith('npm warn'))).toEqual([line]);
    }
  });
});
