/**
 * One benchmark round: every model the pipeline knows answers the same probe queries, one at a
 * time, and the round becomes one record (one JSONL line) with latency, accuracy (with its 95%
 * interval), macro-F1, confidence, out-of-scope rejection, load time and download size per model,
 * and a recommendation that says when the probes cannot tell two models apart.
 *
 * The probe set follows the active model's labels (probe-choice.ts): Banking77's for a Banking77
 * model, the model's own `probe-set.json` for one retrained on a bank's intents, or the round is
 * refused (`ProbeSetMismatchError`). Other models are probed only if their labels cover it.
 *
 * Probes go to each adapter directly, never through `pipeline.classify`: they are not user
 * requests, they do not trigger fallback, retries or cooldowns, and they do not count towards the
 * next round. Before each probe the round waits until no user request is in flight (and, in the
 * page, for an idle moment), so a user's request waits at most for the one probe already running.
 */
import type { Device } from '../core/prediction';
import { InvalidInputError } from '../core/errors';
import type { IntentPipeline } from '../pipeline/pipeline';
import { abortReason, raceAbort, throwIfAborted } from '../core/abort';
import { withTimeout } from '../pipeline/signals';
import type { IntentAdapter, LoadFacts } from '../core/adapter';
import { LoadMeter } from '../adapters/load-meter';
import { collectEnvironment, type BenchmarkEnvironment } from './environment';
import { accuracy, macroF1, outOfScopeRates, percentile, wilsonInterval, withinEachOther } from './metrics';
import { chooseProbeSet, missingIntents, probeIntents } from './probe-choice';
import { verifyProbeSet, type ProbeSet } from './probe-set';

export type BenchmarkTrigger = 'auto' | 'manual' | 'cli';

/**
 * - `ok`: it answered at least one probe (`errors` says how many failed);
 * - `unavailable`: it could not load (not configured, no WebGPU, server down), `reason` says why;
 * - `cooling_down`: the pipeline is skipping it after repeated failures, so the round skips it too;
 * - `failed`: it loaded but answered no probe.
 */
export type ModelRoundStatus = 'ok' | 'unavailable' | 'cooling_down' | 'failed';

/**
 * One model in one round. Metrics are null when it answered nothing. The out-of-scope fields are
 * absent from rounds recorded before the probe set had out-of-scope probes (probe set ids
 * `b77-test-2x77-<hash>`); there every probe was in scope, so `accuracy` was the in-scope accuracy
 * (see `inScopeAccuracy`).
 */
export interface ModelRoundResult {
  status: ModelRoundStatus;
  device: Device | null;
  /** Probes answered; accuracy, confidence and latencies are over these. */
  n: number;
  avg_latency_ms: number | null;
  p50_latency_ms: number | null;
  p95_latency_ms: number | null;
  p99_latency_ms: number | null;
  /**
   * Share of answered probes whose intent is the true label, over all probes: an out-of-scope
   * probe is right when answered `out_of_scope`.
   */
  accuracy: number | null;
  /** Share of answered in-scope probes whose intent is the true label (`out_of_scope` answers are wrong). */
  in_scope_accuracy?: number | null;
  /** Share of answered out-of-scope probes answered `out_of_scope` (higher is better). */
  oos_rejected?: number | null;
  /** Share of answered in-scope probes wrongly answered `out_of_scope` (lower is better). */
  in_scope_rejected?: number | null;
  /** Answered in-scope probes, the denominator of `in_scope_accuracy` and `in_scope_rejected`. */
  n_in_scope?: number;
  /** Answered out-of-scope probes, the denominator of `oos_rejected`. */
  n_oos?: number;
  /** Over all answered probes; for an `out_of_scope` answer the model's confidence that it is none of the intents. */
  mean_confidence: number | null;
  /** Probes that failed (error or timeout). */
  errors: number;
  /** Why it was skipped or failed, or the last error when some probes failed. */
  reason?: string;
  /** Wall time of every answered probe, in probe order (for a latency distribution). */
  latencies_ms?: number[];
  /**
   * Fields below: absent from rounds recorded before they existed.
   * Macro-F1 over the answered probes: the mean of per-label F1 over the probes' true labels
   * (`out_of_scope` included), so a rare intent weighs as much as a common one.
   */
  macro_f1?: number | null;
  /**
   * 95% Wilson interval of `accuracy`, `[lo, hi]`: with about 190 probes it spans about ±5 points,
   * so two models whose accuracies fall in each other's interval cannot be told apart by this round.
   */
  accuracy_ci95?: [number, number] | null;
  /** How long the model's last load took (at page start, by a request or by this round), ms; null when not known. */
  load_ms?: number | null;
  /**
   * Bytes that load fetched (from the network or a cache): the model's files and, in the browser,
   * its runtime's `.wasm`; 0 for a remote model; null when not known.
   */
  download_bytes?: number | null;
}

