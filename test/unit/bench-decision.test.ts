/**
 * Benchmarks a decision can rest on: the 95% interval (Wilson) of each accuracy and what the
 * recommendation says when two models are within each other's interval; macro-F1, load time and
 * download size in every record; the probe set chosen from the active model's own labels (its
 * own probe-set.json, or a refusal naming the mismatch, never Banking77's probes for a model with
 * other intents), and other models probed only when their labels cover it; the summary across
 * rounds shared by `npm run bench -- --summary` and the dashboard; the JSONL carrying it all.
 */
import { describe, expect, it } from 'vitest';
import { AdapterLifecycle } from '../../src/adapters/adapter-lifecycle';
import type { ClassifyOptions, IntentAdapter } from '../../src/core/adapter';
import { formatAcrossRounds, summarizeAcrossRounds } from '../../src/bench/across-rounds';
import { exportJsonl, parseJsonl } from '../../src/bench/jsonl';
import { macroF1, median, wilsonInterval, withinEachOther } from '../../src/bench/metrics';
import { chooseProbeSet, parseProbeSet, ProbeSetMismatchError, probeIntents } from '../../src/bench/probe-choice';
import { drawProbeSet } from '../../src/bench/probe-draw';
import { probeSetId } from '../../src/bench/probe-hash';
import { PROBE_SET, type ProbeSet } from '../../src/bench/probe-set';
import { runBenchmarkRound, summarize, type BenchmarkRound, type ModelRoundResult } from '../../src/bench/round';
import { BenchmarkScheduler } from '../../src/bench/scheduler';
import { BANKING77_LABELS, OUT_OF_SCOPE } from '../../src/core/labels';
import type { Device, ModelPrediction } from '../../src/core/prediction';
import { IntentPipeline } from '../../src/pipeline/pipeline';

const environment = { user_agent: 'test', webgpu: null, hardware_concurrency: 2 };

describe('the 95% interval of an accuracy', () => {
  it('is the Wilson score interval: right at 0%, 50% and 100%, and null without probes', () => {
    const [lo, hi] = wilsonInterval(5, 10)!;
    expect(lo).toBeCloseTo(0.2366, 4);
    expect(hi).toBeCloseTo(0.7634, 4);
    expect(wilsonInterval(0, 10)![0]).toBe(0);
    expect(wilsonInterval(0, 10)![1]).toBeCloseTo(0.2775, 4);
    expect(wilsonInterval(10, 10)![1]).toBe(1);
    expect(wilsonInterval(10, 10)![0]).toBeCloseTo(0.7225, 4);
    expect(wilsonInterval(0, 0)).toBeNull();
    // 154 probes: about ±4.5 points around 90%, as the issue measured.
    const [a, b] = wilsonInterval(139, 154)!;
    expect(b - a).toBeGreaterThan(0.085);
    expect(b - a).toBeLessThan(0.1);
  });

  it('tells when two rates are each within the other’s interval, and only then', () => {
    const at = (k: number, n: number) => ({ value: k / n, interval: wilsonInterval(k, n)! });
    expect(withinEachOther(at(173, 188), at(172, 188))).toBe(true); // 92.0% against 91.5%
    expect(withinEachOther(at(180, 188), at(120, 188))).toBe(false);
    // One-sided: 80% of 1,000 lies in 85% of 20's wide interval, but not the other way round.
    expect(withinEachOther(at(800, 1000), at(17, 20))).toBe(false);
  });

  it('median and macro-F1', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
    // a: F1 1, b: F1 2/3 (P 1/2, R 1), c: F1 0 -> mean 5/9, whatever the share of each label.
    const rows = [
      { label: 'a', predicted: 'a', confidence: 1 },
      { label: 'b', predicted: 'b', confidence: 1 },
      { label: 'c', predicted: 'b', confidence: 1 },
    ];
    expect(macroF1(rows)).toBeCloseTo(5 / 9, 12);
  });
});

/** A round's record of one model that answered `correct` of `n` probes, at `p50` ms. */
function answered(correct: number, n: number, p50: number, extra: Partial<ModelRoundResult> = {}): ModelRoundResult {
  return {
    status: 'ok',
    device: 'cpu',
    n,
    avg_latency_ms: p50,
    p50_latency_ms: p50,
    p95_latency_ms: p50 * 2,
    p99_latency_ms: p50 * 3,
    accuracy: correct / n,
    mean_confidence: 0.9,
    errors: 0,
    accuracy_ci95: wilsonInterval(correct, n),
    ...extra,
  };
}

