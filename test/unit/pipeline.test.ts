/**
 * The pipeline over real adapters: the custom model on onnxruntime-node, and the vLLM and Gemini
 * adapters talking HTTP (real fetch, the real @google/genai SDK) to stand-in servers on 127.0.0.1.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeCustomAdapter } from '../../src/adapters/custom-node';
import { GeminiAdapter } from '../../src/adapters/gemini';
import { VllmAdapter } from '../../src/adapters/vllm';
import type { ClassifyOptions, IntentAdapter } from '../../src/core/adapter';
import { AbortedError, AllAdaptersFailedError, InvalidInputError } from '../../src/core/errors';
import { OUT_OF_SCOPE } from '../../src/core/labels';
import { IntentPipeline, type PipelineOptions } from '../../src/pipeline/pipeline';
import type { RouterPolicy } from '../../src/core/config';
import { startGeminiServer, type GeminiStandIn } from '../support/gemini-server';
import { VllmStandIn } from '../support/vllm-server';

const MODEL = 'banking-intent';
let vllm: VllmStandIn;
let gemini: GeminiStandIn;
const custom = new NodeCustomAdapter();

beforeAll(async () => {
  vllm = await VllmStandIn.start({ models: [MODEL] });
  gemini = await startGeminiServer({ apiKey: 'test-gemini-key' });
  await custom.load();
});
afterAll(async () => {
  await vllm.close();
  await gemini.close();
  await custom.dispose();
});
afterEach(() => {
  vllm.reset();
  gemini.reset();
});

/** Fast retries so the tests do not sleep for long; everything else as configured. */
const FAST: Partial<RouterPolicy> = { backoffMs: 1, maxBackoffMs: 5, timeoutMs: 5_000 };

function pipeline(options: Partial<PipelineOptions> & { vllmUrl?: string } = {}): IntentPipeline {
  const vllmUrl = options.vllmUrl ?? vllm.url;
  return new IntentPipeline({
    factories: {
      custom: () => custom,
      vllm: () => new VllmAdapter({ baseUrl: vllmUrl, model: MODEL }),
      gemini: () => new GeminiAdapter({ apiKey: 'test-gemini-key', baseUrl: gemini.url }),
    },
    active: 'vllm',
    fallback: ['gemini', 'custom'],
    ...options,
    policy: { ...FAST, ...options.policy },
  });
}

const chatRequests = () => vllm.requests.filter((r) => r.path === '/v1/chat/completions');
const CARD = 'I still have not received my new card';
/** Not banking: the stand-ins answer it `out_of_scope` whenever they are offered that label. */
const WEATHER = 'what is the weather tomorrow';

describe('fallback chain', () => {
  it('answers from the active adapter when it works', async () => {
    const p = await pipeline().classify(CARD);
    expect(p).toMatchObject({ model: 'vllm', device: 'remote', intent: 'card_arrival', fallback_from: [] });
  });

  it('retries retryable errors, then falls back in order, listing who failed', async () => {
    vllm.failNext(500, undefined, { times: 100, path: '/v1/chat/completions' });
    gemini.set({ failure: 'unavailable' });
    const p = await pipeline({ policy: { retries: 2 } }).classify(CARD);
    expect(p).toMatchObject({ model: 'custom', device: 'cpu', intent: 'card_arrival', fallback_from: ['vllm', 'gemini'] });
    expect(chatRequests()).toHaveLength(3); // 1 + 2 retries
    expect(gemini.requests).toHaveLength(3);
  });

  it('does not retry a non-retryable error (401), it moves on at once', async () => {
    vllm.failNext(401, { error: 'Unauthorized' }, { times: 100, path: '/v1/chat/completions' });
    const p = await pipeline({ policy: { retries: 3 } }).classify(CARD);
    expect(p.model).toBe('gemini');
    expect(p.fallback_from).toEqual(['vllm']);
    expect(chatRequests()).toHaveLength(1);
  });

  it('falls back when the server is not there at all (closed port)', async () => {
    const closed = await VllmStandIn.start({ models: [MODEL] });
    await closed.close();
    const p = await pipeline({ vllmUrl: closed.url, fallback: ['custom'], policy: { retries: 1 } }).classify(CARD);
    expect(p).toMatchObject({ model: 'custom', fallback_from: ['vllm'] });
  });

  it('treats an answer that is not a label as a failure and falls back, without retrying it', async () => {
    vllm.setMode('nonsense');
    const p = await pipeline({ fallback: ['custom'] }).classify(CARD);
    expect(p).toMatchObject({ model: 'custom', fallback_from: ['vllm'] });
    expect(chatRequests()).toHaveLength(1);
  });

  it('reports every adapter’s failure when none can answer', async () => {
    vllm.failNext(404, undefined, { times: 100 });
    gemini.set({ failure: 'permission-denied' });
    const error = await pipeline({ fallback: ['gemini'] })
      .classify(CARD)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AllAdaptersFailedError);
    expect((error as AllAdaptersFailedError).attempts.map((a) => a.model)).toEqual(['vllm', 'gemini']);
    expect((error as Error).message).toMatch(/vllm: .*404.*gemini: .*403|PERMISSION/s);
  });

  it('switches the active model at runtime for the next request', async () => {
    const pl = pipeline();
    expect((await pl.classify(CARD)).model).toBe('vllm');
    pl.setActive('custom');
    expect((await pl.classify(CARD)).model).toBe('custom');
    pl.setActive('gemini');
    expect((await pl.classify('my card was stolen')).model).toBe('gemini');
    expect(() => pl.setActive('gpt-9')).toThrow(/Unknown model "gpt-9"/);
  });
});

