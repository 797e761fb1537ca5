/**
 * Runs a benchmark round every N user requests (default 50), in the background, and on demand.
 *
 * It counts the pipeline's `request` events (one per settled user request; probes are not user
 * requests and do not count). Every N-th one schedules a round with trigger `auto`.
 *
 * Never two rounds at once. A trigger while a round runs is queued, at most one deep: a trigger
 * while one is already queued joins the queued round (which then records the latest request count,
 * and becomes `manual`/`cli` if either joined; it probes the union of the models both asked for,
 * every model if either asked for all), and `runNow` returns that round's promise. So a burst of
 * requests costs at most one extra round, and a click on "run now" is never dropped.
 *
 * Events (all `CustomEvent`s; `on()` adds a typed listener):
 *   `round-start`    { trigger, request_count }       a round begins
 *   `round-progress` { model, done, total }           after each probe
 *   `round`          BenchmarkRound                   a round finished (already appended to the store)
 *   `round-error`    { error, trigger, request_count, round? }  a round failed, or (with `round`)
 *                    finished but could not be stored
 *
 * Remote models (`remote` limits, `setRemoteLimits`): a probe to vLLM or Gemini is a call to a
 * bank's server, or a paid, quota-limited API that users' requests share. So:
 *  - automatic rounds skip them when `autoRounds` is off: the site turns it off when `?bench=` set
 *    the schedule, since a link must not be able to make the page call a server;
 *  - automatic and manual rounds probe one at most once per `minIntervalMs` (default 30 min);
 *    `cli` rounds (`window.bankingIntent`, `npm run bench`) are explicit and exempt;
 *  - probes to one are spaced to at most `maxProbesPerMinute` (default unpaced; the site sets 60).
 *    The wait is not the model's latency: it is taken out of the record's latencies.
 * A skipped remote model is in the record as `unavailable`, with the reason.
 */
import { sleep as abortableSleep } from '../core/abort';
import type { AdapterHealth, ClassifyOptions, IntentAdapter, LoadOptions, ModelFacts } from '../core/adapter';
import { isRemoteModel } from '../core/config';
import { AbortedError } from '../core/errors';
import type { ModelPrediction } from '../core/prediction';
import { UnconfiguredAdapter } from '../adapters/unconfigured-adapter';
import { percentile } from './metrics';
import type { ProbeSet } from './probe-set';
import {
  DEFAULT_PROBE_TIMEOUT_MS,
  runBenchmarkRound,
  selectModels,
  summarize,
  type BenchmarkPipeline,
  type BenchmarkRound,
  type BenchmarkTrigger,
  type RoundOptions,
  type RoundProgress,
} from './round';
import type { RoundStore } from './store';

export const DEFAULT_EVERY = 50;
export const DEFAULT_REMOTE_INTERVAL_MS = 30 * 60_000;

/** How rounds treat the models that send text off the device (see the top of this file). */
export interface RemoteRoundLimits {
  /** Which adapter ids are remote. Default: vllm and gemini. */
  isRemote: (id: string) => boolean;
  /** Whether automatic rounds probe remote models. Default true; off for a schedule a URL set. */
  autoRounds: boolean;
  /** Automatic and manual rounds probe one remote model at most once per this many ms. Default 30 min. */
  minIntervalMs: number;
  /** At most this many probes a minute to one remote model, evenly spaced; Infinity: unpaced (the default). */
  maxProbesPerMinute: number;
}

export const DEFAULT_REMOTE_LIMITS: RemoteRoundLimits = {
  isRemote: isRemoteModel,
  autoRounds: true,
  minIntervalMs: DEFAULT_REMOTE_INTERVAL_MS,
  maxProbesPerMinute: Number.POSITIVE_INFINITY,
};

export interface RoundStartDetail {
  trigger: BenchmarkTrigger;
  request_count: number;
}

export interface RoundErrorDetail extends RoundStartDetail {
  error: unknown;
  /** Set when the round finished but the store refused it. */
  round?: BenchmarkRound;
}

export interface BenchmarkSchedulerEvents {
  'round-start': RoundStartDetail;
  'round-progress': RoundProgress;
  round: BenchmarkRound;
  'round-error': RoundErrorDetail;
}

