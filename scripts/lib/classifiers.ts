/** The models the Node scripts can run, by id. Each returns the same engine the browser uses. */
import type { CustomEngine } from '../../src/engine/custom-engine';
import { DEFAULT_MODEL_DIR, loadNodeEngine } from '../../src/engine/node-engine';

export const NODE_MODELS = ['custom'] as const;

export async function loadNodeClassifier(model: string, modelDir?: string): Promise<CustomEngine> {
  if (model === 'custom') return loadNodeEngine(modelDir ?? DEFAULT_MODEL_DIR);
  throw new Error(`unknown model "${model}"; the command line runs: ${NODE_MODELS.join(', ')}`);
}
