/**
 * The custom model as an adapter in Node: the same engine as the browser worker, on
 * onnxruntime-node, in this process. Used by the command line and by the pipeline's tests.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROBE_SET_FILE } from '../bench/probe-hash';
import type { LoadOptions } from '../core/adapter';
import type { CustomEngine } from '../engine/custom-engine';
import { DEFAULT_MODEL_DIR, loadNodeEngine, type NodeEngineOptions } from '../engine/custom-node-engine';
import { InProcessAdapter } from './in-process-adapter';

export class NodeCustomAdapter extends InProcessAdapter<CustomEngine> {
  readonly id = 'custom';

  constructor(
    private readonly modelDir = DEFAULT_MODEL_DIR,
    private readonly options: NodeEngineOptions = {},
  ) {
    super('cpu');
  }

  protected loadEngine(options: LoadOptions): Promise<CustomEngine> {
    return loadNodeEngine(this.modelDir, { ...this.options, signal: options.signal, onProgress: options.onProgress });
  }

  protected override engineLabels(engine: CustomEngine): readonly string[] {
    return engine.labels;
  }

  /** `probe-set.json` in the model folder (written by training), parsed; undefined when there is none. */
  async ownProbeSet(): Promise<unknown> {
    const file = join(this.modelDir, PROBE_SET_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new SyntaxError(`${file} is not JSON: ${(error as Error).message}`);
    }
  }
}
