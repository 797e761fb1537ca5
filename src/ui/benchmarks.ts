/**
 * The site's benchmarks: one IndexedDB store and one scheduler for the page's lifetime. The
 * scheduler watches the pipeline through a relay, so when the "Remote models" panel rebuilds the
 * pipeline the relay switches to the new one: the request count carries on, a running round is
 * not interrupted, and rounds still never overlap.
 */
import { exportJsonl, parseJsonl } from '../bench/jsonl';
import type { BenchmarkPipeline, BenchmarkRound } from '../bench/round';
import { BenchmarkScheduler } from '../bench/scheduler';
import { BenchmarkStore } from '../bench/store';
import { InvalidInputError } from '../core/errors';
import type { IntentPipeline, PipelineStats } from '../pipeline/pipeline';
import type { BankingIntentAutomation, RunBenchmarkOptions } from './automation';

/**
 * The current pipeline, as the scheduler sees it. Its `request` events and `getStats()` count the
 * requests of every pipeline it has been attached to, so "every 50 requests" spans a rebuild.
 */
export class PipelineRelay extends EventTarget implements BenchmarkPipeline {
  private pipeline: IntentPipeline;
  /** Stats of the pipelines attached before the current one. */
  private earlier: PipelineStats;
  private readonly forward = () => this.dispatchEvent(new CustomEvent('request', { detail: this.getStats().requests }));

  constructor(pipeline: IntentPipeline) {
    super();
    this.pipeline = pipeline;
    // Every counter at 0, whichever counters the pipeline keeps.
    this.earlier = Object.fromEntries(Object.keys(pipeline.getStats()).map((key) => [key, 0])) as unknown as PipelineStats;
    pipeline.addEventListener('request', this.forward);
  }

  /** From now on, relays `pipeline`. Requests still in flight on the old one are no longer counted. */
  attach(pipeline: IntentPipeline): void {
    if (pipeline === this.pipeline) return;
    this.pipeline.removeEventListener('request', this.forward);
    this.earlier = this.getStats();
    this.pipeline = pipeline;
    pipeline.addEventListener('request', this.forward);
  }

  get available(): string[] {
    return this.pipeline.available;
  }

  get inFlight(): number {
    return this.pipeline.inFlight;
  }

  get policy(): IntentPipeline['policy'] {
    return this.pipeline.policy;
  }

  adapter(id: string): ReturnType<IntentPipeline['adapter']> {
    return this.pipeline.adapter(id);
  }

  coolingDown(id: string): number {
    return this.pipeline.coolingDown(id);
  }

  getStats(): PipelineStats {
    const now = this.pipeline.getStats();
    const sum = { ...now };
    for (const key of Object.keys(sum) as (keyof PipelineStats)[]) sum[key] += this.earlier[key];
    return sum;
  }
}

export class SiteBenchmarks {
  readonly relay: PipelineRelay;
  readonly scheduler: BenchmarkScheduler;
  /** Opens while the page starts; the scheduler counts requests meanwhile. */
  readonly store: Promise<BenchmarkStore>;

  constructor(pipeline: IntentPipeline, every: number) {
    this.relay = new PipelineRelay(pipeline);
    const store = BenchmarkStore.open();
    this.store = store;
    this.scheduler = new BenchmarkScheduler({
      pipeline: this.relay,
      store: { append: async (round) => (await store).append(round) },
      every,
    });
  }

  /** Benchmarks `pipeline` from now on (the settings panel made a new one). */
  attach(pipeline: IntentPipeline): void {
    this.relay.attach(pipeline);
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
  automation(ready: Promise<void>): BankingIntentAutomation {
    return {
      ready,
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
