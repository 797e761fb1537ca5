/**
 * The command-line machinery (scripts/lib/cli.ts, progress.ts, browser.ts), in process: one
 * definition gives the parser and the help; an unknown option is named with the nearest valid one;
 * progress stays quiet off a terminal; the browser is found the way a developer's machine has one.
 */
import { describe, expect, it, vi } from 'vitest';
import { findChromium, NO_CHROMIUM } from '../../scripts/lib/browser';
import { CliExit, defineCommand, editDistance, nearestName, positiveInt, UsageError, unknownOptionMessage } from '../../scripts/lib/cli';
import { formatDuration, progressMode, startProgress } from '../../scripts/lib/progress';

const command = defineCommand({
  command: 'npm run demo --',
  summary: 'A demo command.',
  positionals: { usage: '[TEXT ...]', description: 'texts' },
  options: {
    model: { type: 'string', default: 'custom', choices: ['custom', 'llama-qlora'], description: 'the model' },
    limit: { type: 'string', value: 'N', defaultText: 'every row', description: 'how many rows' },
    json: { type: 'boolean', default: false, description: 'JSON out' },
    step: { type: 'string', hidden: true, description: 'internal' },
  },
  examples: ['npm run demo -- --limit 3'],
});

describe('defineCommand', () => {
  it('parses values, defaults and positionals', () => {
    const { values, positionals } = command.parse(['--limit', '3', 'hello', '--json', 'world']);
    expect(values).toMatchObject({ model: 'custom', limit: '3', json: true });
    expect(positionals).toEqual(['hello', 'world']);
    expect(command.parse([]).values.limit).toBeUndefined();
  });

  it('the help comes from the same definition: every visible option with its default, and an example', () => {
    const help = command.help();
    expect(help).toMatch(/^Usage: npm run demo -- \[options\] \[TEXT \.\.\.\]\n/);
    expect(help).toMatch(/--model custom\|llama-qlora +the model \(default: custom\)/);
    expect(help).toMatch(/--limit N +how many rows \(default: every row\)/);
    expect(help).toMatch(/--json +JSON out\n/);
    expect(help).toMatch(/-h, --help +show this help and exit/);
    expect(help).toContain('Example:\n  npm run demo -- --limit 3');
    expect(help).not.toContain('--step');
  });

  it('--help and -h print the help and exit 0 (CliExit), unless after --', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      for (const args of [['--help'], ['-h'], ['--limit', 'x', '--help']]) {
        expect(() => command.parse(args)).toThrow(CliExit);
        expect(
          (() => {
            try {
              command.parse(args);
            } catch (error) {
              return (error as CliExit).code;
            }
          })(),
        ).toBe(0);
      }
      expect(write).toHaveBeenCalledWith(command.help());
    } finally {
      write.mockRestore();
    }
    expect(command.parse(['--', '--help']).positionals).toEqual(['--help']);
  });

  it('usage errors are UsageErrors with one line naming the option', () => {
    const message = (args: string[]) => {
      try {
        command.parse(args);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error('no error');
    };
    expect(message(['--modle', 'x'])).toBe("Unknown option '--modle'. Did you mean '--model'?");
    expect(message(['--lmit=3'])).toBe("Unknown option '--lmit'. Did you mean '--limit'?");
    expect(message(['--stpe', 'x'])).toBe("Unknown option '--stpe'. Run with --help to see the options."); // hidden: never suggested
    expect(message(['-x'])).toBe("Unknown option '-x'. Run with --help to see the options.");
    expect(message(['--model', 'gpt'])).toBe('--model must be custom or llama-qlora, got "gpt"');
    expect(message(['--limit'])).toBe('--limit needs a value');
    expect(message(['--json=yes'])).toBe('--json is a switch and takes no value');
    expect(() => positiveInt('0', 'limit', 1)).toThrow(new UsageError('--limit must be a positive integer, got "0"'));
    expect(() => positiveInt('', 'limit', 1)).toThrow(UsageError);
    expect(positiveInt(undefined, 'limit', 7)).toBe(7);
  });

  it('a command without positionals refuses a stray argument', () => {
    const flagsOnly = defineCommand({ command: 'npm run x --', summary: 'x', options: {}, examples: ['npm run x'] });
    expect(() => flagsOnly.parse(['oops'])).toThrow(/Unexpected argument 'oops': npm run x takes only options/);
  });
});

