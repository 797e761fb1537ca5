/** The models the Node scripts can run, by id. Each returns the same engine the browser uses. */
import type { Classifier } from '../../src/bench/evaluate';
import { DEFAULT_MODEL_DIR, loadNodeEngine } from '../../src/engine/custom-node-engine';

export const NODE_MODELS = ['custom', 'llama-qlora'] as const;

/** An engine as eval uses it: the labels it can answer, one message at a time, and (custom) batches. */
export interface NodeClassifier extends Classifier {
  readonly labels: readonly string[];
  /** The out-of-scope threshold stored with the model (0 when it has none). */
  readonly oosThreshold: number;
  dispose(): Promise<void>;
}

/** Loads `model` from `modelDir` (default: its folder under public/models/). */
export async function loadNodeClassifier(model: string, modelDir?: string): Promise<NodeClassifier> {
  if (model === 'custom') return loadNodeEngine(modelDir ?? DEFAULT_MODEL_DIR);
  if (model === 'llama-qlora') {
    // Imported here: transformers.js (with onnxruntime-node and sharp) loads only for the Llama.
    const { loadNodeLlamaEngine } = await import('../../src/adapters/llama-node');
    const engine = await loadNodeLlamaEngine({ modelDir });
    // No batches: the Llama decodes one message at a time.
    return {
      labels: engine.spec.labels,
      oosThreshold: engine.spec.oosThreshold,
      classify: (text, options) => engine.classify(text, options),
      dispose: () => engine.dispose(),
    };
  }
  throw new Error(`unknown model "${model}"; the command line runs: ${NODE_MODELS.join(', ')}`);
}
