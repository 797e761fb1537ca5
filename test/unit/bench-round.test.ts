/**
 * Benchmark rounds and their scheduler over real adapters: the custom model on onnxruntime-node,
 * the vLLM adapter over HTTP to the stand-in server, Gemini left unconfigured, llama-qlora made
 * unavailable by the host (its answers change with each training; the CLI tests cover it).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeCustomAdapter } from '../../src/adapters/custom-node';
import { collectEnvironment } from '../../src/bench/environment';
import { PROBE_SET, verifyProbeSet, type ProbeSet } from '../../src/bench/probe-set';
import { runBenchmarkRound, type BenchmarkRound } from '../../src/bench/round';
import { BenchmarkScheduler } from '../../src/bench/scheduler';
import { BenchmarkStore } from '../../src/bench/store';
import { resolveConfig } from '../../src/core/config';
import { BANKING77_LABELS } from '../../src/core/labels';
import { IntentPipeline } from '../../src/pipeline/pipeline';
import { createFactories, UnconfiguredAdapter } from '../../src/pipeline/registry';
import { readLabelledCsv } from '../../src/training/data';
import { VllmStandIn } from '../support/vllm-server';

const MODEL = 'banking-intent';
let vllm: VllmStandIn;
const custom = new NodeCustomAdapter();

beforeAll(async () => {
  vllm = await VllmStandIn.start({ models: [MODEL] });
  await custom.load();
});
afterAll(async () => {
  await vllm.close();
  await custom.dispose();
});
afterEach(() => vllm.reset());

const LLAMA_REASON = 'This test host does not run llama-qlora.';

/** custom, llama-qlora (unavailable), vllm (the stand-in) and gemini (no proxy URL, no key), from the one factory table. */
function fullPipeline(policy: ConstructorParameters<typeof IntentPipeline>[0]['policy'] = {}): IntentPipeline {
  const config = resolveConfig({ overrides: { model: 'custom', vllm: { url: vllm.url, model: MODEL } } });
  const factories = createFactories(config, { custom: () => custom, llama: () => new UnconfiguredAdapter('llama-qlora', LLAMA_REASON) });
  return new IntentPipeline({ factories, active: 'custom', policy });
}

function customOnly(): IntentPipeline {
  return new IntentPipeline({ factories: { custom: () => custom }, active: 'custom' });
}

const chatRequests = () => vllm.requestsTo('/v1/chat/completions').length;
const MODEL_FIELDS = [
  'accuracy',
  'avg_latency_ms',
  'device',
  'errors',
  'mean_confidence',
  'n',
  'p50_latency_ms',
  'p95_latency_ms',
  'p99_latency_ms',
  'status',
];

describe('probe set', () => {
  it('holds two distinct Banking77 test queries for each of the 77 intents, under the id its items hash to', async () => {
    await verifyProbeSet(PROBE_SET);
    expect(PROBE_SET.n).toBe(154);
    expect(PROBE_SET.id).toMatch(/^b77-test-2x77-[0-9a-f]{12}$/);
    const perLabel = new Map<string, number>();
    for (const item of PROBE_SET.items) perLabel.set(item.label, (perLabel.get(item.label) ?? 0) + 1);
    expect([...perLabel.keys()].sort()).toEqual([...BANKING77_LABELS].sort());
    expect(new Set(perLabel.values())).toEqual(new Set([2]));
    expect(new Set(PROBE_SET.items.map((i) => i.text)).size).toBe(154);
    const test = new Set(readLabelledCsv('data/banking77/test.csv').map((r) => `${r.label}\u0000${r.text}`));
    expect(PROBE_SET.items.every((i) => test.has(`${i.label}\u0000${i.text}`))).toBe(true);
  });

  it('detects a probe set whose items were edited, and refuses to benchmark it', async () => {
    const tampered: ProbeSet = {
      ...PROBE_SET,
      items: PROBE_SET.items.map((item, i) => (i === 3 ? { ...item, label: 'card_arrival' } : item)),
    };
    await expect(verifyProbeSet(tampered)).rejects.toThrow(/does not match its items/);
    await expect(runBenchmarkRound({ pipeline: customOnly(), probeSet: tampered, trigger: 'manual' })).rejects.toThrow(/does not match/);
  });
});