export interface RoundSummary {
  /** Lowest p50 among the models compared (see `compare`); null when none. */
  fastest_model: string | null;
  /**
   * Highest `accuracy` among them (over all probes, so rejecting out-of-scope probes counts), the
   * lower p50 breaking ties; null when none.
   */
  most_accurate_model: string | null;
  /**
   * For a person choosing a model: which one and why, then what it does with out-of-scope probes
   * (in particular when it rejects none of them). Where another model's accuracy and the
   * recommended one's are each within the other's 95% interval, it says so rather than calling
   * one more accurate.
   */
  recommendation: string;
  /** Pairs of compared models each within the other's 95% accuracy interval; absent when none. */
  within_interval?: [string, string][];
}

/**
 * The DistilBERT-shaped speed peer, timed in Node after the rounds of `npm run bench`
 * (scripts/bench-node.ts `--json`): written on the last round of the run. Only the fields read here are typed.
 */
export interface PeerComparison {
  /** custom/peer: size, parameters, FLOPs, and latency per runtime (`node-cpu`, `web-wasm`). */
  ratios: {
    size: number;
    parameters?: number;
    flops?: number;
    latency_p50: Record<string, number>;
    latency_p95?: Record<string, number>;
    latency_p99?: Record<string, number>;
  };
  /** Per model (`custom`, `peer`): bytes, parameters, FLOPs per query, floors. */
  models: Record<string, Record<string, unknown>>;
  /** One per runtime and model: load and latency figures. */
  runs?: { backend: string; model: string; load_ms: number; p50_ms: number; p95_ms: number; p99_ms: number; mean_ms: number }[];
  [key: string]: unknown;
}

/** One round, exactly as one line of `benchmark_results.jsonl`. */
export interface BenchmarkRound {
  /** When the round started, ISO 8601. */
  timestamp: string;
  /** The pipeline's user request count when the round was triggered. */
  request_count: number;
  trigger: BenchmarkTrigger;
  /** The probe set (see probe-choice.ts); `intents`: its in-scope intents (absent from older rounds). */
  probe_set: { id: string; n: number; intents?: number };
  /** Every adapter id of the pipeline (or those the round was limited to), in `pipeline.available` order. */
  models: Record<string, ModelRoundResult>;
  summary: RoundSummary;
  environment: BenchmarkEnvironment;
  /** `npm run bench` only, on the last round of a run: our model beside the DistilBERT-shaped peer. */
  peer?: PeerComparison;
}

/** What a round needs of the pipeline. */
export type BenchmarkPipeline = Pick<IntentPipeline, 'available' | 'adapter' | 'inFlight' | 'coolingDown' | 'getStats' | 'policy'> &
  Partial<Pick<IntentPipeline, 'active'>> &
  EventTarget;

export interface RoundProgress {
  model: string;
  /** Probes sent to this model so far (answered or not). */
  done: number;
  total: number;
}