describe('the recommendation and the intervals', () => {
  it('names the faster of two models the probes cannot tell apart, and says why, instead of "the most accurate"', () => {
    // 92.0% at 6 ms and 91.5% at 4 ms over 188 probes: 0.5 points apart, about ±4 each.
    const summary = summarize({ accurate: answered(173, 188, 6), quick: answered(172, 188, 4) }, 188);
    expect(summary.most_accurate_model).toBe('accurate');
    expect(summary.within_interval).toEqual([['accurate', 'quick']]);
    expect(summary.recommendation).toBe(
      'Use quick: as accurate as accurate within their 95% intervals (quick 91.5% (95% interval 86.6-94.7%); ' +
        'accurate 92.0% (95% interval 87.3-95.1%)), and faster (p50 4.00 ms against 6.00 ms).',
    );
    expect(summary.recommendation).not.toMatch(/the most accurate/);
  });

  it('says "the most accurate" only when the gap is outside the intervals, and names ties with other models', () => {
    const clear = summarize({ good: answered(180, 188, 5), poor: answered(120, 188, 4) }, 188);
    expect(clear.recommendation).toMatch(
      /^Use good: the most accurate \(95\.7%\) at p50 5\.00 ms, within 2x of the fastest \(poor, 4\.00 ms\)\.$/,
    );
    expect(clear.within_interval).toBeUndefined();

    // The most accurate is also the fastest; a slower one is within its interval: the sentence says so.
    const tie = summarize({ best: answered(175, 188, 3), close: answered(172, 188, 5), far: answered(100, 188, 4) }, 188);
    expect(tie.recommendation).toMatch(/^Use best: the most accurate \(93\.1%\) and the fastest \(p50 3\.00 ms\)\. /);
    expect(tie.recommendation).toContain(
      "On these 188 probes best cannot be told apart from close on accuracy: each is within the other's 95% interval (best 93.1% (95% interval",
    );
    expect(tie.within_interval).toEqual([['best', 'close']]);
  });
});

/** A tiny fixed probe set over `labels` (two probes each) and two out-of-scope probes. */
async function probeSetOf(labels: string[], prefix = 'test-'): Promise<ProbeSet> {
  const items = [
    ...labels.flatMap((label) => [
      { text: `${label} one`, label },
      { text: `${label} two`, label },
    ]),
    { text: 'what is the weather', label: OUT_OF_SCOPE },
    { text: 'play some jazz', label: OUT_OF_SCOPE },
  ];
  return { id: await probeSetId(items, prefix), n: items.length, source: 'test', seed: 1, items };
}

const BANK_INTENTS = ['atm_fee', 'card_delivery', 'fx_rate', 'lost_card', 'pin_locked', 'top_up_problem'];

/**
 * A model that answers every probe from its text (`<label> one` → label), reports `labels` and
 * a load of `bytes` through the shared adapter lifecycle, and may ship `own` as its probe set.
 */
class LabelledAdapter extends AdapterLifecycle {
  constructor(
    readonly id: string,
    private readonly labels: readonly string[],
    private readonly options: { own?: unknown; bytes?: number; device?: Device; wrongEvery?: number } = {},
  ) {
    super();
  }

  protected override modelLabels(): readonly string[] {
    return [...this.labels, OUT_OF_SCOPE];
  }

