/**
 * The site's benchmarks: one IndexedDB store for the page's lifetime, and the runtime's scheduler
 * (src/runtime/intent-runtime.ts), which appends every finished round to it.
 */
import { exportJsonl, parseJsonl } from '../bench/jsonl';
import type { BenchmarkRound } from '../bench/round';
import type { BenchmarkScheduler } from '../bench/scheduler';
import type { BenchmarkStore, RoundStore } from '../bench/store';
import { InvalidInputError } from '../core/errors';
import type { IntentRuntime } from '../runtime/intent-runtime';
import type { BankingIntentAutomation, RunBenchmarkOptions } from './automation';

export class SiteBenchmarks {
  constructor(
    /** Opens while the page starts; rounds finished meanwhile wait for it. */
    readonly store: Promise<BenchmarkStore>,
    readonly scheduler: BenchmarkScheduler,
    /** Fires `request` after each answered or failed request (the runtime's pipeline). */
    readonly requests: EventTarget,
  ) {}

  /** Where a runtime's scheduler appends rounds: the store, once open. */
  static sink(store: Promise<BenchmarkStore>): RoundStore {
    return { append: async (round) => (await store).append(round) };
  }

  async rounds(): Promise<BenchmarkRound[]> {
    return (await this.store).list();
  }

  async exportJsonl(): Promise<string> {
    return exportJsonl(await this.rounds());
  }

  /**
   * Adds the rounds of a JSONL text that are not stored yet. Throws `JsonlParseError` (with every
   * bad line) and imports nothing when any line is not a round.
   */
  async importJsonl(text: string): Promise<{ read: number; added: number }> {
    const rounds = parseJsonl(text);
    const added = await (await this.store).importRounds(rounds);
    return { read: rounds.length, added };
  }

  /** The `window.bankingIntent` object; `ready` is the active model's first load. */
  automation(ready: Promise<void>, runtime: IntentRuntime): BankingIntentAutomation {
    return {
      ready,
      classify: (text, options) => runtime.classify(text, options),
      runBenchmark: (options: RunBenchmarkOptions = {}) => {
        const trigger = options.trigger ?? 'cli';
        if (trigger !== 'cli' && trigger !== 'manual') {
          return Promise.reject(new InvalidInputError(`trigger must be "cli" or "manual", not "${String(trigger)}".`));
        }
        if (options.models !== undefined && !(Array.isArray(options.models) && options.models.every((id) => typeof id === 'string'))) {
          return Promise.reject(new InvalidInputError('models must be a list of model ids, e.g. ["custom"].'));
        }
        return this.scheduler.runNow(trigger, { models: options.models });
      },
      rounds: () => this.rounds(),
      exportJsonl: () => this.exportJsonl(),
      on: (type, listener) => this.scheduler.on(type, listener),
    };
  }
}
