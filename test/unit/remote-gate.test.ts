/**
 * No remote adapter can be called with unmasked text. Every adapter the registry makes that is
 * not one of the host's on-device models (so: every remote one, including any added later) is
 * run against the logging stand-ins (test/support/vllm-server.ts, gemini-server.ts): what reaches
 * them is the privacy guard's output, never a card number, IBAN or email. When the guard fails,
 * no request carries the text (no request at all from the adapter), and the pipeline falls back
 * without retrying. The cascade and direct adapter calls (as benchmark rounds make) pass the same
 * gate, because it sits inside each adapter's `classify`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IntentAdapter } from '../../src/core/adapter';
import { DEFAULT_CONFIG, type RuntimeConfig } from '../../src/core/config';
import { AllAdaptersFailedError, PrivacyGuardError } from '../../src/core/errors';
import type { ModelPrediction } from '../../src/core/prediction';
import { IntentPipeline } from '../../src/pipeline/pipeline';
import { UnconfiguredAdapter } from '../../src/adapters/unconfigured-adapter';
import { createFactories, type HostMakers } from '../../src/runtime/adapter-factories';
import type { PrivacyConfig } from '../../src/privacy/guard';
import { startGeminiServer, type GeminiStandIn } from '../support/gemini-server';
import { VllmStandIn } from '../support/vllm-server';

/** Replaces the guard's answer for a test; `undefined` runs the real guard. */
const guard = vi.hoisted(() => ({ override: undefined as undefined | ((text: string) => unknown), calls: 0 }));
vi.mock('../../src/privacy/guard', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/privacy/guard')>();
  return {
    ...actual,
    guardOutgoing: (text: string, config?: PrivacyConfig) => {
      guard.calls++;
      return guard.override ? guard.override(text) : actual.guardOutgoing(text, config);
    },
  };
});
// Imported after the mock, to compute what the real guard sends.
const { guardOutgoing: realGuard } = await vi.importActual<typeof import('../../src/privacy/guard')>('../../src/privacy/guard');

const MODEL = 'banking-intent';
const KEY = 'gemini-test-key';
const CARD = '4111 1111 1111 1111';
const IBAN = 'DE89 3704 0044 0532 0130 00';
const EMAIL = 'jane.doe@example.com';
const MESSAGE = `I was charged twice on my card ${CARD}, refund it to ${IBAN} and write to ${EMAIL}`;

let vllm: VllmStandIn;
let gemini: GeminiStandIn;
const made: IntentAdapter[] = [];

beforeAll(async () => {
  vllm = await VllmStandIn.start({ models: [MODEL] });
  gemini = await startGeminiServer({ apiKey: KEY });
});
afterEach(async () => {
  guard.override = undefined;
  guard.calls = 0;
  vllm.reset();
  gemini.reset();
  await Promise.all(made.splice(0).map((adapter) => adapter.dispose()));
});
afterAll(async () => {
  await vllm.close();
  await gemini.close();
});

/** An on-device model that answers `card_arrival` with `confidence`, and records what it was given. */
function onDevice(confidence: number, seen: string[] = []): IntentAdapter {
  return {
    id: 'custom',
    load: () => Promise.resolve(),
    classify: (text) => {
      seen.push(text);
      // No masked_categories, as from an older cached worker: the pipeline fills in [].
      const answer = { intent: 'card_arrival', confidence, top: [{ intent: 'card_arrival', score: confidence }], model: 'custom' };
      return Promise.resolve({
        ...answer,
        device: 'cpu',
        latency_ms: 1,
        truncated: false,
        masked: false,
      } as unknown as ModelPrediction);
    },
    health: () => Promise.resolve({ state: 'ready', device: 'cpu' }),
    dispose: () => Promise.resolve(),
  };
}

function registry(mode: 'chat' | 'classify' = 'chat', confidence = 0.99) {
  const config: RuntimeConfig = {
    ...DEFAULT_CONFIG,
    vllm: { url: vllm.url, model: MODEL, mode },
    gemini: { ...DEFAULT_CONFIG.gemini, apiKey: KEY, baseUrl: gemini.url },
  };
  const makers: HostMakers = { custom: () => onDevice(confidence), llama: () => new UnconfiguredAdapter('llama-qlora', 'not here') };
  const factories = createFactories(config, makers);
  const remote = Object.keys(factories).filter((id) => id !== 'custom' && id !== 'llama-qlora');
  return { factories, remote };
}

function make(factory: () => IntentAdapter): IntentAdapter {
  const adapter = factory();
  made.push(adapter);
  return adapter;
}

/** Everything both stand-ins received: paths, headers and bodies, as one text. */
function everythingReceived(): string {
  return JSON.stringify([vllm.requests, gemini.requests]);
}

function expectNoSecret(text: string): void {
  const digits = text.replace(/\D/g, '');
  for (const secret of [CARD, IBAN, EMAIL, 'jane.doe', 'DE89']) expect(text).not.toContain(secret);
  for (const secret of [CARD, IBAN]) expect(digits).not.toContain(secret.replace(/\D/g, ''));
}

