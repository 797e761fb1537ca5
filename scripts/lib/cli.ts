/** Small helpers shared by the command-line entry points. */
import { spawn } from 'node:child_process';
import { toWireError } from '../../src/core/errors';

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

/** Runs `main`, printing a one-line error (not a stack) and exiting 1 when it throws. */
export function runCli(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const wire = toWireError(error);
    process.stderr.write(`error: ${wire.message}\n`);
    if (wire.code === 'internal' && process.env.DEBUG) console.error(error);
    process.exit(1);
  });
}

export function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

export function positiveNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n >= 0) || !Number.isFinite(n)) throw new Error(`--${name} must be a non-negative number, got "${value}"`);
  return n;
}

/** A number flag: undefined when absent, NaN when not a number (an empty value included), for the caller to check. */
export function numberFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return value.trim() === '' ? Number.NaN : Number(value);
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
