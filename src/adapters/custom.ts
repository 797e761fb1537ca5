/**
 * Our own transformer, run in a dedicated worker so that the page stays responsive while the
 * model loads and classifies. The worker (workers/custom.worker.ts) holds the engine; this class
 * is the page's side: it owns the worker's lifetime, keeps the adapter state, measures latency as
 * the page sees it (messaging included) and turns aborts into immediate `AbortedError`s.
 */
import { releaseProxy, proxy, wrap, type Remote } from 'comlink';
import type { AdapterHealth, AdapterState, ClassifyOptions, IntentAdapter, LoadOptions, LoadProgress } from '../core/adapter';
import { AbortedError, ModelUnavailableError, throwIfAborted } from '../core/errors';
import { validateMessage } from '../core/input';
import type { Device, Prediction } from '../core/prediction';
import { installTypedErrors } from '../engine/worker-errors';
import type { CustomWorkerApi, HostLoadResult } from '../engine/worker-host';
import { raceAbort } from '../core/abort';

export interface CustomAdapterOptions {
  /** Absolute URL of the model folder (config.json, tokenizer.json, model.onnx). */
  modelBaseUrl: string;
  /** Absolute URL of our copy of the onnxruntime-web runtime files. */
  ortBaseUrl: string;
  /** `false` keeps the model off WebGPU even where the browser has it. Default true. */
  preferWebGPU?: boolean;
  /** Starts the worker; replaceable in tests. */
  createWorker?: () => Worker;
}

const MODEL_ID = 'custom';

function startWorker(): Worker {
  return new Worker(new URL('../../workers/custom.worker.ts', import.meta.url), { type: 'module', name: 'custom-model' });
}

/** One started worker and a promise that rejects when it dies, so no call waits forever. */
interface Connection {
  worker: Worker;
  remote: Remote<CustomWorkerApi>;
  died: Promise<never>;
  kill(reason: Error): void;
}

export class CustomAdapter implements IntentAdapter {
  readonly id = MODEL_ID;
  private state: AdapterState = 'idle';
  private device: Device | undefined;
  private reason: string | undefined;
  private info: HostLoadResult | undefined;
  private connection: Connection | undefined;
  private loading: Promise<void> | undefined;
  private readonly progressListeners = new Set<(progress: LoadProgress) => void>();
  private nextRequestId = 1;

  constructor(private readonly options: CustomAdapterOptions) {
    installTypedErrors();
  }

  /** Why the model runs on WASM rather than WebGPU, once loaded; undefined on WebGPU. */
  get webgpuSkipped(): string | undefined {
    return this.info?.webgpuSkipped;
  }

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
    if (this.state !== 'ready' || !connection) throw new ModelUnavailableError(this.reason ?? 'The custom model is not loaded.', MODEL_ID);

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
      this.reason = 'The custom model was disposed.';
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
    let connection: Connection | undefined;
    try {
      connection = this.connect();
      const onProgress = proxy((progress: LoadProgress) => {
        for (const listener of this.progressListeners) listener(progress);
      });
      const request = {
        modelBaseUrl: this.options.modelBaseUrl,
        ortBaseUrl: this.options.ortBaseUrl,
        preferWebGPU: this.options.preferWebGPU,
        modelId: MODEL_ID,
      };
      const info = await Promise.race([connection.remote.load(request, onProgress), connection.died]);
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

  private connect(): Connection {
    const worker = (this.options.createWorker ?? startWorker)();
    const remote = wrap<CustomWorkerApi>(worker);
    let fail: (reason: Error) => void = () => undefined;
    const died = new Promise<never>((_, reject) => {
      fail = reject;
    });
    died.catch(() => undefined);
    const connection: Connection = {
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
      const error = new ModelUnavailableError(`The model worker stopped${detail}.`, MODEL_ID);
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
    return new ModelUnavailableError('The custom model was disposed.', MODEL_ID);
  }
}