describe('runBenchmarkRound', () => {
  it('records every model side by side on the same probes, in the JSONL record shape', async () => {
    vllm.setDelay(10); // so that "fastest" does not depend on this machine's noise
    const pipeline = fullPipeline();
    let userEvents = 0;
    pipeline.addEventListener('request', () => userEvents++);
    const environment = await collectEnvironment();
    const round = await runBenchmarkRound({ pipeline, probeSet: PROBE_SET, trigger: 'manual', requestCount: 7, environment });

    expect(Object.keys(round).sort()).toEqual(['environment', 'models', 'probe_set', 'request_count', 'summary', 'timestamp', 'trigger']);
    expect(new Date(round.timestamp).toISOString()).toBe(round.timestamp);
    expect(round).toMatchObject({ request_count: 7, trigger: 'manual', probe_set: { id: PROBE_SET.id, n: 154 }, environment });
    expect(Object.keys(round.environment).sort()).toEqual(['hardware_concurrency', 'user_agent', 'webgpu']);
    expect(round.environment.user_agent).toMatch(/^Node\.js\//);
    expect(round.environment.webgpu).toBeNull();
    expect(Object.keys(round.models)).toEqual(['custom', 'llama-qlora', 'vllm', 'gemini']);

    const c = round.models.custom!;
    expect(Object.keys(c).sort()).toEqual([...MODEL_FIELDS, 'latencies_ms'].sort());
    expect(c).toMatchObject({ status: 'ok', device: 'cpu', n: 154, errors: 0 });
    expect(c.accuracy!).toBeGreaterThan(0.8);
    expect(c.mean_confidence!).toBeGreaterThan(0);
    expect(c.mean_confidence!).toBeLessThanOrEqual(1);
    expect(c.latencies_ms).toHaveLength(154);
    expect(c.p50_latency_ms!).toBeLessThanOrEqual(c.p95_latency_ms!);
    expect(c.p95_latency_ms!).toBeLessThanOrEqual(c.p99_latency_ms!);
    expect(c.p99_latency_ms!).toBeLessThanOrEqual(Math.max(...c.latencies_ms!));

    // The stand-in answers from a few keywords: it answers every probe, mostly wrongly.
    expect(round.models.vllm).toMatchObject({ status: 'ok', device: 'remote', n: 154, errors: 0 });
    expect(round.models.vllm!.accuracy!).toBeLessThan(c.accuracy!);
    expect(chatRequests()).toBe(154);

    const g = round.models.gemini!;
    expect(Object.keys(g).sort()).toEqual([...MODEL_FIELDS, 'reason'].sort());
    expect(g).toMatchObject({ status: 'unavailable', n: 0, errors: 0, accuracy: null, p50_latency_ms: null, mean_confidence: null });
    expect(g.reason).toMatch(/proxy URL|API key/);
    expect(round.models['llama-qlora']).toMatchObject({ status: 'unavailable', device: null, n: 0, errors: 0, reason: LLAMA_REASON });

    expect(round.summary).toEqual({
      fastest_model: 'custom',
      most_accurate_model: 'custom',
      recommendation: expect.stringMatching(/^Use custom: /),
    });
    // Probes went to the adapters directly: no user request was counted or announced.
    expect(pipeline.getStats().requests).toBe(0);
    expect(userEvents).toBe(0);
    // Plain JSON: nothing is lost on the way to a JSONL line (no undefined, NaN or class instances).
    expect(JSON.parse(JSON.stringify(round))).toEqual(round);
  });

  it('records a model the pipeline is cooling down as such, and sends it no probe', async () => {
    const pipeline = fullPipeline({ allowedFails: 1, retries: 0 });
    pipeline.setActive('vllm');
    pipeline.setFallback(['custom']);
    vllm.failNext(401, { error: 'Unauthorized' }, { times: 1, path: '/v1/chat/completions' });
    expect((await pipeline.classify('my card has not arrived')).model).toBe('custom');
    expect(pipeline.coolingDown('vllm')).toBeGreaterThan(0);
    const before = chatRequests();

    const round = await runBenchmarkRound({ pipeline, probeSet: PROBE_SET, trigger: 'cli', keepLatencies: false });
    expect(round.models.vllm).toMatchObject({ status: 'cooling_down', n: 0, accuracy: null, errors: 0 });
    expect(round.models.vllm!.reason).toMatch(/cooling down for another \d+ s/);
    expect(round.models.custom).toMatchObject({ status: 'ok', n: 154 });
    expect(round.models.custom!.latencies_ms).toBeUndefined();
    expect(chatRequests()).toBe(before);
    expect(round.request_count).toBe(1);
  });

  it('marks a model that answers no probe as failed, and stops sending after 5 errors in a row', async () => {
    const pipeline = fullPipeline();
    vllm.failNext(500, undefined, { times: 1_000, path: '/v1/chat/completions' });
    const round = await runBenchmarkRound({ pipeline, probeSet: PROBE_SET, trigger: 'manual' });
    expect(round.models.vllm).toMatchObject({ status: 'failed', device: 'remote', n: 0, errors: 5, accuracy: null, latencies_ms: [] });
    expect(round.models.vllm!.reason).toMatch(/stopped after 5 failed probes in a row, 149 not sent; last error: .*500/);
    expect(chatRequests()).toBe(5);
  });
});

describe('BenchmarkScheduler', () => {
  /** Collects what the scheduler announces, and the most rounds seen running at once. */
  function watch(scheduler: BenchmarkScheduler) {
    const seen = { starts: 0, rounds: [] as BenchmarkRound[], errors: [] as unknown[], running: 0, maxRunning: 0 };
    scheduler.on('round-start', () => {
      seen.starts++;
      seen.running++;
      seen.maxRunning = Math.max(seen.maxRunning, seen.running);
    });
    scheduler.on('round', (round) => {
      seen.running--;
      seen.rounds.push(round);
    });
    scheduler.on('round-error', ({ error }) => {
      seen.running--;
      seen.errors.push(error);
    });
    return seen;
  }

  it('runs exactly one round after 50 user requests, and stores it', async () => {
    const pipeline = customOnly();
    const store = await BenchmarkStore.open(); // Node has no IndexedDB: memory, and it says so
    expect(store.status.persistent).toBe(false);
    expect(store.status.warning).toMatch(/memory only/);
    const scheduler = new BenchmarkScheduler({ pipeline, store });
    const seen = watch(scheduler);

    for (let i = 0; i < 49; i++) await pipeline.classify('where is my new card?');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen.starts).toBe(0);
    expect(scheduler.requestsUntilNext).toBe(1);

    const started = new Promise<void>((resolve) => scheduler.on('round-start', () => resolve()));
    await pipeline.classify('where is my new card?');
    await started;
    expect(scheduler.running).toBe(true);
    await scheduler.idle();

    expect(seen.starts).toBe(1);
    expect(seen.errors).toEqual([]);
    expect(seen.rounds).toHaveLength(1);
    expect(seen.rounds[0]).toMatchObject({ trigger: 'auto', request_count: 50, models: { custom: { status: 'ok', n: 154 } } });
    expect(await store.list()).toEqual(seen.rounds);
    expect(pipeline.getStats().requests).toBe(50); // the round's 154 probes are not user requests
    scheduler.dispose();
  });

  it('never runs two rounds at once when 120 requests arrive together: the second trigger waits its turn', async () => {
    const pipeline = customOnly();
    const scheduler = new BenchmarkScheduler({ pipeline });
    const seen = watch(scheduler);

    const answers = await Promise.all(Array.from({ length: 120 }, (_, i) => pipeline.classify(`I lost my card ${i}`)));
    expect(answers).toHaveLength(120);
    expect(scheduler.running).toBe(true);
    expect(scheduler.queued).toBe(true);
    await scheduler.idle();

    expect(seen.maxRunning).toBe(1);
    expect(seen.starts).toBe(2); // requests 50 and 100; the 20 after them count towards the next
    expect(seen.rounds.map((r) => r.trigger)).toEqual(['auto', 'auto']);
    expect(scheduler.requestsUntilNext).toBe(30);
    scheduler.dispose();
  });

  it('joins triggers that arrive while a round is queued into that one round', async () => {
    const scheduler = new BenchmarkScheduler({ pipeline: customOnly(), every: 0 });
    const seen = watch(scheduler);
    const first = scheduler.runNow();
    const second = scheduler.runNow('cli');
    const third = scheduler.runNow();
    expect(third).toBe(second);
    const [a, b] = await Promise.all([first, second]);
    expect(a.timestamp < b.timestamp || a.timestamp === b.timestamp).toBe(true);
    expect(b.trigger).toBe('manual');
    expect(seen.starts).toBe(2);
    expect(seen.maxRunning).toBe(1);
    scheduler.dispose();
  });

  it('answers a user request issued during a round while the round is still running', async () => {
    const pipeline = fullPipeline();
    vllm.setDelay(10); // 154 probes to vllm take at least 1.5 s
    const scheduler = new BenchmarkScheduler({ pipeline, every: 0 });
    const seen = watch(scheduler);
    const halfway = new Promise<void>((resolve) =>
      scheduler.on('round-progress', (p) => {
        if (p.model === 'vllm' && p.done === 10) resolve();
      }),
    );
    const round = scheduler.runNow();
    await halfway;

    const started = performance.now();
    const answer = await pipeline.classify('I still have not received my new card');
    const userMs = performance.now() - started;
    expect(answer.model).toBe('custom');
    expect(scheduler.running).toBe(true);
    expect(seen.rounds).toHaveLength(0);
    expect(userMs).toBeLessThan(1_000);

    const record = await round;
    expect(record.models.vllm).toMatchObject({ status: 'ok', n: 154 });
    expect(record.request_count).toBe(0); // the user request came after the round was triggered
    scheduler.dispose();
  });

  it('runs no automatic round when every is 0', async () => {
    const pipeline = customOnly();
    const scheduler = new BenchmarkScheduler({ pipeline, every: 0 });
    const seen = watch(scheduler);
    for (let i = 0; i < 60; i++) await pipeline.classify('how do I top up?');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen.starts).toBe(0);
    expect(scheduler.requestsUntilNext).toBeNull();
    scheduler.dispose();
  });
});
