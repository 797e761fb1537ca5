/** How many labels `top` holds unless the caller asks otherwise. */
export const DEFAULT_TOP_K = 5;

/** Where a prediction was computed. `remote` is any server (vLLM, Gemini). */
export type Device = 'webgpu' | 'wasm' | 'cpu' | 'remote';

export interface ScoredIntent {
  intent: string;
  score: number;
}

/**
 * What every adapter's `classify` answers. Field names are snake_case where they are also the
 * JSON that the command line prints and the benchmark exports, so one object serves all three.
 */
export interface Prediction {
  /** The winning label. */
  intent: string;
  /** Calibrated probability of `intent` (temperature-scaled on a validation split), in [0, 1]. */
  confidence: number;
  /** The k best labels with their probabilities, best first; `top[0].intent === intent`. */
  top: ScoredIntent[];
  /** Id of the model that answered, e.g. `custom`. */
  model: string;
  device: Device;
  /** Wall time of this call inside the adapter, in milliseconds. */
  latency_ms: number;
  /** True when the text was longer than the model's context and only its start was read. */
  truncated: boolean;
  /** Adapters that failed before this one answered, in the order they were tried. */
  fallback_from: string[];
  /**
   * True when personal data (card numbers, IBANs, emails, phone numbers, account numbers) was
   * masked before the text left the device. Says that it happened, never what was masked.
   */
  masked: boolean;
  /**
   * Set when an on-device answer was below the pipeline's `escalateBelow` confidence and this
   * remote answer replaced it: the id of the on-device model that was unsure.
   */
  escalated_from?: string;
}
