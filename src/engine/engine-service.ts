/**
 * What a worker exposes around an engine, whatever the model: one shared load, one model call at
 * a time (cancellable while it waits), and dispose. The custom and llama-qlora hosts only say how
 * to load their engine.
 */
import type { EngineClassifyOptions, LoadProgress } from '../core/adapter';
import { ModelUnavailableError } from '../core/errors';
import type { ModelPrediction } from '../core/prediction';
import { serialCalls } from './serial-calls';

export interface ServedEngine {
  classify(text: string, options?: EngineClassifyOptions): Promise<ModelPrediction>;
  dispose(): Promise<void>;
}

/**
 * Model calls to make while no request waits, right after a load: the browser compiles
 * WebAssembly with a fast baseline tier first and re-compiles a function with its optimising tier
 * only once it has run enough, so the first ~50 queries on WASM take 2-3x as long as the rest
 * (README, "Speed in the browser"). Run in the background, they make a user's first queries fast
 * without delaying the first answer: a request that arrives meanwhile waits for one call at most.
 */
export interface WarmUp {
  calls: number;
  call(index: number): Promise<unknown>;
}

export interface EngineService<Request, Result> {
  load(request: Request, onProgress?: (progress: LoadProgress) => void): Promise<Result>;
  /** `requestId` lets `cancel` drop the call while it still waits for its turn. */
  classify(requestId: number, text: string, options?: EngineClassifyOptions): Promise<ModelPrediction>;
  cancel(requestId: number): void;
  dispose(): Promise<void>;
}

/** `load` makes the engine; the service shares that load, queues calls and disposes. */
export function serveEngine<Request, Result>(
  modelId: string,
  load: (
    request: Request,
    onProgress?: (progress: LoadProgress) => void,
  ) => Promise<{ engine: ServedEngine; result: Result; warmUp?: WarmUp }>,
): EngineService<Request, Result> {
  let loading: Promise<Result> | undefined;
  let engine: ServedEngine | undefined;
  let disposed = false;
  const calls = serialCalls();
  const disposedError = () => new ModelUnavailableError({ message: `The ${modelId} model was disposed.`, model: modelId });

  const loadOnce = async (request: Request, onProgress?: (progress: LoadProgress) => void): Promise<Result> => {
    const loaded = await load(request, onProgress);
    if (disposed) {
      await loaded.engine.dispose();
      throw disposedError();
    }
    engine = loaded.engine;
    if (loaded.warmUp) void warmUpWhileIdle(loaded.warmUp, loaded.engine);
    return loaded.result;
  };

  const warmUpWhileIdle = async (warmUp: WarmUp, loaded: ServedEngine): Promise<void> => {
    for (let i = 0; i < warmUp.calls; i++) {
      // A task boundary between calls, so that a request whose message has arrived is queued first.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (disposed || engine !== loaded) return;
      // Negative ids: a user's cancel never names one. A failure here is the next request's to report.
      await calls.run(-(i + 1), () => warmUp.call(i)).catch(() => undefined);
    }
  };

  return {
    load(request, onProgress) {
      if (disposed) return Promise.reject(disposedError());
      loading ??= loadOnce(request, onProgress);
      return loading;
    },

    classify(requestId, text, options = {}) {
      const current = engine;
      if (!current || disposed)
        return Promise.reject(new ModelUnavailableError({ message: `The ${modelId} model is not loaded yet.`, model: modelId }));
      return calls.run(requestId, () => current.classify(text, options));
    },

    cancel(requestId) {
      calls.cancel(requestId);
    },

    async dispose() {
      disposed = true;
      const current = engine;
      engine = undefined;
      await calls.idle();
      await current?.dispose();
    },
  };
}
