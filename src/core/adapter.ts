import type { Device, ModelPrediction } from './prediction';

/** Progress while an adapter loads: bytes of model files fetched so far, when known. */
export interface LoadProgress {
  /** What is happening now, e.g. `fetching model.onnx` or `creating session`. */
  stage: string;
  loaded: number;
  /** Total bytes, or 0 when the size is not known in advance. */
  total: number;
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
   */
  classify(text: string, options?: ClassifyOptions): Promise<ModelPrediction>;
  health(): Promise<AdapterHealth>;
  /** Frees the model, the worker and any GPU memory. The adapter cannot be used afterwards. */
  dispose(): Promise<void>;
}

/** What an engine (in a worker or in process) takes per call: the model-facing part of `ClassifyOptions`. */
export type EngineClassifyOptions = Pick<ClassifyOptions, 'topK' | 'oosThreshold'>;
