/**
 * The pipeline: one `classify` over many adapters. It owns the adapters (created on first use
 * from one factory table), the active model (switchable at runtime), the fallback chain, retries
 * with backoff, per-attempt timeouts, a circuit breaker per adapter, the out-of-scope threshold, and the cascade from
 * on-device to remote models. Any number of concurrent calls each get exactly one answer or one
 * error. An `out_of_scope` answer is an answer like any other: it ends the chain.
 */
import type { AdapterHealth, ClassifyOptions, IntentAdapter, LoadOptions } from '../core/adapter';
import { checkOosThreshold, isRemoteModel } from '../core/config';
import {
  AllAdaptersFailedError,
  InvalidInputError,
  IntentError,
  PrivacyGuardError,
  RemoteCallError,
  type AttemptFailure,
} from '../core/errors';
import { validateMessage } from '../core/input';
import { OUT_OF_SCOPE } from '../core/labels';
import type { ModelPrediction, Prediction } from '../core/prediction';
import { CircuitBreakers } from './cooldowns';
import type { RouterPolicy } from '../core/config';
import { backoffDelay, resolvePolicy } from './policy';
import { abortReason, raceAbort, sleep } from '../core/abort';
import { withTimeout } from './signals';

/** Makes an adapter on first use; ids are the ones config, URLs and the UI use. */
export type AdapterFactories = Record<string, () => IntentAdapter>;

export interface PipelineOptions {
  factories: AdapterFactories;
  /** The adapter asked first. */
  active: string;
  /** Tried in order after the active one fails (the active one is left out if listed). */
  fallback?: string[];
  /**
   * Confidence cascade: an on-device answer below this goes on to the next remote adapter in the
   * chain. Never an `out_of_scope` answer: its confidence says how sure the rejection is, not the label.
   */
  escalateBelow?: number;
  /**
   * Out-of-scope threshold passed to every adapter (`ClassifyOptions.oosThreshold`): 0 turns
   * rejection off, undefined leaves each on-device model its stored default. See `setOosThreshold`.
   */
  oosThreshold?: number;
  /**
   * Send an on-device `out_of_scope` answer on to the next remote adapter in the chain, as the
   * cascade does; if none answers, the on-device answer stands. Default false: the text stays here.
   */
  escalateOutOfScope?: boolean;
  /** Adapters that send text off the device (the cascade's targets). Default: `REMOTE_MODEL_IDS` (core/config.ts). */
  remote?: string[];
  policy?: Partial<RouterPolicy>;
  now?: () => number;
  random?: () => number;
}

export interface PipelineStats {
  requests: number;
  answered: number;
  failed: number;
  /** Answers that came from an adapter other than the first one tried. */
  fallbacks: number;
  /** On-device answers sent on to a remote adapter (below `escalateBelow`, or out of scope with `escalateOutOfScope`)... */
  escalations: number;
  /** ...and how many of those the remote adapter answered. */
  escalationsAnswered: number;
  /** Answers that were `out_of_scope` (counted in `answered` too). */
  outOfScope: number;
}

/** What one call passes to `classify`; the pipeline adds its out-of-scope threshold. */
type CallOptions = Pick<ClassifyOptions, 'signal' | 'topK'>;

export interface AdapterStatus extends AdapterHealth {
  id: string;
  /** Milliseconds until an adapter whose circuit is open is tried again (see `coolingDown`). */
  coolingDownMs: number;
}

/** The routing settings `configure` may change at run time (each one applies from the next request). */
export type RoutingSettings = Pick<PipelineOptions, 'fallback' | 'escalateBelow' | 'oosThreshold' | 'escalateOutOfScope'> & {
  active?: string;
};

export class IntentPipeline extends EventTarget {
  readonly policy: RouterPolicy;
  private readonly factories: Map<string, () => IntentAdapter>;
  private readonly adapters = new Map<string, IntentAdapter>();
  /** Requests being answered now, so that a replaced adapter is disposed only once they settle. */
  private readonly pending = new Set<Promise<unknown>>();
  private escalateBelowValue: number | undefined;
  private escalateOutOfScopeValue: boolean;
  private readonly breakers: CircuitBreakers;
  private readonly now: () => number;
  private readonly random: () => number;
  private activeId: string;
  private inFlightCount = 0;
  private fallbackIds: string[];
  private oosThresholdValue: number | undefined;
  private readonly stats: PipelineStats = {
    requests: 0,
    answered: 0,
    failed: 0,
    fallbacks: 0,
    escalations: 0,
    escalationsAnswered: 0,
    outOfScope: 0,
  };

