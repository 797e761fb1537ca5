/**
 * The load → ready → unavailable → disposed life of an adapter whose load takes a while or may
 * fail (a model worker, a vLLM server check, Gemini's client), written once. A subclass says how
 * to load (`runLoad`), how to classify, and what else `dispose` frees.
 *
 * The rules kept here: concurrent `load()` calls share one load; aborting any caller's signal
 * cancels that load (its `AbortSignal` fires) and every waiting call rejects with `AbortedError`,
 * after which a later `load()` starts over; a failed load leaves the adapter `unavailable` with the
 * reason, and the next `load()` tries again; `dispose()` cancels a load in flight.
 */
import type {
  AdapterHealth,
  AdapterState,
  ClassifyOptions,
  IntentAdapter,
  LoadFacts,
  LoadOptions,
  LoadProgress,
  ModelFacts,
} from '../core/adapter';
import { AbortedError, ModelUnavailableError } from '../core/errors';
import type { Device, ModelPrediction } from '../core/prediction';
import { abortReason, raceAbort } from '../core/abort';
import { LoadMeter } from './load-meter';

export abstract class AdapterLifecycle implements IntentAdapter {
  abstract readonly id: string;
  protected state: AdapterState = 'idle';
  protected reason: string | undefined;
  /** Where the model runs; reported by `health()` while ready. */
  private device: Device | undefined;
  private loading: Promise<void> | undefined;
  /** Belongs to the load in flight; `undefined` when none runs. */
  private loadController: AbortController | undefined;
  private readonly progressListeners = new Set<(progress: LoadProgress) => void>();
  /** Times the load in flight and counts its bytes. */
  private meter: LoadMeter | undefined;
  /** The last successful load. */
  private lastLoad: LoadFacts | undefined;

  /**
   * Does the load's work and resolves with the device the model runs on. `signal` fires when the
   * load is cancelled or the adapter disposed; the work should stop and free what it started.
   */
  protected abstract runLoad(signal: AbortSignal): Promise<Device>;

  abstract classify(text: string, options?: ClassifyOptions): Promise<ModelPrediction>;

  /** How messages name this adapter, e.g. `The vLLM adapter`. */
  protected get title(): string {
    return `The ${this.id} model`;
  }

  async load(options: LoadOptions = {}): Promise<void> {
    if (options.signal?.aborted) throw abortReason(options.signal);
    if (this.state === 'disposed') throw this.disposedError();
    if (this.state === 'ready') return;
    const listener = options.onProgress;
    if (listener) this.progressListeners.add(listener);
    try {
      // `loading` is current only while the state says so; any other state starts a new load.
      if (this.state !== 'loading' || !this.loading) this.loading = this.startLoad();
      await raceAbort(this.loading, options.signal, () => this.cancelLoad());
    } finally {
      if (listener) this.progressListeners.delete(listener);
    }
  }

  /** Its labels (see `modelLabels`) and how its last successful load went. */
  facts(): ModelFacts {
    const facts: ModelFacts = {};
    const labels = this.modelLabels();
    if (labels) facts.labels = labels;
    if (this.lastLoad) facts.load = { ...this.lastLoad };
    return facts;
  }

  health(): Promise<AdapterHealth> {
    const health: AdapterHealth = { state: this.state };
    if (this.state === 'ready' && this.device) health.device = this.device;
    if (this.reason) health.reason = this.reason;
    return Promise.resolve(health);
  }

  /** Cancels a load in flight and marks the adapter disposed; subclasses free the rest. */
  dispose(): Promise<void> {
    if (this.state !== 'disposed') {
      this.state = 'disposed';
      this.reason = this.disposedError().message;
      this.loadController?.abort(this.disposedError());
      this.loadController = undefined;
      this.loading = undefined;
    }
    return Promise.resolve();
  }

  /**
   * What `classify` does before its work: refuse after dispose, and wait for the load when not ready.
   * Aborting `signal` stops only this wait: the load may serve other calls.
   */
  protected async whenLoaded(signal: AbortSignal | undefined): Promise<void> {
    if (this.state === 'disposed') throw this.disposedError();
    if (this.state !== 'ready') await raceAbort(this.load(), signal, () => undefined);
  }

  /** Tells the callers of `load()` that are waiting now how the load is going. */
  protected progress(progress: LoadProgress): void {
    this.meter?.record(progress);
    for (const listener of this.progressListeners) listener(progress);
  }

  /** The labels the model answers, where the subclass knows them (a remote model's list, a loaded model's config). */
  protected modelLabels(): readonly string[] | undefined {
    return undefined;
  }

  /** After a ready adapter found its model gone (a dead worker, a model the server dropped). */
  protected markUnavailable(reason: string): void {
    this.state = 'unavailable';
    this.reason = reason;
  }

  protected disposedError(): ModelUnavailableError {
    return new ModelUnavailableError({ message: `${this.title} was disposed.`, model: this.id });
  }

  private async startLoad(): Promise<void> {
    const controller = new AbortController();
    this.loadController = controller;
    this.state = 'loading';
    this.reason = undefined;
    const meter = new LoadMeter();
    this.meter = meter;
    try {
      const device = await this.runLoad(controller.signal);
      if (this.loadController !== controller) throw new AbortedError(`${this.title} load was cancelled.`);
      this.loadController = undefined;
      this.lastLoad = meter.finish();
      this.device = device;
      this.state = 'ready';
    } catch (error) {
      // A cancelled or disposed load has already set the state; leave it.
      if (this.loadController === controller) {
        this.loadController = undefined;
        this.markUnavailable(error instanceof Error ? error.message : String(error));
      }
      throw error;
    }
  }

  private cancelLoad(): void {
    if (this.state !== 'loading') return;
    this.loadController?.abort(new AbortedError(`${this.title} load was cancelled.`));
    this.loadController = undefined;
    this.loading = undefined;
    this.state = 'idle';
  }
}
