/** Small helpers shared by the command-line entry points. */
import { toWireError } from '../../src/core/errors';

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
