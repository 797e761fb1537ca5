/**
 * The page's side of an on-device model that runs in a dedicated worker, shared by the custom
 * model (src/adapters/custom.ts) and llama-qlora (src/adapters/llama-qlora.ts). It owns the
 * worker's lifetime, keeps the adapter state, measures latency as the page sees it (messaging
 * included) and turns aborts into immediate `AbortedError`s. A subclass says which worker to start
 * and what to ask it to load; the worker exposes a `WorkerEngineApi` with comlink.
 */
import { releaseProxy, proxy, wrap, type Remote, type UnproxyOrClone } from 'comlink';
import type { AdapterHealth, AdapterState, ClassifyOptions, IntentAdapter, LoadOptions, LoadProgress } from '../core/adapter';
import { AbortedError, ModelUnavailableError, throwIfAborted } from '../core/errors';
import { validateMessage } from '../core/input';
import type { Device, Prediction } from '../core/prediction';
import { installTypedErrors } from '../engine/worker-errors';
import { raceAbort } from '../core/abort';

/** What a model worker exposes: an engine host (src/engine/worker-host.ts, llama-worker-host.ts). */
export interface WorkerEngineApi<Request, Info extends { device: Device }> {
  load(request: Request, onProgress?: (progress: LoadProgress) => void): Promise<Info>;
  /** `requestId` lets `cancel` drop the call while it still waits for its turn. */
  classify(requestId: number, text: string, topK?: number): Promise<Prediction>;
  cancel(requestId: number): void;
  dispose(): Promise<void>;
}

/** One started worker and a promise that rejects when it dies, so no call waits forever. */
interface Connection<Request, Info extends { device: Device }> {
  worker: Worker;
  remote: Remote<WorkerEngineApi<Request, Info>>;
  died: Promise<never>;
  kill(reason: Error): void;
}

export abstract class WorkerAdapter<Request, Info extends { device: Device }> implements IntentAdapter {
  abstract readonly id: string;
  private state: AdapterState = 'idle';
  private device: Device | undefined;
  private reason: string | undefined;
  /** What the worker answered to the last successful load. */
  protected info: Info | undefined;
  private connection: Connection<Request, Info> | undefined;
  private loading: Promise<void> | undefined;
  private readonly progressListeners = new Set<(progress: LoadProgress) => void>();
  private nextRequestId = 1;

  constructor() {
    installTypedErrors();
  }

  /** Starts the worker (a fresh one for every load after a failure or a cancel). */
  protected abstract startWorker(): Worker;
  /** What the worker's `load` receives. */
  protected abstract loadRequest(): Request;

  /**
   * Loads the model in the worker. Concurrent calls share one load. Aborting any caller's signal
   * cancels the load (the worker is stopped) and every waiting call rejects with `AbortedError`;
   * a later `load()` starts over.
   */
  async load(options: LoadOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
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

  async classify(text: string, options: ClassifyOptions = {}): Promise<Prediction> {
    const { signal, topK } = options;
    throwIfAborted(signal);
    // Checked here, before any messaging: an empty message never reaches the model.
    const message = validateMessage(text);
    if (this.state === 'disposed') throw this.disposedError();
    // Aborting this call stops only its wait: the load it waits for may serve other calls.
    if (this.state !== 'ready') await raceAbort(this.load(), signal, () => undefined);
    const connection = this.connection;
    if (this.state !== 'ready' || !connection)
      throw new ModelUnavailableError(this.reason ?? `The ${this.id} model is not loaded.`, this.id);

    const requestId = this.nextRequestId++;
    const started = performance.now();
    const answer = Promise.race([connection.remote.classify(requestId, message, topK), connection.died]);
    const prediction = await raceAbort(answer, signal, () => void connection.remote.cancel(requestId).catch(() => undefined));
    return { ...prediction, latency_ms: performance.now() - started };
  }

  health(): Promise<AdapterHealth> {
    const health: AdapterHealth = { state: this.state };
    if (this.device) health.device = this.device;
    if (this.reason) health.reason = this.reason;
    return Promise.resolve(health);
  }

  dispose(): Promise<void> {
    if (this.state !== 'disposed') {
      this.state = 'disposed';
      this.reason = `The ${this.id} model was disposed.`;
      // Terminating the worker frees the session, its WASM memory and the GPU device at once.
      this.connection?.kill(this.disposedError());
      this.connection = undefined;
      this.loading = undefined;
    }
    return Promise.resolve();
  }

  private async startLoad(): Promise<void> {
    this.state = 'loading';
    this.reason = undefined;
    let connection: Connection<Request, Info> | undefined;
    try {
      connection = this.connect();
      const onProgress = proxy((progress: LoadProgress) => {
        for (const listener of this.progressListeners) listener(progress);
      });
      // A load request is plain data (structured clone), never a proxy: comlink's generic type
      // cannot see that for an unknown `Request`.
      const request = this.loadRequest() as UnproxyOrClone<Request>;
      const info = (await Promise.race([connection.remote.load(request, onProgress), connection.died])) as Info;
      if (this.connection !== connection) throw new AbortedError('The model load was cancelled.');
      this.info = info;
      this.device = info.device;
      this.state = 'ready';
    } catch (error) {
      if (!connection || this.connection === connection) {
        // A failed load leaves the worker useless; the next load() starts a fresh one.
        connection?.kill(error instanceof Error ? error : new Error(String(error)));
        this.connection = undefined;
        this.state = 'unavailable';
        this.reason = error instanceof Error ? error.message : String(error);
      }
      throw error;
    }
  }

  private cancelLoad(): void {
    if (this.state !== 'loading') return;
    this.connection?.kill(new AbortedError('The model load was cancelled.'));
    this.connection = undefined;
    this.loading = undefined;
    this.state = 'idle';
  }

  private connect(): Connection<Request, Info> {
    const worker = this.startWorker();
    const remote = wrap<WorkerEngineApi<Request, Info>>(worker);
    let fail: (reason: Error) => void = () => undefined;
    const died = new Promise<never>((_, reject) => {
      fail = reject;
    });
    died.catch(() => undefined);
    const connection: Connection<Request, Info> = {
      worker,
      remote,
      died,
      kill: (reason) => {
        fail(reason);
        remote[releaseProxy]();
        worker.terminate();
      },
    };
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      const detail = event.message ? `: ${event.message}` : '';
      const error = new ModelUnavailableError(`The model worker stopped${detail}.`, this.id);
      if (this.connection === connection) {
        this.connection = undefined;
        this.state = 'unavailable';
        this.reason = error.message;
      }
      connection.kill(error);
    });
    this.connection = connection;
    return connection;
  }

  private disposedError(): ModelUnavailableError {
    return new ModelUnavailableError(`The ${this.id} model was disposed.`, this.id);
  }
}