describe('waits, timeouts and cooldowns', () => {
  it('honours Retry-After before retrying the same server', async () => {
    vllm.failNext(503, undefined, { times: 1, headers: { 'retry-after': '1' }, path: '/v1/chat/completions' });
    const started = performance.now();
    const p = await pipeline({ policy: { retries: 1 } }).classify(CARD);
    expect(p.model).toBe('vllm');
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(chatRequests()).toHaveLength(2);
  });

  it('skips a server that asks for a long pause (Gemini RetryInfo 58s) and leaves it alone meanwhile', async () => {
    gemini.set({ failure: 'resource-exhausted' });
    const pl = pipeline({ active: 'gemini', fallback: ['custom'], policy: { retries: 3 } });
    expect(await pl.classify(CARD)).toMatchObject({ model: 'custom', fallback_from: ['gemini'] });
    expect(gemini.requests).toHaveLength(1); // no retry: 58 s is more than maxRetryAfterMs
    expect(await pl.classify(CARD)).toMatchObject({ model: 'custom', fallback_from: ['gemini'] });
    expect(gemini.requests).toHaveLength(1); // cooling down: not even asked
    expect((await pl.status()).find((s) => s.id === 'gemini')!.coolingDownMs).toBeGreaterThan(50_000);
  });

  it("caps a server's own Retry-After: 999999 s keeps vLLM out for maxServerCooldownMs, not 278 hours", async () => {
    vllm.failNext(503, undefined, { times: 1, headers: { 'retry-after': '999999' }, path: '/v1/chat/completions' });
    const pl = pipeline({ active: 'vllm', fallback: ['custom'], policy: { maxServerCooldownMs: 60_000 } });
    expect(await pl.classify(CARD)).toMatchObject({ model: 'custom', fallback_from: ['vllm'] });
    const cooling = (await pl.status()).find((s) => s.id === 'vllm')!.coolingDownMs;
    expect(cooling).toBeGreaterThan(50_000);
    expect(cooling).toBeLessThanOrEqual(60_000);
  });

  it('opens the circuit after allowedFails failures, then one probe after probeIntervalMs closes it again', async () => {
    vllm.failNext(500, undefined, { times: 2, path: '/v1/chat/completions' });
    const pl = pipeline({ fallback: ['custom'], policy: { retries: 0, allowedFails: 2, probeIntervalMs: 300 } });
    expect((await pl.classify(CARD)).model).toBe('custom');
    expect((await pl.classify(CARD)).model).toBe('custom');
    expect(chatRequests()).toHaveLength(2);
    const skipped = await pl.classify(CARD); // in cooldown: vllm is not asked
    expect(skipped).toMatchObject({ model: 'custom', fallback_from: ['vllm'] });
    expect(chatRequests()).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await pl.classify(CARD)).model).toBe('vllm'); // the probe answered: recovered
    expect(chatRequests()).toHaveLength(3);
    expect(pl.coolingDown('vllm')).toBe(0);
  });

  it('half-open: while the probe is in flight the other requests skip the adapter; a failed probe doubles the wait', async () => {
    let now = 0;
    const pl = pipeline({
      fallback: ['custom'],
      now: () => now,
      policy: { retries: 2, allowedFails: 1, probeIntervalMs: 1_000, maxProbeIntervalMs: 3_000 },
    });
    await pl.load('vllm');
    vllm.failNext(401, { error: 'Unauthorized' }, { times: 1, path: '/v1/chat/completions' });
    expect((await pl.classify(CARD)).model).toBe('custom'); // opens the circuit
    expect(pl.coolingDown('vllm')).toBe(1_000);

    now = 1_000; // the probe is due: exactly one of three concurrent requests goes to vLLM
    vllm.setDelay(300);
    const answers = await Promise.all([pl.classify(CARD), pl.classify(CARD), pl.classify(CARD)]);
    expect(answers.map((p) => p.model).sort()).toEqual(['custom', 'custom', 'vllm']);
    expect(answers.filter((p) => p.model === 'custom').every((p) => p.fallback_from.join() === 'vllm')).toBe(true);
    expect(chatRequests()).toHaveLength(2);

    // Open again; this probe fails (a retryable 500, yet no retry: a probe is one request), so the
    // next one waits twice as long, capped at maxProbeIntervalMs.
    vllm.setDelay(0);
    vllm.failNext(401, { error: 'Unauthorized' }, { times: 1, path: '/v1/chat/completions' });
    await pl.classify(CARD);
    now = 2_000;
    vllm.failNext(500, undefined, { times: 10, path: '/v1/chat/completions' });
    expect((await pl.classify(CARD)).model).toBe('custom');
    expect(chatRequests()).toHaveLength(4);
    expect(pl.coolingDown('vllm')).toBe(2_000);
    now = 4_000;
    await pl.classify(CARD);
    expect(chatRequests()).toHaveLength(5);
    expect(pl.coolingDown('vllm')).toBe(3_000); // 4 s, capped at 3 s
    vllm.reset();
    now = 7_000;
    expect((await pl.classify(CARD)).model).toBe('vllm');
    expect(pl.coolingDown('vllm')).toBe(0);
  });

  it('times out a slow adapter and falls back', async () => {
    const alone = pipeline({ fallback: [], policy: { timeoutMs: 200, retries: 0 } });
    const withFallback = pipeline({ fallback: ['custom'], policy: { timeoutMs: 200, retries: 0 } });
    await Promise.all([alone.load('vllm'), withFallback.load('vllm')]); // only classify is slow
    vllm.setDelay(3_000);
    const error = await alone.classify(CARD).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AllAdaptersFailedError);
    expect((error as AllAdaptersFailedError).attempts[0]).toMatchObject({ model: 'vllm', code: 'timeout' });
    expect(await withFallback.classify(CARD)).toMatchObject({ model: 'custom', fallback_from: ['vllm'] });
  });

  it('the caller’s abort cancels everything in flight and tries nothing else', async () => {
    vllm.setDelay(3_000);
    const controller = new AbortController();
    const pending = pipeline().classify(CARD, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toThrow(AbortedError);
    expect(gemini.requests).toHaveLength(0);
  });

  it('rejects bad input once, before any adapter is asked', async () => {
    await expect(pipeline().classify('  \u200b ')).rejects.toThrow(InvalidInputError);
    expect(vllm.requests.filter((r) => r.path !== '/health' && r.path !== '/v1/models')).toHaveLength(0);
    expect(gemini.requests).toHaveLength(0);
  });
});

