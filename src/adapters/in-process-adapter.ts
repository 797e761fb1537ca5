/**
 * An adapter whose engine runs in this process (Node: the command line, eval, tests). Subclasses
 * say how to load their engine; loading once, health, the input check and dispose live here.
 */
import type { AdapterHealth, ClassifyOptions, IntentAdapter, LoadOptions } from '../core/adapter';
import { throwIfAborted } from '../core/abort';
import { ModelUnavailableError } from '../core/errors';
import { validateMessage } from '../core/input';
import type { Device, ModelPrediction } from '../core/prediction';
import type { ServedEngine } from '../engine/engine-service';

export abstract class InProcessAdapter<Engine extends ServedEngine> implements IntentAdapter {
  abstract readonly id: string;
  private engine: Promise<Engine> | undefined;
  private health_: AdapterHealth = { state: 'idle' };

  constructor(private readonly device: Device) {}

  protected abstract loadEngine(options: LoadOptions): Promise<Engine>;

  async load(options: LoadOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    if (this.health_.state === 'disposed') throw this.disposedError();
    if (!this.engine) {
      this.health_ = { state: 'loading' };
      this.engine = this.loadEngine(options);
      this.engine.then(
        () => {
          if (this.health_.state === 'loading') this.health_ = { state: 'ready', device: this.device };
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

  async classify(text: string, options: ClassifyOptions = {}): Promise<ModelPrediction> {
    throwIfAborted(options.signal);
    // Checked before loading: an empty message never costs a model load or call.
    const message = validateMessage(text);
    await this.load(options);
    const engine = await this.engine;
    if (!engine) throw this.disposedError();
    // One model call is short: checking the signal just before it is enough.
    throwIfAborted(options.signal);
    return engine.classify(message, { topK: options.topK, oosThreshold: options.oosThreshold });
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

  private disposedError(): ModelUnavailableError {
    return new ModelUnavailableError({ message: `The ${this.id} model was disposed.`, model: this.id });
  }
}
