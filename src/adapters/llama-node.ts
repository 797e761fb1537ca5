/**
 * The llama-qlora model as an adapter in Node: the same engine as the browser worker, on
 * transformers.js with onnxruntime-node on the CPU, in this process. For the command line, eval
 * and tests; the model folder is one with `classifier.json` (see src/engine/llama-engine.ts).
 */
import { readFile } from 'node:fs/promises';
import * as transformers from '@huggingface/transformers';
import type { AdapterHealth, ClassifyOptions, IntentAdapter, LoadOptions } from '../core/adapter';
import { ModelUnavailableError, throwIfAborted } from '../core/errors';
import { validateMessage } from '../core/input';
import type { Prediction } from '../core/prediction';
import { LLAMA_MODEL_ID, LlamaEngine, type LlamaDtype } from '../engine/llama-engine';

export const DEFAULT_LLAMA_DIR = 'public/models/llama-qlora';

export interface NodeLlamaAdapterOptions {
  /** The model folder (default `public/models/llama-qlora`). */
  modelDir?: string;
  /** Default q4. */
  dtype?: LlamaDtype;
}

export class NodeLlamaAdapter implements IntentAdapter {
  readonly id = LLAMA_MODEL_ID;
  private engine: Promise<LlamaEngine> | undefined;
  private health_: AdapterHealth = { state: 'idle' };

  constructor(private readonly options: NodeLlamaAdapterOptions = {}) {}

  async load(options: LoadOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    if (this.health_.state === 'disposed') throw new ModelUnavailableError('The llama-qlora model was disposed.', this.id);
    if (!this.engine) {
      this.health_ = { state: 'loading' };
      this.engine = LlamaEngine.load({
        transformers,
        modelPath: this.options.modelDir ?? DEFAULT_LLAMA_DIR,
        device: 'cpu',
        dtype: this.options.dtype,
        readText: (path) => readFile(path, 'utf8'),
        onProgress: options.onProgress,
      });
      this.engine.then(
        () => {
          if (this.health_.state === 'loading') this.health_ = { state: 'ready', device: 'cpu' };
        },
        (error: Error) => {
          if (this.health_.state !== 'loading') return;
          this.health_ = { state: 'unavailable', reason: error.message };
          this.engine = undefined; // the next load() tries again
        },
      );
    }
    await this.engine;
  }

  async classify(text: string, options: ClassifyOptions = {}): Promise<Prediction> {
    throwIfAborted(options.signal);
    // Checked before loading: an empty message never costs a model load or call.
    const message = validateMessage(text);
    await this.load(options);
    const engine = await this.engine;
    if (!engine) throw new ModelUnavailableError('The llama-qlora model was disposed.', this.id);
    throwIfAborted(options.signal);
    return engine.classify(message, options.topK);
  }

  health(): Promise<AdapterHealth> {
    return Promise.resolve({ ...this.health_ });
  }

  async dispose(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    this.health_ = { state: 'disposed' };
    await (await engine?.catch(() => undefined))?.dispose();
  }
}
