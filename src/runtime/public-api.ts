/** What both package entries export besides `createIntentRuntime`: the types and errors a caller handles. */
export { IntentRuntime } from './intent-runtime';
export type {
  IntentRuntimeEvents,
  RuntimeBenchmarkOptions,
  RuntimeClassifyOptions,
  RuntimeHosts,
  RuntimeLoadOptions,
  RuntimeOptions,
  RuntimeProgress,
  RuntimeStatus,
} from './intent-runtime';
export type { ConfigOverrides, ModelId, RuntimeConfig } from '../core/config';
export { MODEL_IDS } from '../core/config';
export type { Device, ModelPrediction, Prediction, ScoredIntent } from '../core/prediction';
export type { AdapterHealth, AdapterState, IntentAdapter } from '../core/adapter';
export { OUT_OF_SCOPE } from '../core/labels';
export * from '../core/errors';
