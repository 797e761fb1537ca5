/**
 * Benchmark rounds and their scheduler over real adapters: the custom model on onnxruntime-node,
 * the vLLM adapter over HTTP to the stand-in server, Gemini left unconfigured, llama-qlora made
 * unavailable by the host (its answers change with each training; the CLI tests cover it). The
 * out-of-scope figures also over in-process classifiers whose every answer is known in advance.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeCustomAdapter } from '../../src/adapters/custom-node';
import type { AdapterHealth, ClassifyOptions, IntentAdapter } from '../../src/core/adapter';
import { collectEnvironment } from '../../src/bench/environment';
import { outOfScopeRates } from '../../src/bench/metrics';
import { PROBE_SET, verifyProbeSet, type ProbeItem, type ProbeSet } from '../../src/bench/probe-set';
import { inScopeAccuracy, runBenchmarkRound, summarize, type BenchmarkRound, type ModelRoundResult } from '../../src/bench/round';
import { BenchmarkScheduler } from '../../src/bench/scheduler';
import { BenchmarkStore } from '../../src/bench/store';
import { resolveConfig } from '../../src/core/config';
import { RemoteCallError } from '../../src/core/errors';
import { BANKING77_LABELS, OUT_OF_SCOPE } from '../../src/core/labels';
import type { ModelPrediction } from '../../src/core/prediction';
import { IntentPipeline } from '../../src/pipeline/pipeline';
import { UnconfiguredAdapter } from '../../src/adapters/unconfigured-adapter';
import { createFactories } from '../../src/runtime/adapter-factories';
import { readLabelledCsv } from '../../src/training/data';
import { loadNegatives } from '../../src/training/negatives';
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
  'accuracy_ci95',
  'avg_latency_ms',
  'device',
  'download_bytes',
  'errors',
  'in_scope_accuracy',
  'in_scope_rejected',
  'load_ms',
  'macro_f1',
  'mean_confidence',
  'n',
  'n_in_scope',
  'n_oos',
  'oos_rejected',
  'p50_latency_ms',
  'p95_latency_ms',
  'p99_latency_ms',
  'status',
];
const IN_SCOPE = PROBE_SET.items.filter((i) => i.label !== OUT_OF_SCOPE);
const OOS = PROBE_SET.items.filter((i) => i.label === OUT_OF_SCOPE);

describe('probe set', () => {
  it('holds two distinct Banking77 test queries for each of the 77 intents, under the id its items hash to', async () => {
    await verifyProbeSet(PROBE_SET);
    expect(PROBE_SET.n).toBe(188);
    expect(PROBE_SET.id).toMatch(/^b77-test-2x77-oos-[0-9a-f]{12}$/);
    const perLabel = new Map<string, number>();
    for (const item of IN_SCOPE) perLabel.set(item.label, (perLabel.get(item.label) ?? 0) + 1);
    expect([...perLabel.keys()].sort()).toEqual([...BANKING77_LABELS].sort());
    expect(new Set(perLabel.values())).toEqual(new Set([2]));
    expect(new Set(PROBE_SET.items.map((i) => i.text)).size).toBe(188);
    const test = new Set(readLabelledCsv('data/banking77/test.csv').map((r) => `${r.label}\u0000${r.text}`));
    expect(IN_SCOPE.every((i) => test.has(`${i.label}\u0000${i.text}`))).toBe(true);
  });

  it('holds 34 out-of-scope probes from the held-out negatives, none of them seen in training or validation', () => {
    // If this fails after src/training/negatives.ts changed, rerun `npm run probe-set`.
    const negatives = loadNegatives();
    const heldOut = new Set(negatives.test.map((r) => r.text));
    const seen = new Set([...negatives.train, ...negatives.validation].map((r) => r.text));
    expect(OOS).toHaveLength(34); // two from each of the 17 held-out source groups
    expect(OOS.filter((i) => !heldOut.has(i.text))).toEqual([]);
    expect(OOS.filter((i) => seen.has(i.text))).toEqual([]);
    expect(PROBE_SET.source).toContain('17 groups');
    // Mixed in, not appended: a round cut short still meets some.
    expect(PROBE_SET.items.slice(0, 40).some((i) => i.label === OUT_OF_SCOPE)).toBe(true);
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
    expect(round).toMatchObject({ request_count: 7, trigger: 'manual', probe_set: { id: PROBE_SET.id, n: 188, intents: 77 }, environment });
    expect(Object.keys(round.environment).sort()).toEqual(['cross_origin_isolated', 'hardware_concurrency', 'user_agent', 'webgpu']);
    expect(round.environment.user_agent).toMatch(/^Node\.js\//);
    expect(round.environment.cross_origin_isolated).toBeNull();
    expect(round.environment.webgpu).toBeNull();
    expect(Object.keys(round.models)).toEqual(['custom', 'llama-qlora', 'vllm', 'gemini']);

    const c = round.models.custom!;
    expect(Object.keys(c).sort()).toEqual([...MODEL_FIELDS, 'latencies_ms'].sort());
    expect(c).toMatchObject({ status: 'ok', device: 'cpu', n: 188, n_in_scope: 154, n_oos: 34, errors: 0 });
    expect(c.in_scope_accuracy!).toBeGreaterThan(0.8);
    // Over all probes: the in-scope hits plus the rejected out-of-scope probes.
    expect(c.accuracy!).toBeCloseTo((154 * c.in_scope_accuracy! + 34 * c.oos_rejected!) / 188, 12);
    expect(c.in_scope_rejected!).toBeLessThanOrEqual(1 - c.in_scope_accuracy!);
    expect(c.mean_confidence!).toBeGreaterThan(0);
    expect(c.mean_confidence!).toBeLessThanOrEqual(1);
    expect(c.latencies_ms).toHaveLength(188);
    expect(c.p50_latency_ms!).toBeLessThanOrEqual(c.p95_latency_ms!);
    expect(c.p95_latency_ms!).toBeLessThanOrEqual(c.p99_latency_ms!);
    expect(c.p99_latency_ms!).toBeLessThanOrEqual(Math.max(...c.latencies_ms!));
    // Loaded before the round (beforeAll): the adapter's own record of that load, the model's files in bytes.
    expect(c.load_ms!).toBeGreaterThan(0);
    expect(c.download_bytes!).toBeGreaterThan(1_000_000);
    expect(c.macro_f1!).toBeGreaterThan(0.7);
    expect(c.accuracy_ci95![0]).toBeLessThan(c.accuracy!);
    expect(c.accuracy_ci95![1]).toBeGreaterThan(c.accuracy!);

    // The stand-in answers from a few keywords: it answers every probe, mostly wrongly.
    expect(round.models.vllm).toMatchObject({ status: 'ok', device: 'remote', n: 188, n_in_scope: 154, n_oos: 34, errors: 0 });
    expect(round.models.vllm!.accuracy!).toBeLessThan(c.accuracy!);
    expect(round.models.vllm).toMatchObject({ download_bytes: 0, load_ms: expect.any(Number) });
    expect(chatRequests()).toBe(188);

    const g = round.models.gemini!;
    expect(Object.keys(g).sort()).toEqual([...MODEL_FIELDS, 'reason'].sort());
    expect(g).toMatchObject({ status: 'unavailable', n: 0, errors: 0, accuracy: null, p50_latency_ms: null, mean_confidence: null });
    expect(g).toMatchObject({ in_scope_accuracy: null, oos_rejected: null, in_scope_rejected: null, n_in_scope: 0, n_oos: 0 });
    expect(g).toMatchObject({ macro_f1: null, accuracy_ci95: null, load_ms: null, download_bytes: null });
    expect(g.reason).toMatch(/proxy URL|API key/);
    expect(round.models['llama-qlora']).toMatchObject({ status: 'unavailable', device: null, n: 0, errors: 0, reason: LLAMA_REASON });

    expect(round.summary).toEqual({
      fastest_model: 'custom',
      most_accurate_model: 'custom',
      recommendation: expect.stringMatching(/^Use custom: /),
    });
    // Whatever this model's threshold, the recommendation says what it did with the out-of-scope probes.
    expect(round.summary.recommendation).toMatch(/ custom rejected (none of the 34|\d+\.\d% of the 34) out-of-scope probes/);
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
    expect(round.models.custom).toMatchObject({ status: 'ok', n: 188 });
    expect(round.models.custom!.latencies_ms).toBeUndefined();
    expect(chatRequests()).toBe(before);
    expect(round.request_count).toBe(1);
  });

  it('marks a model that answers no probe as failed, and stops sending after 5 errors in a row', async () => {
    const pipeline = fullPipeline();
    vllm.failNext(500, undefined, { times: 1_000, path: '/v1/chat/completions' });
    const round = await runBenchmarkRound({ pipeline, probeSet: PROBE_SET, trigger: 'manual' });
    expect(round.models.vllm).toMatchObject({ status: 'failed', device: 'remote', n: 0, errors: 5, accuracy: null, latencies_ms: [] });
    expect(round.models.vllm).toMatchObject({ oos_rejected: null, in_scope_rejected: null, in_scope_accuracy: null, n_oos: 0 });
    expect(round.models.vllm!.reason).toMatch(/stopped after 5 failed probes in a row, 183 not sent; last error: .*500/);
    expect(chatRequests()).toBe(5);
  });
});

/**
 * An in-process classifier whose every answer is known: `answer` maps a probe to an intent (or
 * throws, as a failing model would), after `delayMs`.
 */