/** The message text that reached the stand-in for `id`. */
function sentText(id: string): string | undefined {
  if (id === 'gemini') return gemini.requests.at(-1)?.body?.contents?.[0]?.parts?.at(-1)?.text;
  const body = vllm.requests.at(-1)?.body as { messages?: { content: string }[]; input?: string[] } | undefined;
  return body?.messages?.at(-1)?.content ?? body?.input?.[0];
}

describe('the remote gate', () => {
  it('the registry makes exactly these remote adapters (a new one must be added to this test)', () => {
    expect(registry().remote).toEqual(['vllm', 'gemini']);
  });

  it.each(['chat', 'classify'] as const)(
    'every remote adapter sends only the guard’s masked text, and says which kinds were masked (vLLM %s mode)',
    async (mode) => {
      const expected = realGuard(MESSAGE);
      expect(expected.masked).toBe(true);
      const { factories, remote } = registry(mode);
      for (const id of remote) {
        const prediction = await make(factories[id]!).classify(MESSAGE);
        expect(sentText(id), id).toBe(expected.text);
        expect(prediction).toMatchObject({ model: id, device: 'remote', masked: true, masked_categories: expected.categories });
        // Category names only: nothing of the values in what is returned, printed or stored.
        expectNoSecret(JSON.stringify(prediction));
      }
      expect(vllm.requests.length).toBeGreaterThan(0);
      expect(gemini.requests).toHaveLength(1);
      expectNoSecret(everythingReceived());
    },
  );

  it('a guard that throws or times out stops the message before any request: zero requests reach the stand-ins', async () => {
    const { factories, remote } = registry();
    for (const failure of [
      () => {
        throw new PrivacyGuardError('Masking took longer than 1000 ms, so the message was not sent.');
      },
      () => {
        throw new Error(`regex blew up on ${MESSAGE}`);
      },
      () => undefined,
      () => ({ text: 42, masked: true, categories: [] }),
    ]) {
      guard.override = failure;
      for (const id of remote) {
        const error = await make(factories[id]!)
          .classify(MESSAGE)
          .catch((e: unknown) => e);
        expect(error, id).toBeInstanceOf(PrivacyGuardError);
        expect(error).toMatchObject({ code: 'privacy_guard', retryable: false });
        // The message names the service, never the text.
        expectNoSecret((error as Error).message);
      }
    }
    expect(vllm.requests).toEqual([]);
    expect(gemini.requests).toEqual([]);
  });

  it('the pipeline treats a guard failure as that adapter’s failure: no retry, no circuit penalty, fallback on the device', async () => {
    const { factories } = registry();
    guard.override = () => {
      throw new PrivacyGuardError('Personal data could not be masked, so the message was not sent.');
    };
    const pipeline = new IntentPipeline({
      factories,
      active: 'vllm',
      fallback: ['gemini', 'custom'],
      policy: { retries: 3, allowedFails: 1, backoffMs: 1, maxBackoffMs: 2 },
    });
    const answer = await pipeline.classify(MESSAGE);
    expect(answer).toMatchObject({ model: 'custom', fallback_from: ['vllm', 'gemini'], masked: false, masked_categories: [] });
    expect(guard.calls).toBe(2); // once per remote adapter: never retried
    expect(pipeline.coolingDown('vllm')).toBe(0);
    expect(pipeline.coolingDown('gemini')).toBe(0);
    // vLLM's server check went out (no text in it); no inference request did.
    expect(vllm.requests.map((r) => r.path)).toEqual(['/health', '/v1/models']);
    expect(gemini.requests).toEqual([]);

    pipeline.setFallback([]);
    const error = await pipeline.classify(MESSAGE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AllAdaptersFailedError);
    expect((error as AllAdaptersFailedError).attempts).toEqual([
      { model: 'vllm', code: 'privacy_guard', message: 'Personal data could not be masked, so the message was not sent.' },
    ]);
    await pipeline.dispose();
  });

  it('the confidence cascade escalates through the same gate', async () => {
    const { factories } = registry('chat', 0.2);
    const pipeline = new IntentPipeline({ factories, active: 'custom', fallback: ['vllm', 'gemini'], escalateBelow: 0.9 });
    const answer = await pipeline.classify(MESSAGE);
    expect(answer).toMatchObject({
      model: 'vllm',
      escalated_from: 'custom',
      masked: true,
      masked_categories: realGuard(MESSAGE).categories,
    });
    expect(sentText('vllm')).toBe(realGuard(MESSAGE).text);
    expectNoSecret(everythingReceived());
    await pipeline.dispose();
  });

  it('no source module but the gate reaches the guard or the masking code', () => {
    const root = fileURLToPath(new URL('../../src', import.meta.url));
    const offenders = sourceFiles(root)
      .filter((file) => !file.startsWith(join(root, 'privacy')) && !file.endsWith(join('adapters', 'remote-gate.ts')))
      .filter((file) => /['"][^'"\n]*\bprivacy\/(?:mask|guard)(?:\.ts)?['"]/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file));
    expect(offenders).toEqual([]);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}
