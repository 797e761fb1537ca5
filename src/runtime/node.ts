/**
 * The package's Node entry: `import { createIntentRuntime } from 'banking-intent-runtime'`.
 *
 *   const runtime = createIntentRuntime();            // the bundled custom model, on the CPU
 *   const { intent, confidence } = await runtime.classify('I still have not received my new card');
 *   await runtime.dispose();
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createIntentRuntime as createRuntime, type IntentRuntime, type RuntimeHosts, type RuntimeOptions } from './intent-runtime';
import { nodeHosts, type NodeHostOptions } from './node-hosts';

/**
 * The model folder the package ships: the built entry is `dist/node/index.js` and the model sits in
 * the widget build's `dist/widget/models/custom/` (one copy for both). Absent when this file runs
 * from source; the adapter's own default (`public/models/custom`) applies there.
 */
const PACKAGED_MODEL_DIR = fileURLToPath(new URL('../widget/models/custom/', import.meta.url));

export interface NodeRuntimeOptions extends RuntimeOptions, NodeHostOptions {}

/**
 * A runtime whose on-device models run in this process. `modelDir` defaults to the model folder
 * shipped with the package; pass `hosts` to make the on-device adapters yourself.
 */
export function createIntentRuntime(options: NodeRuntimeOptions = {}, hosts?: RuntimeHosts): IntentRuntime {
  const { modelDir, llamaDir, ...rest } = options;
  return createRuntime(
    rest,
    hosts ?? nodeHosts({ modelDir: modelDir ?? (existsSync(PACKAGED_MODEL_DIR) ? PACKAGED_MODEL_DIR : undefined), llamaDir }),
  );
}

export * from './public-api';