export interface RoundOptions {
  pipeline: BenchmarkPipeline;
  /**
   * A fixed probe set, which the reference model (the active one, when probed) must be able to
   * answer. Default: chosen from that model's labels (probe-choice.ts `chooseProbeSet`).
   */
  probeSet?: ProbeSet;
  trigger: BenchmarkTrigger;
  /** Default: the pipeline's request count now. */
  requestCount?: number;
  /** Probe only these adapter ids (the others are left out of the record). Default: every one. */
  models?: readonly string[];
  /** Default: `collectEnvironment()`. */
  environment?: BenchmarkEnvironment;
  /** Wait for no user request in flight (and an idle callback in the page) before each probe. Default true. */
  yieldToUsers?: boolean;
  /** Limit for one probe. Default 15 s. */
  timeoutMs?: number;
  /** Limit for loading a model that is not loaded yet. Default: the pipeline's `loadTimeoutMs`. */
  loadTimeoutMs?: number;
  /** A model that fails this many probes in a row is not sent the rest. Default 5. */
  maxConsecutiveErrors?: number;
  /** Keep `latencies_ms` in the record. Default true. */
  keepLatencies?: boolean;
  /** Aborting stops the round between probes; it then rejects with `AbortedError`. */
  signal?: AbortSignal;
  onProgress?: (progress: RoundProgress) => void;
}

export const DEFAULT_PROBE_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_CONSECUTIVE_ERRORS = 5;

export async function runBenchmarkRound(options: RoundOptions): Promise<BenchmarkRound> {
  const { pipeline, signal } = options;
  const timestamp = new Date().toISOString();
  const requestCount = options.requestCount ?? pipeline.getStats().requests;
  const ids = selectModels(pipeline, options.models);
  if (options.probeSet) await verifyProbeSet(options.probeSet);

  // The reference model is loaded first: its labels choose the probe set.
  const reference = referenceModel(pipeline, ids);
  const prepared = new Map<string, Prepared>([[reference, await prepareModel(reference, options)]]);
  const first = prepared.get(reference)!;
  const adapter = 'result' in first ? undefined : first.adapter;
  const probeSet = await chooseProbeSet(
    { id: reference, labels: adapter?.facts?.().labels, ownProbeSet: adapter?.ownProbeSet && (() => adapter.ownProbeSet!()) },
    { fixed: options.probeSet },
  );
  if (probeSet !== options.probeSet) await verifyProbeSet(probeSet);
  const environment = options.environment ?? (await collectEnvironment());

  const models: Record<string, ModelRoundResult> = {};
  for (const id of ids) {
    throwIfAborted(signal);
    const ready = prepared.get(id) ?? (await prepareModel(id, options));
    models[id] = 'result' in ready ? ready.result : await probeModel(id, ready, probeSet, reference, options);
  }
  return {
    timestamp,
    request_count: requestCount,
    trigger: options.trigger,
    probe_set: { id: probeSet.id, n: probeSet.n, intents: probeIntents(probeSet).length },
    models,
    summary: summarize(models, probeSet.n),
    environment,
  };
}

/** The model whose labels choose the probe set: the active one when the round probes it, else the round's first. */
function referenceModel(pipeline: BenchmarkPipeline, ids: readonly string[]): string {
  const active = pipeline.active;
  return active !== undefined && ids.includes(active) ? active : ids[0]!;
}

/**
 * The adapter ids a round probes, in `pipeline.available` order: all of them, or those of `models`.
 * Throws `InvalidInputError` for an id the pipeline does not know, or an empty list.
 */
export function selectModels(pipeline: Pick<BenchmarkPipeline, 'available'>, models?: readonly string[]): string[] {
  const available = pipeline.available;
  if (models === undefined) return available;
  const unknown = models.filter((id) => !available.includes(id));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `Cannot benchmark unknown model ${unknown.map((id) => `"${id}"`).join(', ')}: choose from ${available.join(', ')}.`,
    );
  }
  if (models.length === 0) throw new InvalidInputError(`No model to benchmark: choose from ${available.join(', ')}.`);
  return available.filter((id) => models.includes(id));
}

