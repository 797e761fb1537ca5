/**
 * An adapter whose engine runs in this process (Node: the command line, eval, tests). It has the
 * same life as the browser's worker adapters (AdapterLifecycle: one shared load, cancel, retry
 * after a failure, dispose), with the engine called directly instead of through a worker.
 * Subclasses say how to load their engine and which labels it answers.
 */
import type { ClassifyOptions, LoadOptions } from '../core/adapter';
import { abortReason, throwIfAborted } from '../core/abort';
import type { Device, ModelPrediction } from '../core/prediction';
import type { ServedEngine } from '../engine/engine-service';
import { AdapterLifecycle } from './adapter-lifecycle';

export abstract class InProcessAdapter<Engine extends ServedEngine> extends AdapterLifecycle {
  private engine: Engine | undefined;

  constructor(private readonly engineDevice: Device) {
    super();
  }

  protected abstract loadEngine(options: LoadOptions): Promise<Engine>;

  /** The labels a loaded engine answers; undefined unless the subclass says. */
  protected engineLabels(_engine: Engine): readonly string[] | undefined {
    return undefined;
  }

  protected async runLoad(signal: AbortSignal): Promise<Device> {
    const engine = await this.loadEngine({ signal, onProgress: (progress) => this.progress(progress) });
    if (signal.aborted) {
      // Cancelled or disposed while it loaded: nobody will use it.
      await engine.dispose();
      throw abortReason(signal);
    }
    this.engine = engine;
    return this.engineDevice;
  }

  async classify(text: string, options: ClassifyOptions = {}): Promise<ModelPrediction> {
    throwIfAborted(options.signal);
    await this.whenLoaded(options.signal);
    const engine = this.engine;
    if (!engine) throw this.disposedError();
    // One model call is short: checking the signal just before it is enough.
    throwIfAborted(options.signal);
    return engine.classify(text, { topK: options.topK, oosThreshold: options.oosThreshold });
  }

  protected override modelLabels(): readonly string[] | undefined {
    return this.engine && this.engineLabels(this.engine);
  }

  override async dispose(): Promise<void> {
    await super.dispose();
    const engine = this.engine;
    this.engine = undefined;
    await engine?.dispose();
  }
}