export interface SchedulerOptions {
  pipeline: BenchmarkPipeline;
  /** A fixed probe set. Default: chosen each round from the active model's labels (probe-choice.ts). */
  probeSet?: ProbeSet;
  /** Where finished rounds are appended. */
  store?: RoundStore;
  /** A round every this many user requests; 0 turns automatic rounds off. Default 50. */
  every?: number;
  /** Passed to every round: `timeoutMs`, `yieldToUsers`, `environment`, ... */
  round?: Omit<Partial<RoundOptions>, 'pipeline' | 'probeSet' | 'trigger' | 'requestCount' | 'models' | 'signal' | 'onProgress'>;
  /** Limits for remote models; see `RemoteRoundLimits`. */
  remote?: Partial<RemoteRoundLimits>;
  /** Clock for the remote limits (ms). Default `Date.now`. */
  now?: () => number;
  /** How the pacing waits. Default: a timer that the round's signal cancels. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RunNowOptions {
  /** Probe only these adapter ids (see `RoundOptions.models`). Default: every one. */
  models?: readonly string[];
}

interface Scheduled extends RoundStartDetail {
  /** Undefined: every model. */
  models?: readonly string[];
  promise: Promise<BenchmarkRound>;
  resolve: (round: BenchmarkRound) => void;
  reject: (error: unknown) => void;
}