/** A model ready to probe (with what the round measured if it loaded it), or its record when it cannot be. */
type Prepared = { adapter: IntentAdapter; device: Device | null; roundLoad?: LoadFacts } | { result: ModelRoundResult };

const waitFor = (options: RoundOptions) =>
  options.yieldToUsers === false ? Promise.resolve() : waitForUsers(options.pipeline, options.signal);

/** Loads the model if it is not ready; a model cooling down or failing to load is recorded as such. */
async function prepareModel(id: string, options: RoundOptions): Promise<Prepared> {
  const { pipeline, signal } = options;
  const adapter = pipeline.adapter(id);
  const coolingMs = pipeline.coolingDown(id);
  if (coolingMs > 0) {
    const reason = `cooling down for another ${Math.ceil(coolingMs / 1000)} s after repeated failures`;
    return { result: skipped('cooling_down', (await adapter.health()).device ?? null, reason) };
  }

  let health = await adapter.health();
  let roundLoad: LoadFacts | undefined;
  if (health.state !== 'ready') {
    await waitFor(options);
    const loadTimeoutMs = options.loadTimeoutMs ?? pipeline.policy.loadTimeoutMs;
    const meter = new LoadMeter();
    try {
      // The load is shared with user requests: stop waiting on timeout or abort, never cancel it.
      await withTimeout(signal, loadTimeoutMs, `${id} did not load within ${loadTimeoutMs} ms`, (s) =>
        raceAbort(adapter.load({ onProgress: (progress) => meter.record(progress) }), s),
      );
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      return { result: skipped('unavailable', null, (await adapter.health()).reason ?? messageOf(error)) };
    }
    roundLoad = meter.finish();
    health = await adapter.health();
    if (health.state !== 'ready') return { result: skipped('unavailable', null, health.reason ?? `${id} is ${health.state}`) };
  }
  return { adapter, device: health.device ?? null, roundLoad };
}

