/**
 * The custom model as an adapter in Node: the same engine as the browser worker, on
 * onnxruntime-node, in this process. Used by the command line and by the pipeline's tests.
 */
import type { AdapterHealth, ClassifyOptions, IntentAdapter, LoadOptions } from '../core/adapter';
import { ModelUnavailableError, throwIfAborted } from '../core/errors';
import type { Prediction } from '../core/prediction';
import type { CustomEngine } from '../engine/custom-engine';
import { DEFAULT_MODEL_DIR, loadNodeEngine } from '../engine/node-engine';

export class NodeCustomAdapter implements IntentAdapter {
  readonly id = 'custom';
  private engine: Promise<CustomEngine> | undefined;
  private health_: AdapterHealth = { state: 'idle' };

  constructor(private readonly modelDir = DEFAULT_MODEL_DIR) {}

  async load(options: LoadOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    if (this.health_.state === 'disposed') throw new ModelUnavailableError('The custom model was disposed.', this.id);
    if (!this.engine) {
      this.health_ = { state: 'loading' };
      this.engine = loadNodeEngine(this.modelDir);
      this.engine.then(
        () => (this.health_ = { state: 'ready', device: 'cpu' }),
        (error: Error) => {
          this.health_ = { state: 'unavailable', reason: error.message };
          this.engine = undefined; // the next load() tries again
        },
      );
    }
    await this.engine;
  }

  async classify(text: string, options: ClassifyOptions = {}): Promise<Prediction> {
    throwIfAborted(options.signal);
    await this.load(options);
    const engine = await this.engine!;
    // One model call takes about a millisecond: checking the signal before it is enough.
    throwIfAborted(options.signal);
    return engine.classify(text, options.topK);
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