export class BenchmarkScheduler extends EventTarget {
  private every_ = DEFAULT_EVERY;
  private sinceLast = 0;
  private current: Scheduled | undefined;
  private next: Scheduled | undefined;
  private readonly controller = new AbortController();
  private readonly onRequest = (event: Event) => this.countRequest(event);
  private remote: RemoteRoundLimits = { ...DEFAULT_REMOTE_LIMITS };
  /** Remote model id → when a round last sent it a probe (`now()`). */
  private readonly lastRemoteRound = new Map<string, number>();
  /** Remote model id → the earliest `now()` its next probe may start. */
  private readonly nextProbeAt = new Map<string, number>();
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly options: SchedulerOptions) {
    super();
    this.every = options.every ?? DEFAULT_EVERY;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? abortableSleep;
    this.setRemoteLimits(options.remote ?? {});
    options.pipeline.addEventListener('request', this.onRequest);
  }

  get remoteLimits(): Readonly<RemoteRoundLimits> {
    return { ...this.remote };
  }

  /** Changes some remote limits, from the next model a round reaches. Throws `RangeError` for a bad value. */
  setRemoteLimits(limits: Partial<RemoteRoundLimits>): void {
    const next = { ...this.remote, ...limits };
    if (!(next.minIntervalMs >= 0)) throw new RangeError(`minIntervalMs must be >= 0, got ${next.minIntervalMs}`);
    if (!(next.maxProbesPerMinute > 0)) throw new RangeError(`maxProbesPerMinute must be > 0, got ${next.maxProbesPerMinute}`);
    this.remote = next;
  }

  /** User requests between automatic rounds; 0 = off. Changing it keeps the requests counted so far. */
  get every(): number {
    return this.every_;
  }

  set every(value: number) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`benchmark every must be a whole number >= 0, got ${value}`);
    this.every_ = value;
  }

  /** Whether a round is running now. */
  get running(): boolean {
    return this.current !== undefined;
  }

  /** Whether a round waits for the running one to finish. */
  get queued(): boolean {
    return this.next !== undefined;
  }

  /** User requests until the next automatic round; null when automatic rounds are off. */
  get requestsUntilNext(): number | null {
    return this.every_ === 0 ? null : Math.max(0, this.every_ - this.sinceLast);
  }

  /**
   * Runs a round now, or after the running one (joining a queued one, see above). Resolves with
   * the record once it is stored; rejects when the round fails. Does not reset the request count
   * towards the next automatic round.
   */
  runNow(trigger: BenchmarkTrigger = 'manual', options: RunNowOptions = {}): Promise<BenchmarkRound> {
    try {
      // An unknown id fails here, at once, rather than as a round that starts and errors.
      if (options.models) selectModels(this.options.pipeline, options.models);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.schedule(trigger, this.options.pipeline.getStats().requests, options.models);
  }

  /** Resolves once no round is running or queued. */
  async idle(): Promise<void> {
    while (this.current) await this.current.promise.catch(() => undefined);
  }

  /** Adds a typed listener; returns a function that removes it. */
  on<K extends keyof BenchmarkSchedulerEvents>(type: K, listener: (detail: BenchmarkSchedulerEvents[K]) => void): () => void {
    const handler = (event: Event) => listener((event as CustomEvent<BenchmarkSchedulerEvents[K]>).detail);
    this.addEventListener(type, handler);
    return () => this.removeEventListener(type, handler);
  }

  /** Stops counting, aborts the running round between probes and cancels a queued one. */
  dispose(): void {
    this.options.pipeline.removeEventListener('request', this.onRequest);
    this.controller.abort(new AbortedError('The benchmark scheduler was disposed.'));
  }

  private countRequest(event: Event): void {
    if (this.every_ === 0) return;
    this.sinceLast++;
    if (this.sinceLast < this.every_) return;
    this.sinceLast = 0;
    const detail = (event as CustomEvent<unknown>).detail;
    const count = typeof detail === 'number' ? detail : this.options.pipeline.getStats().requests;
    // Nobody awaits an automatic round: its failure is reported by the `round-error` event.
    this.schedule('auto', count).catch(() => undefined);
  }

  private schedule(trigger: BenchmarkTrigger, requestCount: number, models?: readonly string[]): Promise<BenchmarkRound> {
    if (this.controller.signal.aborted) return Promise.reject(new AbortedError('The benchmark scheduler was disposed.'));
    if (this.next) {
      this.next.request_count = requestCount;
      if (trigger !== 'auto') this.next.trigger = trigger;
      this.next.models = this.next.models && models ? [...new Set([...this.next.models, ...models])] : undefined;
      return this.next.promise;
    }
    let resolve!: (round: BenchmarkRound) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<BenchmarkRound>((res, rej) => ((resolve = res), (reject = rej)));
    const scheduled: Scheduled = { trigger, request_count: requestCount, models, promise, resolve, reject };
    if (this.current) {
      this.next = scheduled;
    } else {
      this.current = scheduled;
      // Off the caller's stack: an automatic trigger arrives inside the pipeline's `request` event.
      setTimeout(() => void this.execute(scheduled), 0);
    }
    return promise;
  }

  private async execute(scheduled: Scheduled): Promise<void> {
    const { trigger, request_count, models } = scheduled;
    let outcome: { round: BenchmarkRound } | { error: unknown };
    try {
      this.controller.signal.throwIfAborted();
      this.emit('round-start', { trigger, request_count });
      const view = new LimitedPipeline(this.options.pipeline, (id, adapter) => this.limit(id, adapter, trigger));
      const gapMs = this.gapMs();
      const keepLatencies = this.options.round?.keepLatencies !== false;
      const round = await runBenchmarkRound({
        ...this.options.round,
        // A paced probe's wait counts against its timeout: allow for it.
        timeoutMs: (this.options.round?.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS) + gapMs,
        // Needed to take the waits out; dropped again below if not wanted.
        keepLatencies: keepLatencies || gapMs > 0,
        pipeline: view,
        probeSet: this.options.probeSet,
        trigger,
        requestCount: request_count,
        models,
        signal: this.controller.signal,
        onProgress: (progress) => this.emit('round-progress', progress),
      });
      withoutWaits(round, view.paced);
      if (!keepLatencies) for (const model of Object.values(round.models)) delete model.latencies_ms;
      try {
        await this.options.store?.append(round);
      } catch (error) {
        this.emit('round-error', { error, trigger, request_count, round });
      }
      this.emit('round', round);
      outcome = { round };
    } catch (error) {
      this.emit('round-error', { error, trigger, request_count });
      outcome = { error };
    }
    // Hand over to the queued round before anyone awaiting this one resumes.
    this.current = this.next;
    this.next = undefined;
    const following = this.current;
    if (following) setTimeout(() => void this.execute(following), 0);
    if ('round' in outcome) scheduled.resolve(outcome.round);
    else scheduled.reject(outcome.error);
  }

  private emit<K extends keyof BenchmarkSchedulerEvents>(type: K, detail: BenchmarkSchedulerEvents[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  private gapMs(): number {
    const perMinute = this.remote.maxProbesPerMinute;
    return Number.isFinite(perMinute) ? 60_000 / perMinute : 0;
  }

  /** The adapter a round gets for `id`: itself on the device; for a remote one, skipped or paced. */
  private limit(id: string, adapter: IntentAdapter, trigger: BenchmarkTrigger): IntentAdapter {
    if (!this.remote.isRemote(id)) return adapter;
    if (trigger === 'auto' && !this.remote.autoRounds) {
      return new UnconfiguredAdapter(
        id,
        'Not probed: automatic rounds on a schedule set by the page address (?bench=) benchmark on-device models only.',
      );
    }
    const last = this.lastRemoteRound.get(id);
    const since = last === undefined ? Number.POSITIVE_INFINITY : this.now() - last;
    if (trigger !== 'cli' && since < this.remote.minIntervalMs) {
      const minutes = (ms: number) => `${Math.max(1, Math.ceil(ms / 60_000))} min`;
      return new UnconfiguredAdapter(
        id,
        `Not probed: remote models are benchmarked at most once every ${minutes(this.remote.minIntervalMs)}; the next round may probe ${id} in ${minutes(this.remote.minIntervalMs - since)}.`,
      );
    }
    let first = true;
    return new PacedAdapter(adapter, async (signal) => {
      const now = this.now();
      const start = Math.max(now, this.nextProbeAt.get(id) ?? now);
      // The slot is taken before waiting, so that nothing else can have it meanwhile.
      this.nextProbeAt.set(id, start + this.gapMs());
      if (start > now) await this.sleep(start - now, signal);
      if (first) this.lastRemoteRound.set(id, this.now());
      first = false;
    });
  }
}

/**
 * The pipeline as one round sees it: the same in every way, except that `adapter(id)` passes
 * through `limit` (once per id).
 */
class LimitedPipeline implements BenchmarkPipeline {
  readonly paced = new Map<string, PacedAdapter>();
  private readonly made = new Map<string, IntentAdapter>();

  constructor(
    private readonly inner: BenchmarkPipeline,
    private readonly limit: (id: string, adapter: IntentAdapter) => IntentAdapter,
  ) {}

  get available(): string[] {
    return this.inner.available;
  }

  get active(): string | undefined {
    return this.inner.active;
  }

  get inFlight(): number {
    return this.inner.inFlight;
  }

  get policy(): BenchmarkPipeline['policy'] {
    return this.inner.policy;
  }

  coolingDown(id: string): number {
    return this.inner.coolingDown(id);
  }

  getStats(): ReturnType<BenchmarkPipeline['getStats']> {
    return this.inner.getStats();
  }

  adapter(id: string): IntentAdapter {
    let adapter = this.made.get(id);
    if (!adapter) {
      adapter = this.limit(id, this.inner.adapter(id));
      this.made.set(id, adapter);
      if (adapter instanceof PacedAdapter) this.paced.set(id, adapter);
    }
    return adapter;
  }

  addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    this.inner.addEventListener(...args);
  }

  removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    this.inner.removeEventListener(...args);
  }

  dispatchEvent(event: Event): boolean {
    return this.inner.dispatchEvent(event);
  }
}