  constructor(private readonly options: PipelineOptions) {
    super();
    this.policy = resolvePolicy(options.policy);
    this.now = options.now ?? (() => performance.now());
    this.random = options.random ?? Math.random;
    this.breakers = new CircuitBreakers(this.policy, this.now);
    this.factories = new Map(Object.entries(options.factories));
    for (const id of [options.active, ...(options.fallback ?? [])]) this.checkKnown(id);
    this.activeId = options.active;
    this.fallbackIds = options.fallback ?? [];
    this.escalateBelowValue = checkEscalateBelow(options.escalateBelow);
    this.escalateOutOfScopeValue = options.escalateOutOfScope === true;
    this.oosThresholdValue = options.oosThreshold === undefined ? undefined : checkOosThreshold(options.oosThreshold);
  }

  /** Ids of every adapter this pipeline can use. */
  get available(): string[] {
    return [...this.factories.keys()];
  }

  /**
   * Changes the routing from the next request on, all at once (one `change` event): a bad value
   * changes nothing. A key left out keeps its value; `escalateBelow`/`oosThreshold` set to
   * `undefined` turn the cascade off / give each model its own threshold again.
   */
  configure(settings: RoutingSettings): void {
    const active = settings.active ?? this.activeId;
    const fallback = settings.fallback ?? this.fallbackIds;
    [active, ...fallback].forEach((id) => this.checkKnown(id));
    const escalateBelow = 'escalateBelow' in settings ? checkEscalateBelow(settings.escalateBelow) : this.escalateBelowValue;
    const oosThreshold =
      'oosThreshold' in settings
        ? settings.oosThreshold === undefined
          ? undefined
          : checkOosThreshold(settings.oosThreshold)
        : this.oosThresholdValue;
    this.activeId = active;
    this.fallbackIds = [...fallback];
    this.escalateBelowValue = escalateBelow;
    this.oosThresholdValue = oosThreshold;
    this.escalateOutOfScopeValue = settings.escalateOutOfScope ?? this.escalateOutOfScopeValue;
    this.dispatchEvent(new Event('change'));
  }

  /**
   * From now on `id` is made by `factory`. Returns the adapter made by the old one (if any), no
   * longer used by new requests: the caller disposes it once `settled()` says the requests that
   * may still use it are done. The adapter's circuit starts closed.
   */
  replace(id: string, factory: () => IntentAdapter): IntentAdapter | undefined {
    this.checkKnown(id);
    this.factories.set(id, factory);
    const old = this.adapters.get(id);
    this.adapters.delete(id);
    this.breakers.reset(id);
    this.dispatchEvent(new Event('change'));
    return old;
  }

  /** Resolves once every request in flight now has settled (later ones are not waited for). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /** The confidence below which an on-device answer goes on to a remote model; undefined = off. */
  get escalateBelow(): number | undefined {
    return this.escalateBelowValue;
  }

  get active(): string {
    return this.activeId;
  }

  /** The order in which adapters are tried for the next request. */
  get chain(): string[] {
    return [this.activeId, ...this.fallbackIds.filter((id) => id !== this.activeId)];
  }

  /** Switches the model for the next request; requests in flight finish on the old one. */
  setActive(id: string): void {
    this.checkKnown(id);
    if (id === this.activeId) return;
    this.activeId = id;
    this.dispatchEvent(new Event('change'));
  }

  setFallback(ids: string[]): void {
    ids.forEach((id) => this.checkKnown(id));
    this.fallbackIds = [...ids];
    this.dispatchEvent(new Event('change'));
  }

  /** The out-of-scope threshold the next request passes to its adapters; undefined = each model's own. */
  get oosThreshold(): number | undefined {
    return this.oosThresholdValue;
  }

  /** Changes the out-of-scope threshold for the next request (0 = rejection off, undefined = each model's own). */
  setOosThreshold(value: number | undefined): void {
    const next = value === undefined ? undefined : checkOosThreshold(value);
    if (next === this.oosThresholdValue) return;
    this.oosThresholdValue = next;
    this.dispatchEvent(new Event('change'));
  }

