/**
 * `npm run classify` with arguments far larger than a sentence. onnxruntime-node 1.30 segfaults
 * (exit 139, no output) creating a session in a process whose command line exceeds ~29 KB; the
 * CLI then re-runs itself with the arguments on standard input and must answer like any call.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MAX_ARGV_BYTES } from '../../scripts/lib/cli';

const run = promisify(execFile);
const classify = async (args: string[]) => {
  const { stdout } = await run('npx', ['tsx', 'scripts/classify.ts', '--json', ...args], { maxBuffer: 16 * 1024 * 1024 });
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
};

describe('npm run classify with long arguments', () => {
  it('answers a 100,000-character message passed as one argument (read up to the model limit)', async () => {
    const message = 'my new card has still not arrived '.repeat(3000).slice(0, 100_000);
    expect(Buffer.byteLength(message)).toBeGreaterThan(MAX_ARGV_BYTES);
    const [line] = await classify([message]);
    expect(line).toMatchObject({ intent: 'card_arrival', model: 'custom', truncated: true });
  });

  it('answers each of several long arguments in order, 10,000 emoji among them', async () => {
    const lines = await classify(['😀'.repeat(10_000), 'I still have not received my new card', 'x'.repeat(30_000)]);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatchObject({ intent: 'card_arrival' });
    for (const line of lines) expect(line).toHaveProperty('model', 'custom');
  });
});
