/**
 * The llama-qlora model as an adapter in Node: the same engine as the browser worker, on
 * transformers.js with onnxruntime-node on the CPU, in this process. For the command line, eval
 * and tests; the model folder is one with `classifier.json` (see src/engine/llama-engine.ts).
 */
import { readFile } from 'node:fs/promises';
import * as transformers from '@huggingface/transformers';
import type { LoadOptions } from '../core/adapter';
import { LLAMA_MODEL_ID, LlamaEngine, type LlamaDtype } from '../engine/llama-engine';
import { InProcessAdapter } from './in-process-adapter';

const DEFAULT_LLAMA_DIR = 'public/models/llama-qlora';

export interface NodeLlamaAdapterOptions {
  /** The model folder (default `public/models/llama-qlora`). */
  modelDir?: string;
  /** Default q4. */
  dtype?: LlamaDtype;
}

/** The engine itself, for callers that need more than an adapter (eval reads its labels). */
export function loadNodeLlamaEngine(options: NodeLlamaAdapterOptions & Pick<LoadOptions, 'onProgress'> = {}): Promise<LlamaEngine> {
  return LlamaEngine.load({
    transformers,
    modelPath: options.modelDir ?? DEFAULT_LLAMA_DIR,
    device: 'cpu',
    dtype: options.dtype,
    readText: (path) => readFile(path, 'utf8'),
    readBytes: async (path) => new Uint8Array(await readFile(path)),
    onProgress: options.onProgress,
  });
}

export class NodeLlamaAdapter extends InProcessAdapter<LlamaEngine> {
  readonly id = LLAMA_MODEL_ID;

  constructor(private readonly options: NodeLlamaAdapterOptions = {}) {
    super('cpu');
  }

  protected loadEngine(options: LoadOptions): Promise<LlamaEngine> {
    return loadNodeLlamaEngine({ ...this.options, onProgress: options.onProgress });
  }

  protected override engineLabels(engine: LlamaEngine): readonly string[] {
    return engine.spec.labels;
  }
}