/** Sends the probes to one ready model (after checking that its labels cover them). */
async function probeModel(
  id: string,
  ready: Extract<Prepared, { adapter: IntentAdapter }>,
  probeSet: ProbeSet,
  reference: string,
  options: RoundOptions,
): Promise<ModelRoundResult> {
  const { signal } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const maxConsecutive = options.maxConsecutiveErrors ?? DEFAULT_MAX_CONSECUTIVE_ERRORS;
  const { adapter } = ready;
  const facts = adapter.facts?.() ?? {};
  // What the adapter measured covers loads before the round (the page's, a request's); else the round's own.
  const load = facts.load ?? ready.roundLoad;
  const loadFields = {
    load_ms: load ? round3(load.ms) : null,
    download_bytes: ready.device === 'remote' ? 0 : (load?.bytes ?? null),
  };

  if (facts.labels && id !== reference) {
    const missing = missingIntents(facts.labels, probeSet);
    if (missing.length > 0) {
      const shown = missing.length > 5 ? `${missing.slice(0, 5).join(', ')}, … (${missing.length} in all)` : missing.join(', ');
      const reason =
        `Not probed: the probe set follows ${reference}'s labels, and ${id} cannot answer ${missing.length} of its ` +
        `${probeIntents(probeSet).length} intents (${shown}).`;
      return { ...skipped('unavailable', ready.device, reason), ...loadFields };
    }
  }

  const latencies: number[] = [];
  const answers: { label: string; predicted: string; confidence: number }[] = [];
  let device: Device | null = ready.device;
  let errors = 0;
  let consecutive = 0;
  let lastError: string | undefined;
  let stopped: string | undefined;
  for (const [index, item] of probeSet.items.entries()) {
    await waitFor(options);
    throwIfAborted(signal);
    const started = performance.now();
    try {
      const prediction = await withTimeout(signal, timeoutMs, `${id} did not answer within ${timeoutMs} ms`, (s) =>
        raceAbort(adapter.classify(item.text, { signal: s }), s),
      );
      latencies.push(round3(performance.now() - started));
      answers.push({ label: item.label, predicted: prediction.intent, confidence: prediction.confidence });
      device = prediction.device;
      consecutive = 0;
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      errors++;
      consecutive++;
      lastError = messageOf(error);
    }
    options.onProgress?.({ model: id, done: index + 1, total: probeSet.items.length });
    if (consecutive >= maxConsecutive) {
      stopped = `stopped after ${consecutive} failed probes in a row, ${probeSet.items.length - index - 1} not sent; last error: ${lastError}`;
      break;
    }
  }

  const n = answers.length;
  const correct = answers.filter((a) => a.predicted === a.label).length;
  const interval = wilsonInterval(correct, n);
  const { n_oos, n_in_scope, ...rates } = outOfScopeRates(answers);
  const result: ModelRoundResult = {
    status: n > 0 ? 'ok' : 'failed',
    device,
    n,
    avg_latency_ms: n > 0 ? round3(latencies.reduce((a, b) => a + b, 0) / n) : null,
    p50_latency_ms: n > 0 ? round3(percentile(latencies, 50)) : null,
    p95_latency_ms: n > 0 ? round3(percentile(latencies, 95)) : null,
    p99_latency_ms: n > 0 ? round3(percentile(latencies, 99)) : null,
    accuracy: n > 0 ? accuracy(answers) : null,
    ...rates,
    n_in_scope,
    n_oos,
    mean_confidence: n > 0 ? answers.reduce((sum, a) => sum + a.confidence, 0) / n : null,
    errors,
    macro_f1: n > 0 ? macroF1(answers) : null,
    accuracy_ci95: interval && [round6(interval[0]), round6(interval[1])],
    ...loadFields,
  };
  const reason = stopped ?? (errors > 0 ? `${errors} of ${errors + n} probes failed; last error: ${lastError}` : undefined);
  if (reason) result.reason = reason;
  if (options.keepLatencies !== false) result.latencies_ms = latencies;
  return result;
}

function skipped(status: 'unavailable' | 'cooling_down', device: Device | null, reason: string): ModelRoundResult {
  return {
    status,
    device,
    n: 0,
    avg_latency_ms: null,
    p50_latency_ms: null,
    p95_latency_ms: null,
    p99_latency_ms: null,
    accuracy: null,
    in_scope_accuracy: null,
    oos_rejected: null,
    in_scope_rejected: null,
    n_in_scope: 0,
    n_oos: 0,
    mean_confidence: null,
    errors: 0,
    macro_f1: null,
    accuracy_ci95: null,
    load_ms: null,
    download_bytes: null,
    reason,
  };
}

/**
 * A result's in-scope accuracy (null for a model not in the round). Rounds recorded before the
 * probe set had out-of-scope probes lack the field; every probe was in scope there, so it is
 * their `accuracy`.
 */
export function inScopeAccuracy(model: ModelRoundResult | undefined): number | null {
  if (!model) return null;
  return model.in_scope_accuracy !== undefined ? model.in_scope_accuracy : model.accuracy;
}

/**
 * The models compared are those that answered at least half the probes: accuracy over a handful
 * of answers says little. The recommendation is the most accurate of those whose p50 is within
 * 2x of the fastest p50, unless a faster one among those is within its 95% interval (and it
 * within the faster one's): the probes cannot tell their accuracies apart, so the faster one is
 * named, and the sentence says why. When a slower model is more accurate still, the sentence
 * says so, or that it is no more accurate within the intervals. It then names the other models
 * the probes cannot tell apart from the one recommended, and says how the models it names treat
 * out-of-scope probes: accuracy over all probes already counts a missed rejection as an error,
 * but a model that rejects nothing is worth a plain word.
 */
