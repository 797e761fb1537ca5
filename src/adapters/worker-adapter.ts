/**
 * The page's side of an on-device model that runs in a dedicated worker, shared by the custom
 * model (src/adapters/custom.ts) and llama-qlora (src/adapters/llama-qlora.ts). It owns the
 * worker's lifetime, measures latency as the page sees it (messaging included) and turns aborts
 * into immediate `AbortedError`s (`TimeoutError`s for a timed-out signal, as everywhere: see
 * core/abort.ts); the adapter's states live in AdapterLifecycle. A subclass says which worker to start
 * and what to ask it to load; the worker exposes a `WorkerEngineApi` with comlink.
 */
import { releaseProxy, proxy, wrap, type Remote, type UnproxyOrClone } from 'comlink';
import type { ClassifyOptions, EngineClassifyOptions, LoadProgress } from '../core/adapter';
import { ModelUnavailableError } from '../core/errors';
import type { Device, ModelPrediction } from '../core/prediction';
import { installTypedErrors } from '../engine/worker-errors';
import { abortReason, raceAbort, throwIfAborted } from '../core/abort';
import { AdapterLifecycle } from './adapter-lifecycle';

/** What a worker's load answers at least: where the model runs, and (for benchmarks) its labels. */
export interface WorkerLoadInfo {
  device: Device;
  labels?: readonly string[];
}

/** What a model worker exposes: an engine host (src/engine/custom-worker-host.ts, llama-worker-host.ts). */
export interface WorkerEngineApi<Request, Info extends WorkerLoadInfo> {
  load(request: Request, onProgress?: (progress: LoadProgress) => void): Promise<Info>;
  /** `requestId` lets `cancel` drop the call while it still waits for its turn. */
  classify(requestId: number, text: string, options?: EngineClassifyOptions): Promise<ModelPrediction>;
  cancel(requestId: number): void;
  dispose(): Promise<void>;
}

/** One started worker and a promise that rejects when it dies, so no call waits forever. */
interface Connection<Request, Info extends WorkerLoadInfo> {
  worker: Worker;
  remote: Remote<WorkerEngineApi<Request, Info>>;
  died: Promise<never>;
  kill(reason: Error): void;
}

export abstract class WorkerAdapter<Request, Info extends WorkerLoadInfo> extends AdapterLifecycle {
  /** What the worker answered to the last successful load. */
  protected info: Info | undefined;
  private connection: Connection<Request, Info> | undefined;
  private nextRequestId = 1;

  constructor() {
    super();
    installTypedErrors();
  }

  /** Starts the worker (a fresh one for every load after a failure or a cancel). */
  protected abstract startWorker(): Worker;
  /** What the worker's `load` receives. */
  protected abstract loadRequest(): Request;

  async classify(text: string, options: ClassifyOptions = {}): Promise<ModelPrediction> {
    const { signal, topK, oosThreshold } = options;
    throwIfAborted(signal);
    await this.whenLoaded(signal);
    const connection = this.connection;
    if (this.state !== 'ready' || !connection)
      throw new ModelUnavailableError({ message: this.reason ?? `The ${this.id} model is not loaded.`, model: this.id });

    const requestId = this.nextRequestId++;
    const started = performance.now();
    const answer = Promise.race([connection.remote.classify(requestId, text, { topK, oosThreshold }), connection.died]);
    const prediction = await raceAbort(answer, signal, () => void connection.remote.cancel(requestId).catch(() => undefined));
    return { ...prediction, latency_ms: performance.now() - started };
  }

  /** The labels the worker's model answers, from its last load. */
  protected override modelLabels(): readonly string[] | undefined {
    return this.info?.labels;
  }

  override dispose(): Promise<void> {
    // Terminating the worker frees the session, its WASM memory and the GPU device at once.
    this.connection?.kill(this.disposedError());
    this.connection = undefined;
    return super.dispose();
  }

  protected async runLoad(signal: AbortSignal): Promise<Device> {
    const connection = this.connect();
    // A cancelled or disposed load stops its worker at once.
    signal.addEventListener('abort', () => this.drop(connection, abortReason(signal)), { once: true });
    try {
      const onProgress = proxy((progress: LoadProgress) => this.progress(progress));
      // A load request is plain data (structured clone), never a proxy: comlink's generic type
      // cannot see that for an unknown `Request`.
      const request = this.loadRequest() as UnproxyOrClone<Request>;
      const info = (await Promise.race([connection.remote.load(request, onProgress), connection.died])) as Info;
      this.info = info;
      return info.device;
    } catch (error) {
      // A failed load leaves the worker useless; the next load() starts a fresh one.
      const reason =
        error instanceof Error
          ? error
          : new ModelUnavailableError({ message: `The ${this.id} model did not load.`, model: this.id, cause: error });
      this.drop(connection, reason);
      throw error;
    }
  }

  /** Stops `connection`'s worker; forgets it if it is the current one. */
  private drop(connection: Connection<Request, Info>, reason: Error): void {
    connection.kill(reason);
    if (this.connection === connection) this.connection = undefined;
  }

  private connect(): Connection<Request, Info> {
    const worker = this.startWorker();
    const remote = wrap<WorkerEngineApi<Request, Info>>(worker);
    let fail: (reason: Error) => void = () => undefined;
    const died = new Promise<never>((_, reject) => {
      fail = reject;
    });
    died.catch(() => undefined);
    let killed = false;
    const connection: Connection<Request, Info> = {
      worker,
      remote,
      died,
      // Once only: comlink throws when a released proxy is released again.
      kill: (reason) => {
        if (killed) return;
        killed = true;
        fail(reason);
        remote[releaseProxy]();
        worker.terminate();
      },
    };
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      const detail = event.message ? `: ${event.message}` : '';
      const error = new ModelUnavailableError({ message: `The model worker stopped${detail}.`, model: this.id, cause: event.error });
      if (this.connection === connection && this.state !== 'disposed') this.markUnavailable(error.message);
      this.drop(connection, error);
    });
    this.connection = connection;
    return connection;
  }
}