class ScriptedAdapter implements IntentAdapter {
  constructor(
    readonly id: string,
    private readonly answer: (item: ProbeItem) => string,
    private readonly delayMs = 0,
  ) {}

  async classify(text: string, options: ClassifyOptions = {}): Promise<ModelPrediction> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    options.signal?.throwIfAborted();
    const intent = this.answer(PROBE_SET.items.find((i) => i.text === text)!);
    const top = intent === OUT_OF_SCOPE ? [{ intent: 'card_arrival', score: 0.2 }] : [{ intent, score: 0.9 }];
    const confidence = intent === OUT_OF_SCOPE ? 0.8 : 0.9;
    return {
      intent,
      confidence,
      top,
      model: this.id,
      device: 'cpu',
      latency_ms: 0,
      truncated: false,
      masked: false,
      masked_categories: [],
    };
  }

  load(): Promise<void> {
    return Promise.resolve();
  }

  health(): Promise<AdapterHealth> {
    return Promise.resolve({ state: 'ready', device: 'cpu' });
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

/** A wrong in-scope label for `label`. */
const wrong = (label: string) => (label === 'card_arrival' ? 'card_linking' : 'card_arrival');

/**
 * Rejects every other out-of-scope probe (17 of 34); of the in-scope probes it wrongly rejects the
 * first 4 and mislabels the next 6: in-scope accuracy 144/154, accuracy (144 + 17)/188.
 */
function halfRejecter(): (item: ProbeItem) => string {
  const inScopeIndex = new Map(IN_SCOPE.map((item, i) => [item.text, i]));
  const oosIndex = new Map(OOS.map((item, i) => [item.text, i]));
  return (item) => {
    if (item.label === OUT_OF_SCOPE) return oosIndex.get(item.text)! % 2 === 0 ? OUT_OF_SCOPE : 'card_arrival';
    const i = inScopeIndex.get(item.text)!;
    return i < 4 ? OUT_OF_SCOPE : i < 10 ? wrong(item.label) : item.label;
  };
}

/** Right on every in-scope probe, and a banking intent for every out-of-scope one. */
const neverRejects = (item: ProbeItem) => (item.label === OUT_OF_SCOPE ? 'card_arrival' : item.label);

function scriptedPipeline(adapters: ScriptedAdapter[]): IntentPipeline {
  return new IntentPipeline({ factories: Object.fromEntries(adapters.map((a) => [a.id, () => a])), active: adapters[0]!.id });
}

describe('out-of-scope figures of a round', () => {
  it('counts rejections of out-of-scope probes, wrong rejections of in-scope ones and in-scope accuracy, per model', async () => {
    const pipeline = scriptedPipeline([new ScriptedAdapter('rejecter', halfRejecter()), new ScriptedAdapter('never', neverRejects)]);
    const round = await runBenchmarkRound({ pipeline, probeSet: PROBE_SET, trigger: 'manual', yieldToUsers: false });

    expect(round.models.rejecter).toMatchObject({
      status: 'ok',
      n: 188,
      n_in_scope: 154,
      n_oos: 34,
      oos_rejected: 17 / 34,
      in_scope_rejected: 4 / 154,
      in_scope_accuracy: 144 / 154,
      accuracy: (144 + 17) / 188,
      errors: 0,
    });
    expect(round.models.never).toMatchObject({
      n_in_scope: 154,
      n_oos: 34,
      oos_rejected: 0,
      in_scope_rejected: 0,
      in_scope_accuracy: 1,
      accuracy: 154 / 188,
    });
    // An out_of_scope answer's confidence (that it is none of the intents) is averaged like any other.
    expect(round.models.rejecter!.mean_confidence).toBeCloseTo((21 * 0.8 + 167 * 0.9) / 188, 12);
  });

  it('computes the rates over the probes a model answered, not over those it failed', async () => {
    // Fails every fourth out-of-scope probe and every tenth in-scope one, rejecting the out-of-scope probes it answers.
    const inScopeIndex = new Map(IN_SCOPE.map((item, i) => [item.text, i]));
    const oosIndex = new Map(OOS.map((item, i) => [item.text, i]));
    const flaky = new ScriptedAdapter('flaky', (item) => {
      const failed = item.label === OUT_OF_SCOPE ? oosIndex.get(item.text)! % 4 === 0 : inScopeIndex.get(item.text)! % 10 === 0;
      if (failed) throw new RemoteCallError({ message: 'the server had a hiccup', status: 503 });
      return item.label;
    });
    const round = await runBenchmarkRound({
      pipeline: scriptedPipeline([flaky]),
      probeSet: PROBE_SET,
      trigger: 'manual',
      yieldToUsers: false,
    });
    const oosFailed = Math.ceil(34 / 4); // indices 0, 4, ..., 32
    const inScopeFailed = Math.ceil(154 / 10); // indices 0, 10, ..., 150
    expect(round.models.flaky).toMatchObject({
      status: 'ok',
      n: 188 - oosFailed - inScopeFailed,
      errors: oosFailed + inScopeFailed,
      n_oos: 34 - oosFailed,
      n_in_scope: 154 - inScopeFailed,
      oos_rejected: 1,
      in_scope_rejected: 0,
      in_scope_accuracy: 1,
      accuracy: 1,
    });
    expect(round.models.flaky!.reason).toBe(`${oosFailed + inScopeFailed} of 188 probes failed; last error: the server had a hiccup`);
  });

  it('agrees with the custom model answering each probe itself, with a rejection threshold that makes it reject', async () => {
    // The real model with a strict threshold: whatever it answers, the round must count exactly those answers.
    const strict: IntentAdapter = {
      id: 'custom-strict',
      load: () => custom.load(),
      classify: (text, options) => custom.classify(text, { ...options, oosThreshold: 0.9 }),
      health: () => custom.health(),
      dispose: () => Promise.resolve(),
    };
    const round = await runBenchmarkRound({
      pipeline: new IntentPipeline({ factories: { 'custom-strict': () => strict }, active: 'custom-strict' }),
      probeSet: PROBE_SET,
      trigger: 'manual',
      yieldToUsers: false,
    });
    const answers = [];
    for (const item of PROBE_SET.items) answers.push({ label: item.label, predicted: (await strict.classify(item.text)).intent });
    const { n_oos, n_in_scope, ...rates } = outOfScopeRates(answers);
    expect(round.models['custom-strict']).toMatchObject({ n: 188, n_oos, n_in_scope, ...rates });
    expect(rates.oos_rejected!).toBeGreaterThan(0); // at 0.9 it does reject: the figures are not all zero
    expect(rates.in_scope_rejected!).toBeGreaterThan(0);
    expect(rates.in_scope_accuracy!).toBeLessThan(1 - rates.in_scope_rejected! + 1e-12);
  });
});

describe('the recommendation and out-of-scope probes', () => {
  it('names a model that rejects no out-of-scope probe as such, even when it is the one recommended', async () => {
    // `never` is the fastest by far and `rejecter` more than 2x slower: the pick is `never`, the most accurate `rejecter`,
    // but 81.9% and 85.6% over 188 probes are each within the other's 95% interval: not "more accurate".
    const pipeline = scriptedPipeline([new ScriptedAdapter('never', neverRejects), new ScriptedAdapter('rejecter', halfRejecter(), 8)]);
    const round = await runBenchmarkRound({ pipeline, probeSet: PROBE_SET, trigger: 'manual', yieldToUsers: false });
    expect(round.summary).toMatchObject({
      fastest_model: 'never',
      most_accurate_model: 'rejecter',
      within_interval: [['never', 'rejecter']],
    });
    expect(round.summary.recommendation).toMatch(
      /^Use never: the most accurate \(81\.9% of all probes, 100\.0% in scope\) of the models within 2x of the fastest p50 .*; rejecter is slower \(p50 .*\) and no more accurate within the 95% intervals \(rejecter 85\.6% \(95% interval 79\.9-89\.9%\); never 81\.9% \(95% interval 75\.8-86\.8%\)\)\. never rejected none of the 34 out-of-scope probes: it gives a banking intent even to messages that are not about banking\.$/,
    );
  });

  it('says how often the recommended model rejects, and adds nothing for rounds without out-of-scope probes', () => {
    const result = (accuracy: number, p50: number, extra: Partial<ModelRoundResult> = {}): ModelRoundResult => ({
      status: 'ok',
      device: 'cpu',
      n: 188,
      avg_latency_ms: p50,
      p50_latency_ms: p50,
      p95_latency_ms: p50,
      p99_latency_ms: p50,
      accuracy,
      mean_confidence: 0.9,
      errors: 0,
      ...extra,
    });
    const rejecting = result(161 / 188, 2, {
      in_scope_accuracy: 144 / 154,
      oos_rejected: 0.5,
      in_scope_rejected: 4 / 154,
      n_in_scope: 154,
      n_oos: 34,
    });
    expect(summarize({ rejecting }, 188).recommendation).toBe(
      'Use rejecting: the most accurate (85.6% of all probes, 93.5% in scope) and the fastest (p50 2.00 ms). ' +
        'rejecting rejected 50.0% of the 34 out-of-scope probes and wrongly rejected 2.6% of the 154 in-scope ones.',
    );
    // A record from before the probe set had out-of-scope probes: no such fields, no such sentence.
    const old = result(0.916, 2);
    expect(summarize({ old }, 154).recommendation).toBe('Use old: the most accurate (91.6%) and the fastest (p50 2.00 ms).');
    expect(inScopeAccuracy(old)).toBe(0.916);
    expect(inScopeAccuracy(rejecting)).toBe(144 / 154);
    expect(inScopeAccuracy(undefined)).toBeNull();
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
    expect(seen.rounds[0]).toMatchObject({ trigger: 'auto', request_count: 50, models: { custom: { status: 'ok', n: 188 } } });
    expect(await store.list()).toEqual(seen.rounds);
    expect(pipeline.getStats().requests).toBe(50); // the round's 188 probes are not user requests
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
    vllm.setDelay(10); // 188 probes to vllm take at least 1.9 s
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
    expect(record.models.vllm).toMatchObject({ status: 'ok', n: 188 });
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