describe('the nearest option', () => {
  it('edit distance counts a swap of neighbours as one edit', () => {
    expect(editDistance('model', 'model')).toBe(0);
    expect(editDistance('modle', 'model')).toBe(1);
    expect(editDistance('mdel', 'model')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests typos and prefixes, not unrelated words', () => {
    const names = ['model', 'model-dir', 'limit', 'json', 'oos-threshold', 'help'];
    expect(nearestName('modle', names)).toBe('model');
    expect(nearestName('oos-treshold', names)).toBe('oos-threshold');
    expect(nearestName('jsno', names)).toBe('json');
    expect(nearestName('model-d', names)).toBe('model-dir');
    expect(nearestName('banana', names)).toBeUndefined();
    expect(unknownOptionMessage('--hlep', {})).toBe("Unknown option '--hlep'. Did you mean '--help'?");
  });
});

describe('progress', () => {
  it('is a bar only on a terminal; BANKING_INTENT_PROGRESS overrides', () => {
    expect(progressMode({ BANKING_INTENT_PROGRESS: 'off' })).toBe('off');
    expect(progressMode({ BANKING_INTENT_PROGRESS: 'lines' })).toBe('lines');
    expect(progressMode({})).toBe(process.stdout.isTTY && process.stderr.isTTY ? 'bar' : 'lines');
    expect(progressMode({ CI: '1' })).toBe('lines');
    expect(progressMode({ TERM: 'dumb' })).toBe('lines');
  });

  it('off a terminal, short work prints nothing; long work a plain line with the time left', () => {
    vi.stubEnv('BANKING_INTENT_PROGRESS', 'lines'); // as when the output is a pipe or a file
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const quick = startProgress({ title: 'eval', total: 100, unit: 'rows' });
      for (let i = 0; i < 100; i++) quick.increment();
      quick.stop();
      expect(stderr).not.toHaveBeenCalled();

      const slow = startProgress({ title: 'train', total: 10, unit: 'epochs', quietEveryMs: 0 });
      slow.update(5);
      slow.log('a log line');
      slow.stop();
      slow.increment();
      expect(stderr).toHaveBeenCalledTimes(1);
      expect(String(stderr.mock.calls[0]![0])).toMatch(/^train: 5\/10 epochs \(50%\), \d+ s elapsed, about \d+ s left\n$/);
      expect(stdout).toHaveBeenCalledWith('a log line\n');
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
      vi.unstubAllEnvs();
    }
  });

  it('durations read as people write them', () => {
    expect(formatDuration(12.4)).toBe('12 s');
    expect(formatDuration(245)).toBe('4 min 05 s');
    expect(formatDuration(3720)).toBe('1 h 02 min');
    expect(formatDuration(Number.NaN)).toBe('?');
  });
});

describe('finding a browser', () => {
  const only =
    (...paths: string[]) =>
    (path: string) =>
      paths.includes(path);

  it('CHROMIUM_PATH first; one that does not exist is an error naming it', () => {
    expect(findChromium({ CHROMIUM_PATH: '/opt/c/chrome' }, only('/opt/c/chrome', '/usr/bin/chromium'))).toEqual({
      executablePath: '/opt/c/chrome',
      source: 'CHROMIUM_PATH',
    });
    expect(() => findChromium({ CHROMIUM_PATH: '/nope' }, only('/usr/bin/chromium'))).toThrow(/^CHROMIUM_PATH=\/nope does not exist/);
  });

  it.runIf(process.platform === 'linux')("then Debian's chromium, an installed Chrome or Edge (channels), Playwright's own", () => {
    expect(findChromium({}, only('/usr/bin/chromium', '/opt/google/chrome/chrome'))).toMatchObject({ executablePath: '/usr/bin/chromium' });
    expect(findChromium({}, only('/opt/google/chrome/chrome', '/opt/microsoft/msedge/msedge'))).toEqual({
      channel: 'chrome',
      source: 'Google Chrome',
    });
    expect(findChromium({}, only('/opt/microsoft/msedge/msedge'))).toMatchObject({ channel: 'msedge' });
    expect(findChromium({}, (path) => path.includes('ms-playwright'))).toEqual({ source: "Playwright's Chromium" });
    expect(findChromium({}, () => false)).toBeUndefined();
  });

  it('with none, one line says how to get one', () => {
    expect(NO_CHROMIUM).not.toContain('\n');
    expect(NO_CHROMIUM).toMatch(/apt-get install chromium/);
    expect(NO_CHROMIUM).toMatch(/npx playwright install chromium/);
    expect(NO_CHROMIUM).toMatch(/CHROMIUM_PATH/);
  });
});