/**
 * A remote adapter whose probes wait for their turn first. It records how long each answered
 * probe waited (on the clock the round times probes with), so that the wait can be taken out of
 * the latency. It does not own the adapter: disposing it leaves the pipeline's alone.
 */
class PacedAdapter implements IntentAdapter {
  /** Per answered probe, in order: ms spent waiting for its turn. */
  readonly waits: number[] = [];
  waited = false;

  constructor(
    private readonly inner: IntentAdapter,
    private readonly turn: (signal?: AbortSignal) => Promise<void>,
  ) {}

  get id(): string {
    return this.inner.id;
  }

  load(options?: LoadOptions): Promise<void> {
    return this.inner.load(options);
  }

  async classify(text: string, options: ClassifyOptions = {}): Promise<ModelPrediction> {
    const started = performance.now();
    await this.turn(options.signal);
    const waitMs = performance.now() - started;
    if (waitMs >= 1) this.waited = true;
    const prediction = await this.inner.classify(text, options);
    // A probe the round gave up on (timeout) is an error there, with no latency: not counted here either.
    if (!options.signal?.aborted) this.waits.push(waitMs);
    return prediction;
  }

  health(): Promise<AdapterHealth> {
    return this.inner.health();
  }

  facts(): ModelFacts {
    return this.inner.facts?.() ?? {};
  }

  ownProbeSet(): Promise<unknown> {
    return this.inner.ownProbeSet?.() ?? Promise.resolve(undefined);
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

/** Takes the pacing waits out of the paced models' latencies, then recomputes their figures and the summary. */
function withoutWaits(round: BenchmarkRound, paced: ReadonlyMap<string, PacedAdapter>): void {
  let changed = false;
  for (const [id, adapter] of paced) {
    const model = round.models[id];
    const latencies = model?.latencies_ms;
    if (!model || !latencies || !adapter.waited || latencies.length !== adapter.waits.length || latencies.length === 0) continue;
    const fixed = latencies.map((ms, i) => round3(Math.max(0, ms - adapter.waits[i]!)));
    model.latencies_ms = fixed;
    model.avg_latency_ms = round3(fixed.reduce((a, b) => a + b, 0) / fixed.length);
    model.p50_latency_ms = round3(percentile(fixed, 50));
    model.p95_latency_ms = round3(percentile(fixed, 95));
    model.p99_latency_ms = round3(percentile(fixed, 99));
    changed = true;
  }
  if (changed) round.summary = summarize(round.models, round.probe_set.n);
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
