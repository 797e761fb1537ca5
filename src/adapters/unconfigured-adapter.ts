import type { AdapterHealth, IntentAdapter } from '../core/adapter';
import { ModelUnavailableError } from '../core/errors';
import type { ModelPrediction } from '../core/prediction';

/** A model that lacks the settings it needs, or cannot run in this host: it says why, and never answers. */
export class UnconfiguredAdapter implements IntentAdapter {
  constructor(
    readonly id: string,
    private readonly reason: string,
  ) {}

  load(): Promise<void> {
    return Promise.reject(new ModelUnavailableError({ message: this.reason, model: this.id }));
  }

  classify(): Promise<ModelPrediction> {
    return this.load() as Promise<never>;
  }

  health(): Promise<AdapterHealth> {
    return Promise.resolve({ state: 'unavailable', reason: this.reason });
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}