describe('confidence cascade', () => {
  it('sends an unsure on-device answer to the next remote model and counts it', async () => {
    const pl = pipeline({ active: 'custom', fallback: ['vllm'], escalateBelow: 0.999 });
    const p = await pl.classify(CARD);
    expect(p).toMatchObject({ model: 'vllm', escalated_from: 'custom', fallback_from: [] });
    expect(pl.getStats()).toMatchObject({ requests: 1, escalations: 1, escalationsAnswered: 1 });
  });

  it('keeps the on-device answer when it is sure enough, or when the remote model fails', async () => {
    const sure = pipeline({ active: 'custom', fallback: ['vllm'], escalateBelow: 0.01 });
    expect((await sure.classify(CARD)).model).toBe('custom');
    expect(chatRequests()).toHaveLength(0);
    vllm.failNext(500, undefined, { times: 100, path: '/v1/chat/completions' });
    const unsure = pipeline({ active: 'custom', fallback: ['vllm'], escalateBelow: 0.999, policy: { retries: 0 } });
    const p = await unsure.classify(CARD);
    expect(p.model).toBe('custom');
    expect(p.escalated_from).toBeUndefined();
    expect(unsure.getStats()).toMatchObject({ escalations: 1, escalationsAnswered: 0 });
  });
});

