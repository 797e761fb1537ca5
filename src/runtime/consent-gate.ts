/**
 * Consent for remote models: a remote model that is configured (it has a server) but not allowed
 * (src/core/config.ts: the build's env, code, or the user's choice) sits behind a `ConsentGate`.
 */
import type { AdapterHealth, ClassifyOptions, IntentAdapter, LoadOptions, ModelFacts } from '../core/adapter';
import { ModelUnavailableError } from '../core/errors';
import type { ModelPrediction } from '../core/prediction';

/**
 * A remote adapter that exists only once `allowed()` says so: until then it is unavailable, with
 * `reason`, and neither loads (which would contact the server) nor classifies. Made on first use
 * after that, and from then on the adapter itself.
 */
export class ConsentGate implements IntentAdapter {
  private inner: IntentAdapter | undefined;

  constructor(
    readonly id: string,
    private readonly make: () => IntentAdapter,
    private readonly allowed: () => boolean,
    private readonly reason: string,
  ) {}

  load(options?: LoadOptions): Promise<void> {
    const adapter = this.open();
    return adapter ? adapter.load(options) : this.refuse();
  }

  classify(text: string, options?: ClassifyOptions): Promise<ModelPrediction> {
    const adapter = this.open();
    return adapter ? adapter.classify(text, options) : this.refuse();
  }

  health(): Promise<AdapterHealth> {
    if (this.inner) return this.inner.health();
    return Promise.resolve(this.allowed() ? { state: 'idle' } : { state: 'unavailable', reason: this.reason });
  }

  /** The adapter's facts once it exists (allowed and used); none before. */
  facts(): ModelFacts {
    return this.inner?.facts?.() ?? {};
  }

  dispose(): Promise<void> {
    return this.inner?.dispose() ?? Promise.resolve();
  }

  private open(): IntentAdapter | undefined {
    if (!this.inner && this.allowed()) this.inner = this.make();
    return this.inner;
  }

  private refuse(): Promise<never> {
    return Promise.reject(new ModelUnavailableError({ message: this.reason, model: this.id }));
  }
}
