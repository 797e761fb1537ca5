/** Where a prediction was computed. `remote` is any server (vLLM, Gemini). */
export type Device = 'webgpu' | 'wasm' | 'cpu' | 'remote';

export interface ScoredIntent {
  intent: string;
  score: number;
}

/**
 * What a model answers: what every adapter's `classify` resolves with. Field names are snake_case
 * where they are also the JSON that the command line prints and the benchmark exports, so one
 * object serves all three. The pipeline adds what only routing knows (see `Prediction`).
 */
export interface ModelPrediction {
  /**
   * The winning label, or `out_of_scope` (`OUT_OF_SCOPE` in core/labels.ts) when the message is
   * none of the model's intents: small talk, another domain, gibberish, another language.
   */
  intent: string;
  /**
   * Calibrated probability of `intent` (temperature-scaled on a validation split), in [0, 1].
   * For `out_of_scope` it is the probability that the best in-scope label is wrong
   * (`1 - top[0].score` on the on-device models); a remote model without scores reports 1.
   */
  confidence: number;
  /**
   * The k best in-scope labels with their probabilities, best first, never `out_of_scope`. For an
   * in-scope answer `top[0].intent === intent`; for `out_of_scope` it says what the message was
   * closest to (empty when a remote model gave no scores).
   */
  top: ScoredIntent[];
  /** Id of the model that answered, e.g. `custom`. */
  model: string;
  device: Device;
  /** Wall time of this call inside the adapter, in milliseconds. */
  latency_ms: number;
  /** True when the text was longer than the model's context and only its start was read. */
  truncated: boolean;
  /**
   * True when personal data (card numbers, IBANs, emails, phone numbers, account numbers) was
   * masked before the text left the device. Says that it happened, never what was masked.
   */
  masked: boolean;
  /**
   * Which kinds of personal data were masked (the privacy guard's category names, e.g. `card`,
   * `email`), sorted, each once, for audits. Names only, never the values; `[]` when nothing was
   * masked and for every on-device answer (the text never left).
   */
  masked_categories: string[];
}

/**
 * What the pipeline answers: the model's answer plus what routing added. `IntentPipeline.classify`
 * (and so the runtime, the CLI and the UI) returns this; an adapter never sets these fields.
 */
export interface Prediction extends ModelPrediction {
  /** Adapters that failed before this one answered, in the order they were tried. */
  fallback_from: string[];
  /**
   * Set when an on-device answer was below the pipeline's `escalateBelow` confidence, or was
   * `out_of_scope` with `escalateOutOfScope` on, and this remote answer replaced it: the id of the
   * on-device model that was unsure.
   */
  escalated_from?: string;
}
