/**
 * `npm run classify` as a user runs it (a child process), against stand-in vLLM and Gemini
 * servers on 127.0.0.1: it answers from the servers, having sent the 77 labels as the constraint
 * and no card number or email in clear; and it falls back when vLLM is not there.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BANKING77_LABELS, OUT_OF_SCOPE } from '../../src/core/labels';
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
const WEATHER = 'what is the weather tomorrow';
const CARD = 'I still have not received my new card';
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
  it('vLLM: a label from the server, the 77 labels and out_of_scope sent as the constraint, personal data masked', async () => {
    const [line] = await classify(['--model', 'vllm', '--vllm-url', vllm.url, '--vllm-model', 'banking-intent', PERSONAL], {
      VLLM_API_KEY: 'cli-vllm-key',
    });
    expect(line).toMatchObject({ intent: 'card_arrival', model: 'vllm', device: 'remote', fallback_from: [], masked: true });
    const sent = vllm.requestsTo('/v1/chat/completions')[0]!;
    const body = sent.body as { response_format: { json_schema: { schema: { properties: { intent: { enum: string[] } } } } } };
    expect(body.response_format.json_schema.schema.properties.intent.enum).toEqual([...BANKING77_LABELS, OUT_OF_SCOPE]);
    expect(sent.headers.authorization).toBe('Bearer cli-vllm-key');
    expect(JSON.stringify(sent.body)).not.toMatch(/4111|jane\.doe|example\.com/);
  });

  it('Gemini: the key from GEMINI_API_KEY, the enum of 77 labels and out_of_scope, personal data masked', async () => {
    const [line] = await classify(['--model', 'gemini', '--gemini-base-url', gemini.url, PERSONAL], { GEMINI_API_KEY: 'cli-gemini-key' });
    expect(line).toMatchObject({ model: 'gemini', device: 'remote', masked: true });
    expect(BANKING77_LABELS).toContain(line!.intent);
    const sent = gemini.requests[0]!;
    expect(sent.headers['x-goog-api-key']).toBe('cli-gemini-key');
    expect(sent.body?.generationConfig?.responseSchema?.enum).toEqual([...BANKING77_LABELS, OUT_OF_SCOPE]);
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

describe('npm run classify with an out-of-scope threshold', () => {
  // The custom model's best intent is below 1 for these messages: --oos-threshold 1 rejects them,
  // 0 rejects nothing.
  it('--oos-threshold 1 answers out_of_scope, with the closest in-scope intents in top; 0 turns rejection off', async () => {
    const [rejected] = await classify(['--oos-threshold', '1', WEATHER]);
    expect(rejected).toMatchObject({ intent: OUT_OF_SCOPE, model: 'custom', fallback_from: [] });
    const top = rejected!.top as { intent: string; score: number }[];
    expect(top).toHaveLength(5);
    expect(BANKING77_LABELS).toEqual(expect.arrayContaining(top.map((t) => t.intent)));
    expect(rejected!.confidence).toBeCloseTo(1 - top[0]!.score, 6);
    const [kept] = await classify(['--oos-threshold', '0', WEATHER]);
    expect(kept!.model).toBe('custom');
    expect(kept!.intent).not.toBe(OUT_OF_SCOPE);
  });

  it('keeps out_of_scope on the device, even with a remote fallback, unless --oos-escalate', async () => {
    vllm.reset();
    const remote = ['--fallback', 'vllm', '--vllm-url', vllm.url, '--vllm-model', 'banking-intent'];
    const env = { VLLM_API_KEY: 'cli-vllm-key' };
    const kept = await classify(['--oos-threshold', '1', ...remote, WEATHER, CARD], env);
    expect(kept.map((line) => [line.intent, line.model])).toEqual([
      [OUT_OF_SCOPE, 'custom'],
      [OUT_OF_SCOPE, 'custom'],
    ]);
    expect(vllm.requestsTo('/v1/chat/completions')).toHaveLength(0);

    const escalated = await classify(['--oos-threshold', '1', '--oos-escalate', ...remote, WEATHER, CARD], env);
    expect(escalated).toMatchObject([
      { intent: OUT_OF_SCOPE, model: 'vllm', escalated_from: 'custom' },
      { intent: 'card_arrival', model: 'vllm', escalated_from: 'custom' },
    ]);
    expect(vllm.receivedEnums()).toEqual([
      [...BANKING77_LABELS, OUT_OF_SCOPE],
      [...BANKING77_LABELS, OUT_OF_SCOPE],
    ]);
  });

  it('refuses a threshold outside 0-1, quoting it', async () => {
    const error = await classify(['--oos-threshold', '1.5', CARD]).catch((e: { stderr: string; code: number }) => e);
    expect((error as { code: number }).code).toBe(2); // a usage error
    expect((error as { stderr: string }).stderr).toMatch(
      /out-of-scope threshold must be a number between 0 and 1 \(0 turns it off\), got "1\.5"/,
    );
  });
});
