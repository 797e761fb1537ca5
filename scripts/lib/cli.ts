/**
 * What every command-line entry point shares: one definition of its options (`defineCommand`) that
 * gives both the parser and the `--help` text, usage errors that exit 2 with one line (an unknown
 * option names the nearest valid one), one-line errors naming the file for missing or unreadable
 * inputs, and the helpers for numbers, files and standard input.
 *
 *   const command = defineCommand({
 *     command: 'npm run eval --',
 *     summary: 'Accuracy, macro-F1 and latency of a model on a labelled CSV.',
 *     options: { limit: { type: 'string', value: 'N', description: 'a stratified sample of N rows', defaultText: 'every row' } },
 *     examples: ['npm run eval -- --limit 300 --json'],
 *   });
 *   runCli(async () => {
 *     const { values } = command.parse(); // --help prints the help and exits 0
 *   });
 *
 * Exit status: 0 success (and --help), 1 a failure while working, 2 a usage error (an unknown
 * option, a missing or malformed value).
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { toWireError } from '../../src/core/errors';

// ---------------------------------------------------------------------------------------------
// Errors and exit status
// ---------------------------------------------------------------------------------------------

/** A mistake in the command line: printed as one line, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Stops the command with `code` without printing anything more (after --help: 0). */
export class CliExit extends Error {
  override name = 'CliExit';
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Things to stop before the process exits with an error (progress bars, which hold the terminal). */
const cleanups = new Set<() => void>();

/** Registers `cleanup` to run if the command fails; returns a function that unregisters it. */
export function onFailure(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EMFILE: 'too many open files',
};

/** The one line printed for `error` (without the `error: ` prefix). */
export function errorLine(error: unknown): string {
  const errno = error as NodeJS.ErrnoException;
  if (errno && typeof errno.code === 'string' && errno.code in FILE_ERRORS && typeof errno.path === 'string') {
    return `cannot read ${errno.path}: ${FILE_ERRORS[errno.code]}`;
  }
  return toWireError(error).message.replace(/\s*\n\s*/g, ' ');
}

/**
 * Runs `main`. A thrown `UsageError` prints one line and exits 2; any other error prints one line
 * (not a stack; DEBUG=1 adds it) and exits 1; `CliExit` exits with its code.
 */
export function runCli(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    for (const cleanup of cleanups) cleanup();
    if (error instanceof CliExit) process.exit(error.code);
    process.stderr.write(`error: ${errorLine(error)}\n`);
    if (process.env.DEBUG && !(error instanceof UsageError)) console.error(error);
    process.exit(error instanceof UsageError ? 2 : 1);
  });
}