export function summarize(models: Record<string, ModelRoundResult>, probeCount: number): RoundSummary {
  const compared: Compared[] = Object.entries(models)
    .filter(([, m]) => m.status === 'ok' && m.n >= probeCount / 2)
    .map(([id, m]) => ({ id, p50: m.p50_latency_ms!, accuracy: m.accuracy!, interval: accuracyInterval(m), model: m }));
  if (compared.length === 0) {
    return {
      fastest_model: null,
      most_accurate_model: null,
      recommendation: `No model answered at least half of the ${probeCount} probe queries, so none can be recommended.`,
    };
  }
  const byAccuracy = (a: Compared, b: Compared) => b.accuracy - a.accuracy || a.p50 - b.p50;
  const fastest = [...compared].sort((a, b) => a.p50 - b.p50 || b.accuracy - a.accuracy)[0]!;
  const best = [...compared].sort(byAccuracy)[0]!;
  const near = compared.filter((m) => m.p50 <= 2 * fastest.p50);
  const accurate = [...near].sort(byAccuracy)[0]!;
  // A faster model the probes cannot tell apart from the most accurate nearby one is the better choice.
  const pick = near.filter((m) => m === accurate || tied(m, accurate)).sort((a, b) => a.p50 - b.p50 || b.accuracy - a.accuracy)[0]!;

  let recommendation: string;
  const named = new Set([pick.id]);
  if (pick !== accurate) {
    named.add(accurate.id);
    recommendation =
      `Use ${pick.id}: as accurate as ${accurate.id} within their 95% intervals (${figures(pick)}; ${figures(accurate)}), ` +
      `and faster (p50 ${ms(pick.p50)} against ${ms(accurate.p50)}).`;
    if (best !== accurate) recommendation += ` ${slowerNote(best, pick)}`;
  } else if (pick.id === fastest.id && pick.id === best.id) {
    recommendation = `Use ${pick.id}: the most accurate (${accuracyText(pick.model)}) and the fastest (p50 ${ms(pick.p50)}).`;
  } else if (pick.id === best.id) {
    recommendation = `Use ${pick.id}: the most accurate (${accuracyText(pick.model)}) at p50 ${ms(pick.p50)}, within 2x of the fastest (${fastest.id}, ${ms(fastest.p50)}).`;
  } else {
    recommendation =
      `Use ${pick.id}: the most accurate (${accuracyText(pick.model)}) of the models within 2x of the fastest p50 (${fastest.id}, ${ms(fastest.p50)}); ` +
      slowerNote(best, pick);
  }
  if (best !== pick) named.add(best.id);
  recommendation += tieNote(pick, compared, named, probeCount);
  recommendation += rejectionNote(pick.id, pick.model, true);
  if (best.id !== pick.id) recommendation += rejectionNote(best.id, best.model, false);

  const summary: RoundSummary = { fastest_model: fastest.id, most_accurate_model: best.id, recommendation };
  const pairs: [string, string][] = [];
  compared.forEach((a, i) => compared.slice(i + 1).forEach((b) => tied(a, b) && pairs.push([a.id, b.id])));
  if (pairs.length > 0) summary.within_interval = pairs;
  return summary;
}

interface Compared {
  id: string;
  p50: number;
  accuracy: number;
  interval: [number, number];
  model: ModelRoundResult;
}

/** The record's interval, or (for rounds recorded before it was) the Wilson interval of its accuracy. */
function accuracyInterval(m: ModelRoundResult): [number, number] {
  return m.accuracy_ci95 ?? wilsonInterval(Math.round(m.accuracy! * m.n), m.n) ?? [m.accuracy!, m.accuracy!];
}

function tied(a: Compared, b: Compared): boolean {
  return withinEachOther({ value: a.accuracy, interval: a.interval }, { value: b.accuracy, interval: b.interval });
}