  getStats(): PipelineStats {
    return { ...this.stats };
  }

  /** The adapter instance for `id`, created on first use. */
  adapter(id: string): IntentAdapter {
    this.checkKnown(id);
    let adapter = this.adapters.get(id);
    if (!adapter) {
      adapter = this.factories.get(id)!();
      this.adapters.set(id, adapter);
    }
    return adapter;
  }

  /** State of every adapter, for a model selector: ready, loading, unavailable (with the reason), cooling down. */
  async status(): Promise<AdapterStatus[]> {
    return Promise.all(
      this.available.map(async (id) => {
        const health: AdapterHealth = this.adapters.has(id) ? await this.adapter(id).health() : { state: 'idle' };
        return { id, ...health, coolingDownMs: this.breakers.remaining(id) };
      }),
    );
  }

  /** Loads one adapter ahead of time (e.g. the active model when the page opens). */
  async load(id: string, options: LoadOptions = {}): Promise<void> {
    try {
      await this.adapter(id).load(options);
    } finally {
      this.dispatchEvent(new Event('change'));
    }
  }

  /** User requests being answered right now; background work (benchmarks) waits for 0. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /**
   * Classifies one message. After it settles, a `request` event (a `CustomEvent` whose detail is
   * the request count) lets a benchmark scheduler count requests without wrapping this method.
   */
  classify(text: string, options: CallOptions = {}): Promise<Prediction> {
    const request = this.answer(text, options);
    this.pending.add(request);
    void request.catch(() => undefined).finally(() => this.pending.delete(request));
    return request;
  }

  private async answer(text: string, options: CallOptions): Promise<Prediction> {
    this.stats.requests++;
    this.inFlightCount++;
    try {
      // Bad input fails once, here, not once per adapter; the adapters get the cleaned text.
      const message = validateMessage(text);
      // Read once: a threshold changed mid-request applies from the next request on.
      const prediction = await this.route(message, this.chain, {
        ...options,
        oosThreshold: this.oosThresholdValue,
      });
      this.stats.answered++;
      if (prediction.fallback_from.length > 0) this.stats.fallbacks++;
      if (prediction.intent === OUT_OF_SCOPE) this.stats.outOfScope++;
      return prediction;
    } catch (error) {
      this.stats.failed++;
      throw error;
    } finally {
      this.inFlightCount--;
      this.dispatchEvent(new CustomEvent('request', { detail: this.stats.requests }));
    }
  }