  protected async runLoad(): Promise<Device> {
    const bytes = this.options.bytes ?? 0;
    if (bytes > 0) {
      this.progress({ stage: 'fetching model.onnx', loaded: bytes / 2, total: bytes });
      this.progress({ stage: 'fetching model.onnx', loaded: bytes, total: bytes });
      this.progress({ stage: 'creating session', loaded: bytes, total: bytes });
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    return this.options.device ?? 'wasm';
  }

  private calls = 0;

  async classify(text: string, _options?: ClassifyOptions): Promise<ModelPrediction> {
    await this.whenLoaded(undefined);
    const label = text.split(' ')[0]!;
    const every = this.options.wrongEvery ?? 0;
    const known = this.labels.includes(label);
    const intent = every > 0 && ++this.calls % every === 0 ? this.labels[0]! : known ? label : OUT_OF_SCOPE;
    return {
      intent,
      confidence: 0.9,
      top: [{ intent: known ? label : this.labels[0]!, score: 0.9 }],
      model: this.id,
      device: this.options.device ?? 'wasm',
      latency_ms: 1,
      truncated: false,
      masked: false,
      masked_categories: [],
    };
  }

  async ownProbeSet(): Promise<unknown> {
    return this.options.own;
  }
}

function pipelineOf(adapters: IntentAdapter[], active = adapters[0]!.id): IntentPipeline {
  return new IntentPipeline({ factories: Object.fromEntries(adapters.map((a) => [a.id, () => a])), active });
}

describe('the probe set follows the active model’s labels', () => {
  it('Banking77’s intents: the bundled set, without reading any file of the model', async () => {
    let read = false;
    const chosen = await chooseProbeSet({
      id: 'custom',
      labels: [...BANKING77_LABELS, OUT_OF_SCOPE],
      ownProbeSet: async () => ((read = true), undefined),
    });
    expect(chosen).toBe(PROBE_SET);
    expect(read).toBe(false);
    // A model that does not say its labels (an adapter without facts) keeps the bundled set too.
    expect(await chooseProbeSet({ id: 'x' })).toBe(PROBE_SET);
  });

  it('a bank’s own 6 intents: its own probe set; without one the round is refused, naming the mismatch', async () => {
    const own = await probeSetOf(BANK_INTENTS, 'heldout-6-intents-');
    const labels = [...BANK_INTENTS, OUT_OF_SCOPE];
    expect(await chooseProbeSet({ id: 'custom', labels, ownProbeSet: async () => JSON.parse(JSON.stringify(own)) })).toEqual(own);

    const refusal = await chooseProbeSet({ id: 'custom', labels, ownProbeSet: async () => undefined }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(ProbeSetMismatchError);
    const message = (refusal as Error).message;
    expect(message).toMatch(/^Cannot benchmark custom on the Banking77 probe set \(b77-test-2x77-oos-[0-9a-f]{12}\): custom has 6 intents/);
    expect(message).toContain('atm_fee, card_delivery, fx_rate, lost_card, pin_locked, top_up_problem');
    expect(message).toContain("77 of the probe set's 77 intents are not among them");
    expect(message).toContain('no probe-set.json of its own');
    expect(message).toContain('npm run probe-set -- --model-dir DIR --data HELD-OUT.csv');
    expect((refusal as ProbeSetMismatchError).missing).toHaveLength(77);
  });

  it('refuses a probe set that is not the model’s (other intents, edited items, not a probe set)', async () => {
    const labels = [...BANK_INTENTS, OUT_OF_SCOPE];
    const other = await probeSetOf(['atm_fee', 'mortgage']);
    await expect(chooseProbeSet({ id: 'custom', labels, ownProbeSet: async () => other })).rejects.toThrow(
      /its own probe-set\.json \(test-[0-9a-f]{12}\): 1 of the probe set's 2 intents are not among them \(mortgage\)/,
    );
    await expect(chooseProbeSet({ id: 'custom', labels }, { fixed: other })).rejects.toBeInstanceOf(ProbeSetMismatchError);
    const edited = { ...other, items: other.items.map((item, i) => (i === 0 ? { ...item, text: 'changed' } : item)) };
    await expect(parseProbeSet(edited, 'probe-set.json')).rejects.toThrow(/does not match its items/);
    await expect(parseProbeSet({ id: 'x', items: [] }, 'models/a/probe-set.json')).rejects.toThrow(
      'models/a/probe-set.json is not a probe set: it has no items.',
    );
  });

  it('a round of a 6-intent model probes its 6 intents; a remote model constrained to Banking77 is left out, saying why', async () => {
    const own = await probeSetOf(BANK_INTENTS, 'heldout-6-intents-');
    const custom = new LabelledAdapter('custom', BANK_INTENTS, { own, bytes: 3_000_000, wrongEvery: 7 });
    const vllm = new LabelledAdapter('vllm', BANKING77_LABELS, { device: 'remote' });
    const round = await runBenchmarkRound({ pipeline: pipelineOf([custom, vllm]), trigger: 'cli', yieldToUsers: false, environment });

    expect(round.probe_set).toEqual({ id: own.id, n: 14, intents: 6 });
    expect(probeIntents(own)).toEqual(BANK_INTENTS);
    const c = round.models.custom!;
    expect(c).toMatchObject({ status: 'ok', n: 14, n_in_scope: 12, n_oos: 2, download_bytes: 3_000_000 });
    expect(c.accuracy).toBeCloseTo(12 / 14, 12); // every 7th answer wrong
    expect(c.load_ms!).toBeGreaterThan(0);
    expect(c.macro_f1!).toBeGreaterThan(0.7);
    expect(c.macro_f1!).toBeLessThan(1);
    expect(c.accuracy_ci95).toEqual(wilsonInterval(12, 14)!.map((v) => Math.round(v * 1e6) / 1e6));

    const v = round.models.vllm!;
    expect(v).toMatchObject({ status: 'unavailable', n: 0, device: 'remote', download_bytes: 0 });
    expect(v.reason).toBe(
      "Not probed: the probe set follows custom's labels, and vllm cannot answer 6 of its 6 intents (atm_fee, card_delivery, fx_rate, lost_card, pin_locked, … (6 in all)).",
    );
    expect(round.summary.recommendation).toMatch(/^Use custom: /);
  });

  it('without its own probe set the round is refused, and the scheduler reports it as a failed round', async () => {
    const custom = new LabelledAdapter('custom', BANK_INTENTS);
    const pipeline = pipelineOf([custom]);
    await expect(runBenchmarkRound({ pipeline, trigger: 'cli', yieldToUsers: false, environment })).rejects.toBeInstanceOf(
      ProbeSetMismatchError,
    );
    const scheduler = new BenchmarkScheduler({ pipeline, round: { yieldToUsers: false, environment } });
    const errors: unknown[] = [];
    scheduler.on('round-error', ({ error }) => errors.push(error));
    await expect(scheduler.runNow('manual')).rejects.toThrow(/Cannot benchmark custom on the Banking77 probe set/);
    expect(errors).toHaveLength(1);
    scheduler.dispose();
  });

  it('with a remote model active, a bank’s on-device model is left out of a Banking77 round rather than scored on it', async () => {
    const custom = new LabelledAdapter('custom', BANK_INTENTS, { bytes: 10 });
    const vllm = new LabelledAdapter('vllm', BANKING77_LABELS, { device: 'remote' });
    const round = await runBenchmarkRound({
      pipeline: pipelineOf([custom, vllm], 'vllm'),
      trigger: 'cli',
      yieldToUsers: false,
      environment,
    });
    expect(round.probe_set.id).toBe(PROBE_SET.id);
    expect(round.models.custom).toMatchObject({ status: 'unavailable', n: 0, download_bytes: 10 });
    expect(round.models.custom!.reason).toMatch(
      /^Not probed: the probe set follows vllm's labels, and custom cannot answer 77 of its 77 intents/,
    );
    expect(round.models.vllm).toMatchObject({ status: 'ok', n: PROBE_SET.n, download_bytes: 0 });
  });
});

describe('a model’s own probe set, drawn from held-out rows', () => {
  const rows = BANK_INTENTS.flatMap((label) => Array.from({ length: 40 }, (_, i) => ({ text: `${label} question ${i}`, label })));
  const negatives = ['a', 'b', 'c'].flatMap((group) => Array.from({ length: 5 }, (_, i) => ({ text: `${group} chat ${i}`, group })));

  it('is stratified (the same number per intent, about 150 in scope), seeded, and verifiable by its id', async () => {
    const set = await drawProbeSet({ labels: [...BANK_INTENTS, OUT_OF_SCOPE], rows, negatives, from: 'test rows' });
    const perLabel = new Map<string, number>();
    for (const item of set.items) perLabel.set(item.label, (perLabel.get(item.label) ?? 0) + 1);
    for (const label of BANK_INTENTS) expect(perLabel.get(label)).toBe(25); // ceil(150 / 6)
    expect(perLabel.get(OUT_OF_SCOPE)).toBe(6); // 2 per source group
    expect(set.n).toBe(156);
    expect(set.id).toMatch(/^heldout-6-intents-[0-9a-f]{12}$/);
    expect(new Set(set.items.map((i) => i.text)).size).toBe(set.n);
    await expect(parseProbeSet(JSON.parse(JSON.stringify(set)), 'probe-set.json')).resolves.toEqual(set);
    expect(await drawProbeSet({ labels: [...BANK_INTENTS, OUT_OF_SCOPE], rows, negatives, from: 'test rows' })).toEqual(set);
    expect(set.source).toContain('for 6 of the model');
  });

  it('never draws a text the model trained on, nor a label it does not have; says which intents have no rows', async () => {
    const exclude = new Set(rows.filter((r) => r.label === 'atm_fee').map((r) => r.text));
    const set = await drawProbeSet({
      labels: [...BANK_INTENTS, 'mortgage'],
      rows: [...rows, { text: 'a stray label', label: 'unknown' }],
      exclude,
      perLabel: 3,
      from: 'validation rows',
    });
    expect(set.items.some((i) => exclude.has(i.text) || i.label === 'unknown')).toBe(false);
    expect(probeIntents(set)).toEqual(BANK_INTENTS.filter((l) => l !== 'atm_fee'));
    expect(set.n).toBe(15);
    expect(set.source).toContain('no held-out row for atm_fee, mortgage');
  });
});

function roundAt(timestamp: string, models: Record<string, ModelRoundResult>, probe = PROBE_SET): BenchmarkRound {
  return {
    timestamp,
    request_count: 0,
    trigger: 'cli',
    probe_set: { id: probe.id, n: probe.n },
    models,
    summary: summarize(models, probe.n),
    environment,
  };
}

describe('the summary across rounds (CLI --summary and the dashboard)', () => {
  const rounds = [
    roundAt('2025-01-01T10:00:00.000Z', { custom: answered(150, 188, 9, { load_ms: 900, download_bytes: 3_500_000 }) }),
    roundAt('2025-01-01T11:00:00.000Z', { custom: answered(170, 188, 5, { load_ms: 400, download_bytes: 3_500_000 }) }),
    roundAt('2025-01-01T12:00:00.000Z', {
      custom: answered(172, 188, 4, { load_ms: 300, download_bytes: 3_500_000 }),
      vllm: answered(171, 188, 40, { device: 'remote', download_bytes: 0 }),
    }),
    roundAt('2025-01-01T13:00:00.000Z', {
      custom: answered(174, 188, 6, { load_ms: 500, download_bytes: 3_500_000 }),
      vllm: { ...answered(0, 188, 0), status: 'unavailable', n: 0, accuracy: null, p50_latency_ms: null, accuracy_ci95: null },
    }),
  ];

  it('takes the median of each figure per model over the last N rounds it answered', () => {
    const summary = summarizeAcrossRounds([...rounds].reverse(), { last: 3 });
    expect(summary).toMatchObject({ last: 3, rounds: 3, from: '2025-01-01T11:00:00.000Z', to: '2025-01-01T13:00:00.000Z' });
    expect(summary.probe_sets).toHaveLength(1);
    const [group] = summary.probe_sets;
    expect(group).toMatchObject({ probe_set: PROBE_SET.id, n: 188, rounds: 3 });
    const custom = group!.models.find((m) => m.model === 'custom')!;
    expect(custom).toMatchObject({
      rounds: 3,
      answered: 3,
      accuracy: 172 / 188,
      p50_latency_ms: 5,
      load_ms: 400,
      download_bytes: 3_500_000,
    });
    expect(custom.accuracy_range).toEqual([170 / 188, 174 / 188]);
    expect(custom.accuracy_ci95).toEqual(wilsonInterval(172, 188));
    const vllm = group!.models.find((m) => m.model === 'vllm')!;
    expect(vllm).toMatchObject({ rounds: 2, answered: 1, accuracy: 171 / 188, download_bytes: 0 });
    expect(group!.within_interval).toEqual([['custom', 'vllm']]);
    // All four rounds: the first, slow one moves the medians only a little.
    expect(summarizeAcrossRounds(rounds).probe_sets[0]!.models[0]!.p50_latency_ms).toBe(5.5);
  });

  it('keeps rounds on different probe sets apart, latest first, and carries the peer comparison', async () => {
    const own = await probeSetOf(BANK_INTENTS, 'heldout-6-intents-');
    const bank = roundAt('2025-01-02T10:00:00.000Z', { custom: answered(13, 14, 3) }, own);
    bank.peer = { ratios: { size: 0.05, latency_p50: { 'node-cpu': 0.07, 'web-wasm': 0.09 } }, models: {} };
    const summary = summarizeAcrossRounds([...rounds, bank], { last: 10 });
    expect(summary.probe_sets.map((g) => g.probe_set)).toEqual([own.id, PROBE_SET.id]);
    expect(summary.peer).toEqual({ runs: 1, size: 0.05, latency_p50: { 'node-cpu': 0.07, 'web-wasm': 0.09 } });

    const text = formatAcrossRounds(summary).join('\n');
    expect(text).toMatch(/^Summary across the last 5 rounds \(of 10 asked for\), 2025-01-01T10:00:00\.000Z to 2025-01-02T10:00:00\.000Z/);
    expect(text).toMatch(
      /model +rounds +accuracy +95% interval +range +macro-F1 +in scope +oos rejected +p50 ms +p95 ms +load ms +download/,
    );
    expect(text).toMatch(/\ncustom +4\/4 +91\.0% +86\.0-94\.3% +79\.8-92\.6% +- +91\.0% +- +5\.50 +11\.00 +450 +3\.5 MB\n/);
    expect(text).toContain("Within each other's 95% interval, so not told apart by these 188 probes on accuracy: custom and vllm.");
    expect(text).toContain(
      'peer: custom / DistilBERT-shaped peer, median over 1 run: size 0.050, p50 latency 0.070 (node-cpu) 0.090 (web-wasm)',
    );
    expect(formatAcrossRounds(summarizeAcrossRounds([]))).toEqual(['No benchmark rounds to summarize.']);
    expect(() => summarizeAcrossRounds(rounds, { last: 0 })).toThrow(RangeError);
  });
});

describe('JSONL', () => {
  it('carries load_ms, download_bytes, macro_f1, accuracy_ci95, the summary’s intervals and the peer, and reads them back', () => {
    const round = roundAt('2025-01-01T10:00:00.000Z', {
      custom: answered(173, 188, 6, { load_ms: 420.5, download_bytes: 3_538_632, macro_f1: 0.91 }),
      quick: answered(172, 188, 4, { load_ms: 12, download_bytes: 0, macro_f1: 0.9 }),
    });
    round.peer = { ratios: { size: 0.053, latency_p50: { 'web-wasm': 0.086 } }, models: { custom: { bytes: 3_538_632 } } };
    const [line] = exportJsonl([round]).trim().split('\n');
    const parsed = JSON.parse(line!) as BenchmarkRound;
    expect(parsed.models.custom).toMatchObject({ load_ms: 420.5, download_bytes: 3_538_632, macro_f1: 0.91 });
    expect(parsed.models.custom!.accuracy_ci95).toHaveLength(2);
    expect(parsed.summary.within_interval).toEqual([['custom', 'quick']]);
    expect(parsed.peer!.ratios.size).toBe(0.053);
    expect(parseJsonl(exportJsonl([round]))).toEqual([round]);
  });

  it('refuses a round whose new fields are malformed, and still reads rounds recorded before they existed', () => {
    const round = roundAt('2025-01-01T10:00:00.000Z', { custom: answered(173, 188, 6) });
    const bad = (patch: Record<string, unknown>) => JSON.stringify({ ...round, models: { custom: { ...round.models.custom, ...patch } } });
    expect(() => parseJsonl(bad({ accuracy_ci95: [0.9, 0.8] }))).toThrow(/accuracy_ci95 is neither \[lo, hi\] within 0-1 nor null/);
    expect(() => parseJsonl(bad({ download_bytes: -1 }))).toThrow(/download_bytes is neither a whole number >= 0 nor null/);
    expect(() => parseJsonl(bad({ macro_f1: 'high' }))).toThrow(/macro_f1 is neither a number nor null/);
    expect(() => parseJsonl(JSON.stringify({ ...round, peer: { ratios: 1 } }))).toThrow(/peer needs ratios and models/);
    const { macro_f1: _f, accuracy_ci95: _c, load_ms: _l, download_bytes: _d, ...old } = round.models.custom!;
    expect(parseJsonl(JSON.stringify({ ...round, models: { custom: old } }))).toHaveLength(1);
  });
});
