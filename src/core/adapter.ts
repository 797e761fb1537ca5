import type { Device, ModelPrediction } from './prediction';

/**
 * Progress while an adapter loads: bytes fetched so far, when known. In a browser the custom model
 * reports all its downloads together (the runtime's `.wasm` and the model's files: see
 * src/engine/load-plan.ts), with the total from the first report on.
 */
export interface LoadProgress {
  /**
   * What is happening now, e.g. `downloading the model and its runtime`, `fetching model.onnx`
   * (one file) or `creating session` (after the last byte: no byte counts).
   */
  stage: string;
  loaded: number;
  /** Total bytes, or 0 when the size is not known in advance (or nothing is being fetched). */
  total: number;
  /** True when the bytes come from this device's cache (the service worker's), not the network. */
  cached?: boolean;
}

export interface LoadOptions {
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
}

export interface ClassifyOptions {
  signal?: AbortSignal;
  /** How many labels to return in `top` (default 5). */
  topK?: number;
  /**
   * Out-of-scope threshold for the on-device models: answer `out_of_scope` when the best in-scope
   * label's probability is below it. 0 turns rejection off (the best in-scope label always
   * answers); undefined uses the threshold stored with the model (chosen on validation data).
   * Remote models decide for themselves and ignore it.
   */
  oosThreshold?: number;
}

export type AdapterState = 'idle' | 'loading' | 'ready' | 'unavailable' | 'disposed';

export interface AdapterHealth {
  state: AdapterState;
  /** The device it runs on once loaded. */
  device?: Device;
  /** Why it is unavailable, in words a user can act on. */
  reason?: string;
}

/** How an adapter's last successful load went. */
export interface LoadFacts {
  /** Wall time from the start of the load to ready, in ms. */
  ms: number;
  /** Bytes fetched (or read from disk): the model's files, and the runtime's where the host fetches it; 0 for a remote model. */
  bytes: number;
}

/** What an adapter can say about its model (for benchmarks): every field is optional. */
export interface ModelFacts {
  /** The labels it can answer (in-scope ones, and `out_of_scope` where it has it); for an on-device model, once loaded. */
  labels?: readonly string[];
  /** Its last successful load, wherever it was started (the page, a request, a benchmark round). */
  load?: LoadFacts;
}

/**
 * The contract every model implements, on the device or remote. Small on purpose: the pipeline
 * needs nothing else to switch between adapters and fall back from one to the next.
 */
export interface IntentAdapter {
  /** Stable id used in config, URLs and predictions: `custom`, `llama-qlora`, `vllm`, `gemini`. */
  readonly id: string;
  /** Loads model files or checks the server. Safe to call twice; the second call waits for the first. */
  load(options?: LoadOptions): Promise<void>;
  /**
   * Classifies one message: the model's answer, without what routing adds (`fallback_from`,
   * `escalated_from`: the pipeline's). Rejects with an `IntentError` subclass, never with a bare string.
   * `text` has passed `validateMessage` (src/core/input.ts): the pipeline checks each request once,
   * before any adapter sees it, and hands on the cleaned text; a benchmark's rows are checked where
   * they are read. Adapters and engines do not check it again.
   */
  classify(text: string, options?: ClassifyOptions): Promise<ModelPrediction>;
  health(): Promise<AdapterHealth>;
  /** Frees the model, the worker and any GPU memory. The adapter cannot be used afterwards. */
  dispose(): Promise<void>;
  /** Optional: its labels and how its load went (see `ModelFacts`). */
  facts?(): ModelFacts;
  /**
   * Optional: the benchmark probe set shipped with its model (`probe-set.json` in a model folder
   * trained on a bank's own intents), as parsed JSON; undefined when the model has none.
   */
  ownProbeSet?(): Promise<unknown>;
}

/** What an engine (in a worker or in process) takes per call: the model-facing part of `ClassifyOptions`. */
export type EngineClassifyOptions = Pick<ClassifyOptions, 'topK' | 'oosThreshold'>;