describe('concurrency', () => {
  it('1,000 concurrent requests with random failures: each answered exactly once', async () => {
    vllm.setRandomFailures({ rate: 0.3, statuses: [500, 503, 429, 400], seed: 7 });
    gemini.set({ failure: 'unavailable' });
    // No timeouts here (they have their own test): a late answer would be sent but not used.
    const pl = pipeline({ policy: { retries: 1, allowedFails: 1_000_000, timeoutMs: 120_000 } });
    const texts = Array.from({ length: 1_000 }, (_, i) => `request ${i}: has my card arrived`);
    const settled = await Promise.allSettled(texts.map((t) => pl.classify(t)));
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    const predictions = settled.map((s) => (s as PromiseFulfilledResult<Awaited<ReturnType<IntentPipeline['classify']>>>).value);
    const fromVllm = predictions.filter((p) => p.model === 'vllm').length;
    const fromCustom = predictions.filter((p) => p.model === 'custom').length;
    expect(fromVllm + fromCustom).toBe(1_000);
    // Every answer the server gave was used once: none lost, none counted twice.
    expect(vllm.answered('/v1/chat/completions')).toBe(fromVllm);
    expect(fromCustom).toBeGreaterThan(0);
    expect(predictions.filter((p) => p.model === 'custom').every((p) => p.fallback_from.join() === 'vllm,gemini')).toBe(true);
    expect(pl.getStats()).toMatchObject({ requests: 1_000, answered: 1_000, failed: 0, fallbacks: fromCustom });
  });
});

