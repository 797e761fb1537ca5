/**
 * Benchmark rounds and remote models (src/bench/scheduler.ts): never on a schedule the address set,
 * at most one automatic or manual round per interval, probes paced per minute, and the pacing
 * kept out of the recorded latencies. Over in-process adapters and an injected clock.
 */
import { describe, expect, it } from 'vitest';
import type { AdapterHealth, IntentAdapter } from '../../src/core/adapter';
import type { BenchmarkEnvironment } from '../../src/bench/environment';
import { probeSetId, type ProbeSet } from '../../src/bench/probe-hash';
import { PROBE_SET } from '../../src/bench/probe-set';
import { BenchmarkScheduler, type SchedulerOptions } from '../../src/bench/scheduler';
import type { Device, ModelPrediction } from '../../src/core/prediction';
import { IntentPipeline } from '../../src/pipeline/pipeline';

const ENVIRONMENT: BenchmarkEnvironment = { user_agent: 'test', webgpu: null, hardware_concurrency: 1 };
const MINUTE = 60_000;

/** Twelve probes of the committed set, under the id their items hash to: rounds stay short. */
async function smallProbeSet(): Promise<ProbeSet> {
  const items = PROBE_SET.items.slice(0, 12);
  return { ...PROBE_SET, id: await probeSetId(items), n: items.length, items };
}

/** Answers every probe right at once; counts loads and when (on the test's clock) each probe arrived. */
class CountingAdapter implements IntentAdapter {
  loads = 0;
  readonly calls: number[] = [];
  constructor(
    readonly id: string,
    private readonly device: Device,
    private readonly clock: () => number,
  ) {}

  load(): Promise<void> {
    this.loads++;
    return Promise.resolve();
  }

  classify(text: string): Promise<ModelPrediction> {
    this.calls.push(this.clock());
    const intent = PROBE_SET.items.find((item) => item.text === text)?.label ?? 'card_arrival';
    return Promise.resolve({
      intent,
      confidence: 0.9,
      top: intent === 'out_of_scope' ? [] : [{ intent, score: 0.9 }],
      model: this.id,
      device: this.device,
      latency_ms: 0,
      truncated: false,
      masked: false,
      masked_categories: [],
    } as ModelPrediction);
  }

