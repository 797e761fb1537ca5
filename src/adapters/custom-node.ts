/**
 * The custom model as an adapter in Node: the same engine as the browser worker, on
 * onnxruntime-node, in this process. Used by the command line and by the pipeline's tests.
 */
import type { CustomEngine } from '../engine/custom-engine';
import { DEFAULT_MODEL_DIR, loadNodeEngine, type NodeEngineOptions } from '../engine/node-engine';
import { InProcessAdapter } from './in-process-adapter';

export class NodeCustomAdapter extends InProcessAdapter<CustomEngine> {
  readonly id = 'custom';

  constructor(
    private readonly modelDir = DEFAULT_MODEL_DIR,
    private readonly options: NodeEngineOptions = {},
  ) {
    super('cpu');
  }

  protected loadEngine(): Promise<CustomEngine> {
    return loadNodeEngine(this.modelDir, this.options);
  }
}