/** `never 81.9% (95% interval 75.8-86.8%)` */
function figures(m: Compared): string {
  return `${m.id} ${pct(m.accuracy)} (95% interval ${(100 * m.interval[0]).toFixed(1)}-${pct(m.interval[1])})`;
}

/** What to say of `best`, more accurate than `pick` on these probes but slower. */
function slowerNote(best: Compared, pick: Compared): string {
  return tied(best, pick)
    ? `${best.id} is slower (p50 ${ms(best.p50)}) and no more accurate within the 95% intervals (${figures(best)}; ${figures(pick)}).`
    : `${best.id} is more accurate (${accuracyText(best.model)}) but slower (p50 ${ms(best.p50)}).`;
}

/** ` On these N probes X cannot be told apart from Y, Z on accuracy: …` for models not already named. */
function tieNote(pick: Compared, compared: Compared[], named: ReadonlySet<string>, probeCount: number): string {
  const others = compared.filter((m) => !named.has(m.id) && tied(m, pick));
  if (others.length === 0) return '';
  const names = others.map((m) => m.id);
  const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
  return (
    ` On these ${probeCount} probes ${pick.id} cannot be told apart from ${list} on accuracy: each is within the other's 95% interval ` +
    `(${[pick, ...others].map(figures).join('; ')}).`
  );
}

/** `91.6%`; with out-of-scope probes in the round, `84.0% of all probes, 91.6% in scope`. */
function accuracyText(m: ModelRoundResult): string {
  const inScope = m.in_scope_accuracy;
  return m.n_oos && inScope != null ? `${pct(m.accuracy!)} of all probes, ${pct(inScope)} in scope` : pct(m.accuracy!);
}

/**
 * ` <id> rejected …` for a model that answered out-of-scope probes: always when it rejected none
 * (it gives every message a banking intent, however unrelated), else only with `detailed` (the
 * model recommended). Empty for rounds without out-of-scope probes.
 */
function rejectionNote(id: string, m: ModelRoundResult, detailed: boolean): string {
  if (!m.n_oos || m.oos_rejected == null) return '';
  if (m.oos_rejected === 0) {
    return ` ${id} rejected none of the ${m.n_oos} out-of-scope probes: it gives a banking intent even to messages that are not about banking.`;
  }
  if (!detailed) return '';
  const inScope =
    m.in_scope_rejected == null ? '' : ` and wrongly rejected ${pct(m.in_scope_rejected)} of the ${m.n_in_scope} in-scope ones`;
  return ` ${id} rejected ${pct(m.oos_rejected)} of the ${m.n_oos} out-of-scope probes${inScope}.`;
}

/**
 * Resolves once no user request is in flight and (in the page) the browser reports an idle
 * moment. Checks again after the idle wait, since a request may have started meanwhile.
 */
export async function waitForUsers(pipeline: BenchmarkPipeline, signal?: AbortSignal): Promise<void> {
  for (;;) {
    while (pipeline.inFlight > 0) await nextRequest(pipeline, signal);
    await idleMoment(signal);
    if (pipeline.inFlight === 0) return;
  }
}

/** The pipeline's next `request` event: one user request has settled. */
function nextRequest(pipeline: BenchmarkPipeline, signal?: AbortSignal): Promise<void> {
  return raceAbort(new Promise<void>((resolve) => pipeline.addEventListener('request', () => resolve(), { once: true })), signal);
}

/** An idle callback where the host has them (at most 1 s away), else the next macrotask. */
function idleMoment(signal?: AbortSignal): Promise<void> {
  const host = globalThis as { requestIdleCallback?: (callback: () => void, options?: { timeout: number }) => number };
  const idle = new Promise<void>((resolve) => {
    if (host.requestIdleCallback) host.requestIdleCallback(() => resolve(), { timeout: 1_000 });
    else setTimeout(resolve, 0);
  });
  return raceAbort(idle, signal);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function pct(value: number): string {
  return `${(100 * value).toFixed(1)}%`;
}

function ms(value: number): string {
  return `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;
}