  health(): Promise<AdapterHealth> {
    return Promise.resolve(this.loads > 0 ? { state: 'ready', device: this.device } : { state: 'idle' });
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

/** A custom and a vllm adapter, a scheduler over them, and a clock the test moves (sleeping moves it too). */
async function setUp(options: Partial<SchedulerOptions> = {}) {
  const clock = { t: 1_000_000 };
  const now = () => clock.t;
  const custom = new CountingAdapter('custom', 'cpu', now);
  const vllm = new CountingAdapter('vllm', 'remote', now);
  const pipeline = new IntentPipeline({ factories: { custom: () => custom, vllm: () => vllm }, active: 'custom' });
  const slept: number[] = [];
  const scheduler = new BenchmarkScheduler({
    pipeline,
    probeSet: await smallProbeSet(),
    every: 0,
    round: { yieldToUsers: false, environment: ENVIRONMENT },
    now,
    sleep: (ms) => {
      slept.push(ms);
      clock.t += ms;
      return Promise.resolve();
    },
    ...options,
  });
  return { clock, custom, vllm, pipeline, scheduler, slept };
}

describe('benchmark rounds and remote models', () => {
  it('never probes a remote model on a schedule the page address set: 3 messages with ?bench=1 send it nothing', async () => {
    const { vllm, custom, pipeline, scheduler } = await setUp({ every: 1 });
    scheduler.setRemoteLimits({ autoRounds: false }); // what the site does for ?bench=
    const rounds: Awaited<ReturnType<typeof scheduler.runNow>>[] = [];
    scheduler.on('round', (round) => rounds.push(round));
    for (let i = 0; i < 3; i++) await pipeline.classify('I still have not received my new card');
    await scheduler.idle();

    expect(rounds.length).toBeGreaterThanOrEqual(2);
    for (const round of rounds) {
      expect(round.trigger).toBe('auto');
      expect(round.models.custom).toMatchObject({ status: 'ok', n: 12 });
      expect(round.models.vllm).toMatchObject({
        status: 'unavailable',
        n: 0,
        reason: expect.stringMatching(/schedule set by the page address/),
      });
    }
    expect(vllm.calls).toEqual([]);
    expect(vllm.loads).toBe(0); // not even a health check of the server
    expect(custom.calls.length).toBe(3 + 12 * rounds.length); // the user's 3 messages, then the probes

    // A person asking for a round is not a link: that one probes it.
    const manual = await scheduler.runNow('manual');
    expect(manual.models.vllm).toMatchObject({ status: 'ok', n: 12 });
    scheduler.dispose();
  });

  it('probes a remote model in at most one automatic or manual round per interval; cli rounds are exempt', async () => {
    const { clock, vllm, scheduler } = await setUp();
    scheduler.setRemoteLimits({ minIntervalMs: 30 * MINUTE });

    expect((await scheduler.runNow('manual')).models.vllm).toMatchObject({ status: 'ok', n: 12 });
    clock.t += 10 * MINUTE;
    const tooSoon = await scheduler.runNow('manual');
    expect(tooSoon.models.vllm).toMatchObject({
      status: 'unavailable',
      reason: expect.stringMatching(/at most once every 30 min; the next round may probe vllm in 20 min/),
    });
    expect(tooSoon.models.custom).toMatchObject({ status: 'ok', n: 12 });
    expect(vllm.calls).toHaveLength(12);

    expect((await scheduler.runNow('cli')).models.vllm).toMatchObject({ status: 'ok', n: 12 });
    expect(vllm.calls).toHaveLength(24);

    clock.t += 29 * MINUTE; // 29 min after the cli round
    expect((await scheduler.runNow('manual')).models.vllm).toMatchObject({ status: 'unavailable' });
    clock.t += 2 * MINUTE;
    expect((await scheduler.runNow('manual')).models.vllm).toMatchObject({ status: 'ok', n: 12 });
    expect(vllm.calls).toHaveLength(36);
    scheduler.dispose();
  });

  it('spaces probes to a remote model to at most maxProbesPerMinute, across rounds, and leaves on-device ones alone', async () => {
    const { vllm, custom, scheduler, slept } = await setUp({ remote: { maxProbesPerMinute: 6 } });
    await scheduler.runNow('cli');
    await scheduler.runNow('cli');
    expect(vllm.calls).toHaveLength(24);
    const gaps = vllm.calls.slice(1).map((t, i) => t - vllm.calls[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(10_000);
    // No minute holds more than 6 probes.
    for (const start of vllm.calls) expect(vllm.calls.filter((t) => t >= start && t < start + MINUTE).length).toBeLessThanOrEqual(6);
    expect(slept.length).toBe(23); // every vllm probe but the first waited its turn
    // The on-device probes were not paced: all 12 of a round at one instant of the test's clock.
    expect(new Set(custom.calls.slice(0, 12)).size).toBe(1);
    scheduler.dispose();
  });

  it('keeps the pacing out of the recorded latencies, and honours keepLatencies: false', async () => {
    // Real time here: 20 ms between probes to an adapter that answers at once.
    const pipeline = (() => {
      const custom = new CountingAdapter('custom', 'cpu', () => performance.now());
      const vllm = new CountingAdapter('vllm', 'remote', () => performance.now());
      return new IntentPipeline({ factories: { custom: () => custom, vllm: () => vllm }, active: 'custom' });
    })();
    const probeSet = await smallProbeSet();
    for (const keepLatencies of [true, false]) {
      const scheduler = new BenchmarkScheduler({
        pipeline,
        probeSet,
        every: 0,
        round: { yieldToUsers: false, environment: ENVIRONMENT, keepLatencies },
        remote: { maxProbesPerMinute: 3_000 },
      });
      const started = performance.now();
      const round = await scheduler.runNow('cli');
      expect(performance.now() - started).toBeGreaterThanOrEqual(11 * 20 - 5);
      const vllm = round.models.vllm!;
      expect(vllm).toMatchObject({ status: 'ok', n: 12 });
      expect(vllm.p99_latency_ms!).toBeLessThan(10);
      expect(vllm.avg_latency_ms!).toBeLessThan(10);
      if (keepLatencies) expect(vllm.latencies_ms!.every((ms) => ms < 10)).toBe(true);
      else expect(Object.values(round.models).every((m) => m.latencies_ms === undefined)).toBe(true);
      scheduler.dispose();
    }
  });

  it('refuses limits that make no sense', async () => {
    const { scheduler } = await setUp();
    expect(() => scheduler.setRemoteLimits({ maxProbesPerMinute: 0 })).toThrow(RangeError);
    expect(() => scheduler.setRemoteLimits({ minIntervalMs: -1 })).toThrow(RangeError);
    expect(scheduler.remoteLimits).toMatchObject({ autoRounds: true, minIntervalMs: 30 * MINUTE, maxProbesPerMinute: Infinity });
    scheduler.dispose();
  });
});
