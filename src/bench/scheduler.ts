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
 */
import { AbortedError } from '../core/errors';
import { PROBE_SET, type ProbeSet } from './probe-set';
import {
  runBenchmarkRound,
  selectModels,
  type BenchmarkPipeline,
  type BenchmarkRound,
  type BenchmarkTrigger,
  type RoundOptions,
  type RoundProgress,
} from './round';
import type { RoundStore } from './store';

export const DEFAULT_EVERY = 50;

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
  /** Default: the committed probe set. */
  probeSet?: ProbeSet;
  /** Where finished rounds are appended. */
  store?: RoundStore;
  /** A round every this many user requests; 0 turns automatic rounds off. Default 50. */
  every?: number;
  /** Passed to every round: `timeoutMs`, `yieldToUsers`, `environment`, ... */
  round?: Omit<Partial<RoundOptions>, 'pipeline' | 'probeSet' | 'trigger' | 'requestCount' | 'models' | 'signal' | 'onProgress'>;
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

  constructor(private readonly options: SchedulerOptions) {
    super();
    this.every = options.every ?? DEFAULT_EVERY;
    options.pipeline.addEventListener('request', this.onRequest);
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
      const round = await runBenchmarkRound({
        ...this.options.round,
        pipeline: this.options.pipeline,
        probeSet: this.options.probeSet ?? PROBE_SET,
        trigger,
        requestCount: request_count,
        models,
        signal: this.controller.signal,
        onProgress: (progress) => this.emit('round-progress', progress),
      });
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
}
