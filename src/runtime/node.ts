/**
 * The package's Node entry: `import { createIntentRuntime } from 'banking-intent-runtime'`.
 *
 *   const runtime = createIntentRuntime();            // the bundled custom model, on the CPU
 *   const { intent, confidence } = await runtime.classify('I still have not received my new card');
 *   await runtime.dispose();
 */
import { createIntentRuntime as createRuntime, type IntentRuntime, type RuntimeHosts, type RuntimeOptions } from './intent-runtime';
import { nodeHosts, type NodeHostOptions } from './node-hosts';

export interface NodeRuntimeOptions extends RuntimeOptions, NodeHostOptions {}

/**
 * A runtime whose on-device models run in this process. `modelDir` defaults to the model folder
 * shipped with the package; pass `hosts` to make the on-device adapters yourself.
 */
export function createIntentRuntime(options: NodeRuntimeOptions = {}, hosts?: RuntimeHosts): IntentRuntime {
  const { modelDir, llamaDir, ...rest } = options;
  return createRuntime(rest, hosts ?? nodeHosts({ modelDir, llamaDir }));
}

export * from './public-api';
