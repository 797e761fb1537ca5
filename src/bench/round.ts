/**
 * One benchmark round: every model the pipeline knows answers the same probe queries, one at a
 * time, and the round becomes one record (one JSONL line) with latency, accuracy, confidence and
 * out-of-scope rejection per model and a recommendation.
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
import { collectEnvironment, type BenchmarkEnvironment } from './environment';
import { accuracy, outOfScopeRates, percentile } from './metrics';
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
   * (in particular when it rejects none of them).
   */
  recommendation: string;
}

/** One round, exactly as one line of `benchmark_results.jsonl`. */
export interface BenchmarkRound {
  /** When the round started, ISO 8601. */
  timestamp: string;
  /** The pipeline's user request count when the round was triggered. */
  request_count: number;
  trigger: BenchmarkTrigger;
  probe_set: { id: string; n: number };
  /** Every adapter id of the pipeline (or those the round was limited to), in `pipeline.available` order. */
  models: Record<string, ModelRoundResult>;
  summary: RoundSummary;
  environment: BenchmarkEnvironment;
}

/** What a round needs of the pipeline. */
export type BenchmarkPipeline = Pick<IntentPipeline, 'available' | 'adapter' | 'inFlight' | 'coolingDown' | 'getStats' | 'policy'> &
  EventTarget;

export interface RoundProgress {
  model: string;
  /** Probes sent to this model so far (answered or not). */
  done: number;
  total: number;
}

export interface RoundOptions {
  pipeline: BenchmarkPipeline;
  probeSet: ProbeSet;
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
  const { pipeline, probeSet, signal } = options;
  const timestamp = new Date().toISOString();
  const requestCount = options.requestCount ?? pipeline.getStats().requests;
  const ids = selectModels(pipeline, options.models);
  await verifyProbeSet(probeSet);
  const environment = options.environment ?? (await collectEnvironment());

  const models: Record<string, ModelRoundResult> = {};
  for (const id of ids) {
    throwIfAborted(signal);
    models[id] = await benchmarkModel(id, options);
  }
  return {
    timestamp,
    request_count: requestCount,
    trigger: options.trigger,
    probe_set: { id: probeSet.id, n: probeSet.n },
    models,
    summary: summarize(models, probeSet.n),
    environment,
  };
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

async function benchmarkModel(id: string, options: RoundOptions): Promise<ModelRoundResult> {
  const { pipeline, probeSet, signal } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const maxConsecutive = options.maxConsecutiveErrors ?? DEFAULT_MAX_CONSECUTIVE_ERRORS;
  const wait = () => (options.yieldToUsers === false ? Promise.resolve() : waitForUsers(pipeline, signal));

  const adapter = pipeline.adapter(id);
  const coolingMs = pipeline.coolingDown(id);
  if (coolingMs > 0) {
    const reason = `cooling down for another ${Math.ceil(coolingMs / 1000)} s after repeated failures`;
    return skipped('cooling_down', (await adapter.health()).device ?? null, reason);
  }

  let health = await adapter.health();
  if (health.state !== 'ready') {
    await wait();
    const loadTimeoutMs = options.loadTimeoutMs ?? pipeline.policy.loadTimeoutMs;
    try {
      // The load is shared with user requests: stop waiting on timeout or abort, never cancel it.
      await withTimeout(signal, loadTimeoutMs, `${id} did not load within ${loadTimeoutMs} ms`, (s) => raceAbort(adapter.load(), s));
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      return skipped('unavailable', null, (await adapter.health()).reason ?? messageOf(error));
    }
    health = await adapter.health();
    if (health.state !== 'ready') return skipped('unavailable', null, health.reason ?? `${id} is ${health.state}`);
  }

  const latencies: number[] = [];
  const answers: { label: string; predicted: string; confidence: number }[] = [];
  let device: Device | null = health.device ?? null;
  let errors = 0;
  let consecutive = 0;
  let lastError: string | undefined;
  let stopped: string | undefined;
  for (const [index, item] of probeSet.items.entries()) {
    await wait();
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
 * 2x of the fastest p50; when a slower model is more accurate still, the sentence says so. Then it
 * says how the models it names treat out-of-scope probes: accuracy over all probes already counts
 * a missed rejection as an error, but a model that rejects nothing is worth a plain word.
 */
export function summarize(models: Record<string, ModelRoundResult>, probeCount: number): RoundSummary {
  const compared = Object.entries(models)
    .filter(([, m]) => m.status === 'ok' && m.n >= probeCount / 2)
    .map(([id, m]) => ({ id, p50: m.p50_latency_ms!, accuracy: m.accuracy!, model: m }));
  if (compared.length === 0) {
    return {
      fastest_model: null,
      most_accurate_model: null,
      recommendation: `No model answered at least half of the ${probeCount} probe queries, so none can be recommended.`,
    };
  }
  const byAccuracy = (a: (typeof compared)[number], b: (typeof compared)[number]) => b.accuracy - a.accuracy || a.p50 - b.p50;
  const fastest = [...compared].sort((a, b) => a.p50 - b.p50 || b.accuracy - a.accuracy)[0]!;
  const best = [...compared].sort(byAccuracy)[0]!;
  const pick = compared.filter((m) => m.p50 <= 2 * fastest.p50).sort(byAccuracy)[0]!;

  let recommendation: string;
  if (pick.id === fastest.id && pick.id === best.id) {
    recommendation = `Use ${pick.id}: the most accurate (${accuracyText(pick.model)}) and the fastest (p50 ${ms(pick.p50)}).`;
  } else if (pick.id === best.id) {
    recommendation = `Use ${pick.id}: the most accurate (${accuracyText(pick.model)}) at p50 ${ms(pick.p50)}, within 2x of the fastest (${fastest.id}, ${ms(fastest.p50)}).`;
  } else {
    recommendation =
      `Use ${pick.id}: the most accurate (${accuracyText(pick.model)}) of the models within 2x of the fastest p50 (${fastest.id}, ${ms(fastest.p50)}); ` +
      `${best.id} is more accurate (${accuracyText(best.model)}) but slower (p50 ${ms(best.p50)}).`;
  }
  recommendation += rejectionNote(pick.id, pick.model, true);
  if (best.id !== pick.id) recommendation += rejectionNote(best.id, best.model, false);
  return { fastest_model: fastest.id, most_accurate_model: best.id, recommendation };
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

function pct(value: number): string {
  return `${(100 * value).toFixed(1)}%`;
}

function ms(value: number): string {
  return `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;
}
