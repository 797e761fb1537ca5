/**
 * An adapter whose code is fetched on first use. The remote adapters pull in @google/genai and
 * friends, and llama-qlora its worker client: a page that only ever uses the custom model should
 * not download them.
 */
import type { AdapterHealth, ClassifyOptions, IntentAdapter, LoadOptions, ModelFacts } from '../core/adapter';
import type { ModelPrediction } from '../core/prediction';

export class LazyAdapter implements IntentAdapter {
  private adapter: Promise<IntentAdapter> | undefined;
  private loaded: IntentAdapter | undefined;

  constructor(
    readonly id: string,
    private readonly create: () => Promise<IntentAdapter>,
  ) {}

  /** The adapter once its code has loaded; undefined before. */
  get current(): IntentAdapter | undefined {
    return this.loaded;
  }

  private get(): Promise<IntentAdapter> {
    this.adapter ??= this.create().then((adapter) => (this.loaded = adapter));
    // A failed import (e.g. offline before the chunk was cached) may succeed on the next try.
    this.adapter.catch(() => (this.adapter = undefined));
    return this.adapter;
  }

  async load(options?: LoadOptions): Promise<void> {
    return (await this.get()).load(options);
  }

  async classify(text: string, options?: ClassifyOptions): Promise<ModelPrediction> {
    return (await this.get()).classify(text, options);
  }

  health(): Promise<AdapterHealth> {
    if (this.loaded) return this.loaded.health();
    // While its code is being fetched the adapter is loading: a model selector says so at once.
    return Promise.resolve({ state: this.adapter ? 'loading' : 'idle' });
  }

  /** The adapter's facts once its code has loaded; none before. */
  facts(): ModelFacts {
    return this.loaded?.facts?.() ?? {};
  }

  async ownProbeSet(): Promise<unknown> {
    const adapter = await this.get();
    return adapter.ownProbeSet ? adapter.ownProbeSet() : undefined;
  }

  async dispose(): Promise<void> {
    await this.loaded?.dispose();
  }
}
