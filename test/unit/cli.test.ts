/**
 * `npm run classify` as a user runs it (a child process), against stand-in vLLM and Gemini
 * servers on 127.0.0.1: it answers from the servers, having sent the 77 labels as the constraint
 * and no card number or email in clear; and it falls back when vLLM is not there.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BANKING77_LABELS } from '../../src/core/labels';
import { startGeminiServer, type GeminiStandIn } from '../support/gemini-server';
import { VllmStandIn } from '../support/vllm-server';

const run = promisify(execFile);
const classify = async (args: string[], env: Record<string, string> = {}) => {
  const { stdout } = await run('npx', ['tsx', 'scripts/classify.ts', '--json', ...args], { env: { ...process.env, ...env } });
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
};

const PERSONAL = 'My card 4111 1111 1111 1111 has not arrived, write to jane.doe@example.com';
let vllm: VllmStandIn;
let gemini: GeminiStandIn;

beforeAll(async () => {
  vllm = await VllmStandIn.start({ models: ['banking-intent'], apiKey: 'cli-vllm-key' });
  gemini = await startGeminiServer({ apiKey: 'cli-gemini-key' });
});
afterAll(async () => {
  await vllm.close();
  await gemini.close();
});

describe('npm run classify with remote models', () => {
  it('vLLM: a label from the server, the 77 labels sent as the constraint, personal data masked', async () => {
    const [line] = await classify(['--model', 'vllm', '--vllm-url', vllm.url, '--vllm-model', 'banking-intent', PERSONAL], {
      VLLM_API_KEY: 'cli-vllm-key',
    });
    expect(line).toMatchObject({ intent: 'card_arrival', model: 'vllm', device: 'remote', fallback_from: [], masked: true });
    const sent = vllm.requestsTo('/v1/chat/completions')[0]!;
    const body = sent.body as { response_format: { json_schema: { schema: { properties: { intent: { enum: string[] } } } } } };
    expect(body.response_format.json_schema.schema.properties.intent.enum).toEqual(BANKING77_LABELS);
    expect(sent.headers.authorization).toBe('Bearer cli-vllm-key');
    expect(JSON.stringify(sent.body)).not.toMatch(/4111|jane\.doe|example\.com/);
  });

  it('Gemini: the key from GEMINI_API_KEY, the enum of 77 labels, personal data masked', async () => {
    const [line] = await classify(['--model', 'gemini', '--gemini-base-url', gemini.url, PERSONAL], { GEMINI_API_KEY: 'cli-gemini-key' });
    expect(line).toMatchObject({ model: 'gemini', device: 'remote', masked: true });
    expect(BANKING77_LABELS).toContain(line!.intent);
    const sent = gemini.requests[0]!;
    expect(sent.headers['x-goog-api-key']).toBe('cli-gemini-key');
    expect(sent.body?.generationConfig?.responseSchema?.enum).toEqual(BANKING77_LABELS);
    expect(sent.rawBody).not.toMatch(/4111|jane\.doe|example\.com/);
  });

  it('vLLM on a closed port with --fallback custom answers from custom, listing vllm', async () => {
    const closed = await VllmStandIn.start();
    await closed.close();
    const [line] = await classify([
      '--model',
      'vllm',
      '--vllm-url',
      closed.url,
      '--vllm-model',
      'x',
      '--fallback',
      'custom',
      'I still have not received my new card',
    ]);
    expect(line).toMatchObject({ intent: 'card_arrival', model: 'custom', device: 'cpu', fallback_from: ['vllm'] });
  });

  it('an unconfigured remote model fails with a message saying what to set', async () => {
    const error = await classify(['--model', 'gemini', 'hello']).catch((e: { stdout: string; code: number }) => e);
    expect((error as { code: number }).code).toBe(1);
    expect((error as { stdout: string }).stdout).toMatch(/proxy URL|API key/);
  });
});