/** `work()`, or its error as one line and exit 1: for a script's top level, outside `runCli`. */
export function orExit<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    process.stderr.write(`error: ${errorLine(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Commands: one definition for the parser and the help
// ---------------------------------------------------------------------------------------------

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** One or two sentences for --help. */
  readonly description: string;
  /** The value when the option is absent (passed to the parser and shown in --help). */
  readonly default?: string | boolean;
  /** What --help says the default is when it is decided at run time ("the model's own"). */
  readonly defaultText?: string;
  /** The value's placeholder in --help: DIR, FILE, N (default VALUE). */
  readonly value?: string;
  /** The only values allowed; anything else is a usage error naming the option. */
  readonly choices?: readonly string[];
  readonly short?: string;
  /** Internal options (a script calling itself): parsed, left out of --help and of suggestions. */
  readonly hidden?: boolean;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type OptionValue<O extends OptionSpec> = O['type'] extends 'boolean' ? boolean : string;

/** The parsed values: an option with a default always has a value, one without may be undefined. */
export type Values<Os extends OptionSpecs> = {
  -readonly [K in keyof Os]: Os[K] extends { readonly default: string | boolean } ? OptionValue<Os[K]> : OptionValue<Os[K]> | undefined;
};

export interface CommandSpec<Os extends OptionSpecs> {
  /** How the user starts it, up to the options: `npm run eval --`, `npx tsx scripts/x.ts`. */
  readonly command: string;
  /** What it does, one paragraph or more (blank lines between paragraphs). */
  readonly summary: string;
  readonly options: Os;
  /** Positional arguments, if any: how they read in the usage line and what they are. */
  readonly positionals?: { readonly usage: string; readonly description: string };
  /** Extra usage lines replacing the default `COMMAND [options] [POSITIONALS]`. */
  readonly usage?: readonly string[];
  /** Paragraphs after the options (environment variables, notes). */
  readonly notes?: readonly string[];
  /** At least one full command line. */
  readonly examples: readonly string[];
}

export interface Command<Os extends OptionSpecs> {
  readonly spec: CommandSpec<Os>;
  /** The --help text. */
  help(): string;
  /**
   * Parses `args` (default: this process's arguments). `--help`/`-h` prints the help and throws
   * `CliExit(0)`; anything wrong throws a `UsageError`.
   */
  parse(args?: readonly string[]): { values: Values<Os>; positionals: string[] };
  /** `parse` for a script's top level, outside `runCli`: prints help or the usage error and exits. */
  parseOrExit(args?: readonly string[]): { values: Values<Os>; positionals: string[] };
}

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help and exit' };

export function defineCommand<const Os extends OptionSpecs>(spec: CommandSpec<Os>): Command<Os> {
  for (const name of Object.keys(spec.options)) {
    if (name === 'help') throw new Error('internal: --help is added to every command');
  }
  return {
    spec,
    help: () => helpText(spec),
    parse(args = process.argv.slice(2)) {
      if (wantsHelp(args)) {
        process.stdout.write(helpText(spec));
        throw new CliExit(0);
      }
      return parseCommand(spec, args);
    },
    parseOrExit(args = process.argv.slice(2)) {
      try {
        return this.parse(args);
      } catch (error) {
        if (error instanceof CliExit) process.exit(error.code);
        process.stderr.write(`error: ${errorLine(error)}\n`);
        process.exit(error instanceof UsageError ? 2 : 1);
      }
    },
  };
}

/** `--help` or `-h` before any `--` (after it, they are messages). */
function wantsHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

function parseCommand<Os extends OptionSpecs>(spec: CommandSpec<Os>, args: readonly string[]) {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}) };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: spec.positionals !== undefined });
  } catch (error) {
    throw usageErrorFromParser(error, spec);
  }
  for (const [name, o] of Object.entries(spec.options)) {
    const value = parsed.values[name];
    if (o.choices && typeof value === 'string' && !o.choices.includes(value)) {
      throw new UsageError(`--${name} must be ${listOr(o.choices)}, got "${value}"`);
    }
  }
  return { values: parsed.values as Values<Os>, positionals: parsed.positionals };
}

/** node:util's parse errors as one line each, an unknown option with the nearest valid one. */
function usageErrorFromParser(error: unknown, spec: CommandSpec<OptionSpecs>): Error {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /Unknown option '([^']+)'/.exec(message)?.[1] ?? message;
    return new UsageError(unknownOptionMessage(option, spec.options));
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const argument = /Unexpected argument '([^']*)'/.exec(message)?.[1];
    return new UsageError(
      `Unexpected argument${argument === undefined ? '' : ` '${argument}'`}: ${spec.command.replace(/ --$/, '')} takes only options (see --help)`,
    );
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // "Option '--limit <value>' argument missing" / "Option '--json' does not take an argument"
    const option = /Option '(-[^' ]+)/.exec(message)?.[1];
    if (option && /argument missing/.test(message)) return new UsageError(`${option} needs a value`);
    if (option && /does not take an argument/.test(message)) return new UsageError(`${option} is a switch and takes no value`);
    return new UsageError(message.replace(/\s*\n\s*/g, ' '));
  }
  return error instanceof Error ? error : new Error(message);
}

/** "Unknown option '--modle'. Did you mean '--model'?" (or where to look, when nothing is close). */
export function unknownOptionMessage(option: string, options: OptionSpecs): string {
  const visible = Object.entries(options)
    .filter(([, o]) => !o.hidden)
    .map(([name]) => name);
  const typed = option.replace(/^-+/, '').replace(/=.*$/, '');
  const nearest = nearestName(typed, [...visible, 'help']);
  const shown = option.replace(/=.*$/, '');
  return nearest
    ? `Unknown option '${shown}'. Did you mean '--${nearest}'?`
    : `Unknown option '${shown}'. Run with --help to see the options.`;
}

/** The candidate closest to `typed` by edit distance, if close enough to be a typo (or a prefix). */
export function nearestName(typed: string, candidates: readonly string[]): string | undefined {
  if (typed.length === 0) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = name.startsWith(typed) && typed.length >= 3 ? 1 : editDistance(typed.toLowerCase(), name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  if (!best) return undefined;
  const allowed = Math.max(2, Math.floor(Math.max(typed.length, best.name.length) / 3));
  return best.distance <= allowed ? best.name : undefined;
}

/** Damerau-Levenshtein (optimal string alignment): a swap of two neighbours counts as one edit. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

function listOr(choices: readonly string[]): string {
  return choices.length <= 1 ? (choices[0] ?? '') : `${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`;
}

const HELP_WIDTH = 100;

/** The --help text: usage, summary, every option with its default, notes, examples. */
export function helpText(spec: CommandSpec<OptionSpecs>): string {
  const usage = spec.usage ?? [`${spec.command} [options]${spec.positionals ? ` ${spec.positionals.usage}` : ''}`];
  const lines: string[] = [];
  usage.forEach((line, i) => lines.push(`${i === 0 ? 'Usage: ' : '       '}${line}`));
  lines.push('');
  for (const paragraph of spec.summary.trim().split(/\n\s*\n/)) lines.push(...wrap(paragraph.replace(/\s+/g, ' '), HELP_WIDTH), '');
  if (spec.positionals) {
    lines.push('Arguments:');
    lines.push(...table([[spec.positionals.usage, spec.positionals.description]]), '');
  }
  const rows: [string, string][] = [];
  for (const [name, o] of [...Object.entries(spec.options), ['help', HELP_OPTION] as const]) {
    if (o.hidden) continue;
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? (o.choices ? o.choices.join('|') : 'VALUE')}` : ''}`;
    rows.push([flag, `${o.description}${defaultNote(o)}`]);
  }
  lines.push('Options:', ...table(rows), '');
  for (const note of spec.notes ?? []) lines.push(...wrap(note.replace(/\s+/g, ' '), HELP_WIDTH), '');
  lines.push(spec.examples.length > 1 ? 'Examples:' : 'Example:');
  for (const example of spec.examples) lines.push(`  ${example}`);
  return lines.join('\n') + '\n';
}

function defaultNote(o: OptionSpec): string {
  if (o.defaultText !== undefined) return ` (default: ${o.defaultText})`;
  if (o.type === 'string' && typeof o.default === 'string') return ` (default: ${o.default})`;
  if (o.type === 'boolean' && o.default === true) return ' (default: on)';
  return '';
}

/** Two columns: the flags, then the description wrapped beside them (below them when the flags are long). */
function table(rows: readonly [string, string][]): string[] {
  const column = Math.min(30, Math.max(...rows.map(([left]) => left.length)) + 2);
  const out: string[] = [];
  for (const [left, right] of rows) {
    const text = wrap(right, HELP_WIDTH - 2 - column);
    if (left.length + 2 > column) {
      out.push(`  ${left}`);
      for (const line of text) out.push(`  ${' '.repeat(column)}${line}`);
    } else {
      text.forEach((line, i) => out.push(`  ${(i === 0 ? left : '').padEnd(column)}${line}`));
    }
  }
  return out;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Values and inputs
// ---------------------------------------------------------------------------------------------

export function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

export function positiveNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0) || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a non-negative number, got "${value}"`);
  return n;
}