  /**
   * Milliseconds until `id` is tried again after repeated failures; 0 when it may be used. While
   * one request probes it (half-open), the time that probe may still take.
   */
  coolingDown(id: string): number {
    return this.breakers.remaining(id);
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.adapters.values()].map((a) => a.dispose()));
    this.adapters.clear();
  }

  /** Tries `chain` in order; the first answer (`out_of_scope` included) wins, after the cascade. */
  private async route(text: string, chain: string[], options: ClassifyOptions): Promise<Prediction> {
    const failures: AttemptFailure[] = [];
    for (const [index, id] of chain.entries()) {
      const prediction = await this.tryAdapter(id, text, options, failures);
      if (!prediction) continue;
      const answer = { ...withMaskedCategories(prediction), fallback_from: failures.map((f) => f.model) };
      return this.maybeEscalate(answer, chain.slice(index + 1), text, options);
    }
    throw new AllAdaptersFailedError({ attempts: failures });
  }

  /**
   * The cascade: an on-device answer below `escalateBelow`, or an on-device `out_of_scope` when
   * `escalateOutOfScope` is on, goes to the next remote adapter in the chain. If no remote adapter
   * answers, the on-device answer stands: the user always gets one.
   */
  private async maybeEscalate(answer: Prediction, rest: string[], text: string, options: ClassifyOptions): Promise<Prediction> {
    if (!this.shouldEscalate(answer)) return answer;
    const remotes = rest.filter((id) => this.isRemote(id));
    if (remotes.length === 0) return answer;
    this.stats.escalations++;
    const ignored: AttemptFailure[] = [];
    for (const id of remotes) {
      const remote = await this.tryAdapter(id, text, options, ignored);
      if (remote) {
        this.stats.escalationsAnswered++;
        return { ...withMaskedCategories(remote), fallback_from: answer.fallback_from, escalated_from: answer.model };
      }
    }
    return answer;
  }

  /** Whether an answer goes on to a remote model: only an on-device one, unsure or (if allowed) out of scope. */
  private shouldEscalate(answer: Prediction): boolean {
    if (answer.device === 'remote') return false;
    // An out_of_scope confidence is the rejection's, so escalateBelow does not apply to it.
    if (answer.intent === OUT_OF_SCOPE) return this.escalateOutOfScopeValue;
    const threshold = this.escalateBelowValue;
    return threshold !== undefined && answer.confidence < threshold;
  }

  /**
   * One adapter, with retries for retryable errors. Returns the prediction, or undefined after
   * recording why it failed. Rethrows only what no other adapter could fix: the caller's abort.
   * An adapter whose circuit is open is skipped; when it is half-open this request may be its one
   * probe, which gets a single attempt.
   */
  private async tryAdapter(
    id: string,
    text: string,
    options: ClassifyOptions,
    failures: AttemptFailure[],
  ): Promise<ModelPrediction | undefined> {
    const admission = this.breakers.admit(id);
    if (!admission.admitted) {
      failures.push({
        model: id,
        code: 'cooling_down',
        message: admission.probing
          ? 'skipped after repeated failures while one request checks whether it is back'
          : `cooling down for another ${Math.ceil(admission.waitMs / 1000)} s after repeated failures`,
      });
      return undefined;
    }
    const { probe } = admission;
    const adapter = this.adapter(id);
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          if ((await adapter.health()).state !== 'ready') {
            // The load is shared with other requests: stop waiting on timeout or abort, never cancel it.
            await withTimeout(
              options.signal,
              this.policy.loadTimeoutMs,
              `${id} did not load within ${this.policy.loadTimeoutMs} ms`,
              (signal) => raceAbort(adapter.load(), signal),
            );
          }
          const prediction = await withTimeout(
            options.signal,
            this.policy.timeoutMs,
            `${id} did not answer within ${this.policy.timeoutMs} ms`,
            (signal) => raceAbort(adapter.classify(text, { signal, topK: options.topK, oosThreshold: options.oosThreshold }), signal),
          );
          this.breakers.recordSuccess(id);
          return prediction;
        } catch (error) {
          if (options.signal?.aborted) throw abortReason(options.signal);
          const retryAfterMs = error instanceof RemoteCallError ? error.retryAfterMs : undefined;
          const retryable = error instanceof IntentError ? error.retryable : false;
          if (error instanceof PrivacyGuardError) {
            // The text stayed here: nothing to retry, and nothing learned about the adapter.
          } else if (retryable && retryAfterMs !== undefined && retryAfterMs > this.policy.maxRetryAfterMs) {
            // The server asked for a long pause: honour it by skipping this adapter meanwhile.
            this.breakers.coolDown(id, Math.min(retryAfterMs, this.policy.maxServerCooldownMs));
          } else if (retryable && !probe && attempt < this.policy.retries) {
            await sleep(Math.max(retryAfterMs ?? 0, backoffDelay(this.policy, attempt, this.random)), options.signal);
            continue;
          } else {
            this.breakers.recordFailure(id, probe);
          }
          failures.push({
            model: id,
            code: error instanceof IntentError ? error.code : 'internal',
            message: error instanceof Error ? error.message : String(error),
          });
          this.dispatchEvent(new Event('change'));
          return undefined;
        }
      }
    } finally {
      // A probe that ended without a verdict (abort, privacy guard) hands the probe to the next request.
      if (probe) this.breakers.release(id);
    }
  }

  private isRemote(id: string): boolean {
    return this.options.remote ? this.options.remote.includes(id) : isRemoteModel(id);
  }

  private checkKnown(id: string): void {
    if (!this.factories.has(id)) {
      throw new InvalidInputError(`Unknown model "${id}": choose one of ${this.available.join(', ')}.`);
    }
  }
}

function checkEscalateBelow(value: number | undefined): number | undefined {
  if (value !== undefined && !(value >= 0 && value <= 1)) {
    throw new InvalidInputError(`escalateBelow must be between 0 and 1, got ${value}`);
  }
  return value;
}

/** `masked_categories` is `[]` on answers that lack it (an on-device engine from an older cached bundle). */
function withMaskedCategories(prediction: ModelPrediction): ModelPrediction {
  return Array.isArray(prediction.masked_categories) ? prediction : { ...prediction, masked_categories: [] };
}