describe('out of scope', () => {
  // The custom model answers out_of_scope when its best intent's probability is below the
  // threshold: at 1 it rejects any message it is not certain of (CARD is below 0.999, see the
  // cascade's tests), at 0 it rejects nothing.
  it('an on-device out_of_scope is the answer: no fallback, no remote call, counted', async () => {
    const pl = pipeline({ active: 'custom', fallback: ['vllm', 'gemini'], oosThreshold: 1 });
    const p = await pl.classify(WEATHER);
    expect(p).toMatchObject({ intent: OUT_OF_SCOPE, model: 'custom', device: 'cpu', fallback_from: [] });
    expect(p.escalated_from).toBeUndefined();
    expect(p.top.length).toBeGreaterThan(0);
    expect(p.top.map((t) => t.intent)).not.toContain(OUT_OF_SCOPE);
    expect(chatRequests()).toHaveLength(0);
    expect(gemini.requests).toHaveLength(0);
    expect(pl.getStats()).toMatchObject({ requests: 1, answered: 1, fallbacks: 0, escalations: 0, outOfScope: 1 });
  });

  it('a remote out_of_scope is the answer too: the next adapter is not asked', async () => {
    const pl = pipeline(); // vllm, then gemini, then custom
    const p = await pl.classify(WEATHER);
    expect(p).toMatchObject({ intent: OUT_OF_SCOPE, model: 'vllm', fallback_from: [] });
    expect(vllm.receivedEnums()[0]).toContain(OUT_OF_SCOPE);
    expect(gemini.requests).toHaveLength(0);
    expect(pl.getStats()).toMatchObject({ answered: 1, fallbacks: 0, outOfScope: 1 });
    // An in-scope answer is not counted as out of scope.
    await pl.classify(CARD);
    expect(pl.getStats()).toMatchObject({ answered: 2, outOfScope: 1 });
  });

  it('passes its oosThreshold to every adapter call, and takes a new one at run time', async () => {
    const seen: ClassifyOptions[] = [];
    const pl = pipeline({ factories: { custom: () => recording(custom, seen) }, active: 'custom', fallback: [], oosThreshold: 1 });
    expect(pl.oosThreshold).toBe(1);
    expect((await pl.classify(WEATHER)).intent).toBe(OUT_OF_SCOPE);
    const changes: Event[] = [];
    pl.addEventListener('change', (event) => changes.push(event));
    pl.setOosThreshold(0);
    expect((await pl.classify(WEATHER)).intent).not.toBe(OUT_OF_SCOPE);
    pl.setOosThreshold(undefined);
    await pl.classify(WEATHER);
    expect(seen.map((options) => options.oosThreshold)).toEqual([1, 0, undefined]);
    expect(changes).toHaveLength(2);
  });

  it('rejects an out-of-scope threshold outside 0-1, when built and at run time, keeping the old one', () => {
    expect(() => pipeline({ oosThreshold: 1.5 })).toThrow(InvalidInputError);
    const pl = pipeline({ oosThreshold: 0.3 });
    expect(() => pl.setOosThreshold(-0.1)).toThrow(/between 0 and 1/);
    expect(() => pl.setOosThreshold(Number.NaN)).toThrow(InvalidInputError);
    expect(pl.oosThreshold).toBe(0.3);
  });

  it('escalateOutOfScope off (the default): an on-device out_of_scope never leaves the device, even below escalateBelow', async () => {
    const pl = pipeline({ active: 'custom', fallback: ['vllm'], oosThreshold: 1, escalateBelow: 1 });
    const p = await pl.classify(WEATHER);
    expect(p).toMatchObject({ intent: OUT_OF_SCOPE, model: 'custom' });
    expect(p.confidence).toBeLessThan(1); // below escalateBelow, and still not sent
    expect(chatRequests()).toHaveLength(0);
    expect(pl.getStats()).toMatchObject({ escalations: 0, outOfScope: 1 });
    // The cascade itself is on: the same message answered in scope goes on to vLLM.
    pl.setOosThreshold(0);
    expect(await pl.classify(WEATHER)).toMatchObject({ model: 'vllm', escalated_from: 'custom' });
    expect(chatRequests()).toHaveLength(1);
  });

  it('escalateOutOfScope on: an on-device out_of_scope goes to the next remote model, whose answer replaces it', async () => {
    const pl = pipeline({ active: 'custom', fallback: ['vllm'], oosThreshold: 1, escalateOutOfScope: true, policy: { retries: 0 } });
    expect(await pl.classify(CARD)).toMatchObject({ intent: 'card_arrival', model: 'vllm', escalated_from: 'custom', fallback_from: [] });
    expect(await pl.classify(WEATHER)).toMatchObject({ intent: OUT_OF_SCOPE, model: 'vllm', escalated_from: 'custom' });
    expect(vllm.receivedEnums().every((labels) => labels?.includes(OUT_OF_SCOPE))).toBe(true);
    expect(pl.getStats()).toMatchObject({ answered: 2, escalations: 2, escalationsAnswered: 2, outOfScope: 1 });

    // When no remote model answers, the on-device answer stands.
    vllm.failNext(500, undefined, { times: 100, path: '/v1/chat/completions' });
    const p = await pl.classify(CARD);
    expect(p).toMatchObject({ intent: OUT_OF_SCOPE, model: 'custom', fallback_from: [] });
    expect(p.escalated_from).toBeUndefined();
    expect(pl.getStats()).toMatchObject({ answered: 3, escalations: 3, escalationsAnswered: 2, outOfScope: 2 });
  });
});

/** `inner`, recording the options of each classify call; disposing it is left to the test file. */
function recording(inner: IntentAdapter, seen: ClassifyOptions[]): IntentAdapter {
  return {
    id: inner.id,
    load: (options) => inner.load(options),
    classify: (text, options) => {
      seen.push({ ...options });
      return inner.classify(text, options);
    },
    health: () => inner.health(),
    dispose: () => Promise.resolve(),
  };
}