/** A TCP port, 1-65535 (0: any free port, when `allowZero`); `label` names where it came from: `--port`, `PORT`. */
export function portNumber(value: string | undefined, label: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535)
    throw new UsageError(`${label} must be a port number (${allowZero ? 0 : 1}-65535), got "${value}"`);
  return n;
}

/** A number flag: undefined when absent, NaN when not a number (an empty value included), for the caller to check. */
export function numberFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return value.trim() === '' ? Number.NaN : Number(value);
}

/** Throws one line naming `path` (`what`: "data CSV", "--data") unless it is a readable file. */
export function requireFile(path: string, what: string): string {
  if (!existsSync(path)) throw new Error(`${what} ${path} does not exist`);
  if (!statSync(path).isFile()) throw new Error(`${what} ${path} is not a file`);
  return path;
}

/** Throws one line naming `path` unless it is a folder. */
export function requireDir(path: string, what: string): string {
  if (!existsSync(path)) throw new Error(`${what} ${path} does not exist`);
  if (!statSync(path).isDirectory()) throw new Error(`${what} ${path} is not a folder`);
  return path;
}

// ---------------------------------------------------------------------------------------------
// Arguments of any size, standard input
// ---------------------------------------------------------------------------------------------

/**
 * onnxruntime-node 1.30 segfaults (exit 139, no message) creating a session in a process whose
 * command line is larger than about 29 KB. Above this size the CLI runs itself again with the
 * arguments on standard input instead, where any size works.
 */
export const MAX_ARGV_BYTES = 16 * 1024;
const ARGV_ON_STDIN = 'BANKING_INTENT_ARGV_ON_STDIN';

/**
 * The command-line arguments (after the script), or undefined when they were too large for this
 * process: the same script has then run as a child with them on standard input, and its exit
 * status is this process's.
 */
export async function cliArguments(): Promise<string[] | undefined> {
  if (process.env[ARGV_ON_STDIN] === '1') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const args: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string'))
      throw new Error('internal: arguments on standard input are not a list of strings');
    return args;
  }
  const args = process.argv.slice(2);
  if (Buffer.byteLength(args.join('\0')) <= MAX_ARGV_BYTES) return args;
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
    env: { ...process.env, [ARGV_ON_STDIN]: '1' },
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  child.stdin.end(JSON.stringify(args));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c, s) => resolve([c, s]));
  });
  if (signal) throw new Error(`the classifier process stopped with ${signal}`);
  process.exitCode = code ?? 1;
  return undefined;
}

/** Lines of standard input, when it is not a terminal. */
export async function readStdinLines(): Promise<string[]> {
  if (process.stdin.isTTY) return [];
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .split(/\r?\n/)
    .filter((line, i, all) => line.length > 0 || i < all.length - 1);
}
