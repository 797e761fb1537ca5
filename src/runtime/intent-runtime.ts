/**
 * The runtime: the one long-lived object that owns the adapters, the pipeline that routes between
 * them, and the benchmark scheduler. The site, the widget, the command line and a bank's own app
 * each build exactly one, with `createIntentRuntime`, and change it at run time with `configure`.
 *
 *   const runtime = createIntentRuntime({ model: 'custom', fallback: 'vllm' }, hosts);
 *   await runtime.load(undefined, { onProgress: (p) => console.log(p.status, p.file, p.progress) });
 *   const prediction = await runtime.classify('I still have not received my new card');
 *   runtime.configure({ vllm: { url: 'https://vllm.bank.internal', model: 'intents' } });
 *
 * Which adapters exist and how the on-device ones are made (a Web Worker in a browser, the engine
 * in process in Node) is the host's business, passed in as `RuntimeHosts`: the package's entry
 * points (./browser.ts, ./node.ts) pass theirs. `configure` replaces only the adapters whose
 * settings changed (a new vLLM URL makes a new vLLM adapter; the on-device model stays loaded)
 * and disposes the old ones once no request or benchmark round may still use them.
 */
import type { AdapterHealth, IntentAdapter, LoadProgress } from '../core/adapter';
import { ModelUnavailableError } from '../core/errors';
import { mergeConfig, remoteAllowed, remoteConfigured, resolveConfig, REMOTE_MODEL_IDS } from '../core/config';
import type { ConfigOverrides, RemoteModelId, RuntimeConfig } from '../core/config';
import type { Prediction } from '../core/prediction';
import type { BenchmarkRound } from '../bench/round';
import { BenchmarkScheduler, type RemoteRoundLimits, type RunNowOptions } from '../bench/scheduler';
import type { RoundStore } from '../bench/store';
import { IntentPipeline, type AdapterStatus, type PipelineStats } from '../pipeline/pipeline';
import type { RouterPolicy } from '../core/config';
import { createFactories, type HostMakers } from './adapter-factories';
import { ConsentGate } from './consent-gate';

/** How a host makes the models that run on the device (see `HostMakers`). */
export type RuntimeHosts = HostMakers;

/**
 * Load progress, in the shape transformers.js users know (`progress_callback`): `status` is
 * `progress` while loading and `ready` once loaded; `file` names what is loading (a file, all of
 * them together as in `downloading the model and its runtime`, or a step such as `creating
 * session`); `progress` is 0-100, or 0 while the total is unknown. In a browser the custom model
 * counts every byte its first answer waits for, the onnxruntime-web runtime included, against a
 * total known from the first report; `progress` reaches 100 only with the last byte.
 */
export interface RuntimeProgress {
  status: 'progress' | 'ready';
  /** The model id, e.g. `custom`. */
  name: string;
  file: string;
  loaded: number;
  /** Total bytes, 0 when not known in advance. */
  total: number;
  progress: number;
  /** True when the bytes come from this device's cache, not the network: no download. */
  cached?: boolean;
}

export interface RuntimeLoadOptions {
  signal?: AbortSignal;
  onProgress?: (progress: RuntimeProgress) => void;
}

export interface RuntimeClassifyOptions {
  signal?: AbortSignal;
  /** How many labels `top` holds (default 5). */
  topK?: number;
}

export interface RuntimeBenchmarkOptions {
  /** A round every this many answered requests; 0 (the default here) turns automatic rounds off. */
  every?: number;
  /** Where finished rounds go (the site: IndexedDB). Default: kept by the scheduler's events only. */
  store?: RoundStore;
  /** Limits for probing remote models (see `RemoteRoundLimits`). */
  remote?: Partial<RemoteRoundLimits>;
}

/** What `createIntentRuntime` takes: the settings of src/core/config.ts, and how the runtime behaves. */
export interface RuntimeOptions extends ConfigOverrides {
  /**
   * A config already resolved (the site reads one from its address with `readRuntimeConfig`); the
   * other fields apply on top of it. Default: the built-in defaults.
   */
  base?: RuntimeConfig;
  /** Retries, timeouts and the circuit breaker (src/pipeline/policy.ts); defaults there. */
  policy?: Partial<RouterPolicy>;
  /** Automatic benchmark rounds; off unless `every` is set. */
  benchmark?: RuntimeBenchmarkOptions;
  /**
   * Why a configured remote model that is not allowed does not answer (shown in `status()`).
   * Default: a sentence naming `allowRemote`.
   */
  consentReason?: (id: RemoteModelId, config: RuntimeConfig) => string;
}

/** One adapter's state, with its load progress while it loads. */
export interface RuntimeStatus extends AdapterStatus {
  progress?: RuntimeProgress;
}

export interface IntentRuntimeEvents {
  /** The settings, or an adapter's state, may have changed: redraw. */
  change: undefined;
  /** An adapter reported load progress. */
  progress: RuntimeProgress;
}

/**
 * Makes the runtime. Nothing loads until `load()` or the first `classify()`; a bad setting throws
 * `InvalidInputError` naming it.
 */
export function createIntentRuntime(options: RuntimeOptions, hosts: RuntimeHosts): IntentRuntime {
  const { base, policy, benchmark, consentReason, ...overrides } = options;
  const config = base ? mergeConfig(base, overrides) : resolveConfig({ overrides });
  return new IntentRuntime(config, hosts, { policy, benchmark, consentReason });
}

export class IntentRuntime extends EventTarget {
  /** Routes every request; exposed for benchmarks and tests. Change it through `configure`. */
  readonly pipeline: IntentPipeline;
  /** Benchmark rounds: every `benchmark.every` requests, or on demand with `benchmark()`. */
  readonly benchmarks: BenchmarkScheduler;
  private configValue: RuntimeConfig;
  /** Per adapter id, the settings it was made with: a change makes a new adapter. */
  private keys: Record<string, string>;
  private readonly progress = new Map<string, RuntimeProgress>();
  private disposed = false;

  constructor(
    config: RuntimeConfig,
    private readonly hosts: RuntimeHosts,
    private readonly options: Pick<RuntimeOptions, 'policy' | 'benchmark' | 'consentReason'> = {},
  ) {
    super();
    this.configValue = config;
    this.keys = adapterKeys(config);
    this.pipeline = new IntentPipeline({
      factories: this.factories(config),
      active: config.model,
      fallback: config.fallback,
      escalateBelow: config.escalateBelow,
      oosThreshold: config.outOfScope.threshold,
      escalateOutOfScope: config.outOfScope.escalate,
      policy: options.policy,
    });
    this.pipeline.addEventListener('change', () => this.emit('change', undefined));
    this.benchmarks = new BenchmarkScheduler({
      pipeline: this.pipeline,
      store: options.benchmark?.store,
      every: options.benchmark?.every ?? 0,
      remote: options.benchmark?.remote,
    });
  }

  /** The settings that apply now (a copy). */
  get config(): RuntimeConfig {
    return structuredClone(this.configValue);
  }

  /** The model asked first. */
  get active(): string {
    return this.pipeline.active;
  }

  /**
   * Changes settings from the next request on, without a reload: `{ model: 'gemini' }`,
   * `{ fallback: 'vllm, custom' }`, `{ vllm: { url, model } }`... (merged key by key; see
   * `mergeConfig`). Adapters whose settings changed are made anew on next use, and the old ones
   * disposed once requests and benchmark rounds in flight are done; the others, the on-device
   * model among them, stay loaded. A bad value throws `InvalidInputError` and changes nothing.
   */
  configure(changes: ConfigOverrides): RuntimeConfig {
    this.checkAlive();
    const next = mergeConfig(this.configValue, changes);
    const keys = adapterKeys(next);
    const factories = this.factories(next);
    const retired: IntentAdapter[] = [];
    this.configValue = next;
    for (const id of Object.keys(keys)) {
      if (keys[id] === this.keys[id]) continue;
      const old = this.pipeline.replace(id, factories[id]!);
      if (old) retired.push(old);
      this.progress.delete(id);
    }
    this.keys = keys;
    this.pipeline.configure({
      active: next.model,
      fallback: next.fallback,
      escalateBelow: next.escalateBelow,
      oosThreshold: next.outOfScope.threshold,
      escalateOutOfScope: next.outOfScope.escalate,
    });
    if (retired.length > 0) void this.retire(retired);
    return this.config;
  }

  /**
   * Classifies one message with the active model, falling back along the chain. Rejects with an
   * `IntentError`: `InvalidInputError` for an empty or oversized message (no model is called),
   * `AllAdaptersFailedError` (every attempt, with its reason) when no model answered,
   * `AbortedError` when `signal` fired.
   */
  classify(text: string, options: RuntimeClassifyOptions = {}): Promise<Prediction> {
    this.checkAlive();
    return this.pipeline.classify(text, options);
  }

  /**
   * Loads one model ahead of time (default: the active one), reporting progress. Concurrent
   * loads of one model share one; aborting `signal` stops this call's wait (and the load, when
   * no other call waits for it).
   */
  async load(id: string = this.active, options: RuntimeLoadOptions = {}): Promise<void> {
    this.checkAlive();
    const adapter = this.pipeline.adapter(id);
    try {
      await this.pipeline.load(id, {
        signal: options.signal,
        onProgress: (stage) => {
          // A report from an adapter that `configure` has since replaced is not this model's.
          if (this.pipeline.adapter(id) !== adapter) return;
          const progress = toRuntimeProgress(id, stage);
          this.progress.set(id, progress);
          options.onProgress?.(progress);
          this.emit('progress', progress);
        },
      });
      options.onProgress?.({ status: 'ready', name: id, file: '', loaded: 0, total: 0, progress: 100 });
    } finally {
      this.progress.delete(id);
      this.emit('change', undefined);
    }
  }

  /** Every model's state, in the model selector's order: ready (and where), loading (with progress), unavailable (with why), cooling down. */
  async status(): Promise<RuntimeStatus[]> {
    const statuses = await this.pipeline.status();
    return statuses.map((status) => {
      const progress = status.state === 'loading' ? this.progress.get(status.id) : undefined;
      return progress ? { ...status, progress } : status;
    });
  }

  /** The health of one model (creating its adapter, which loads nothing). */
  health(id: string): Promise<AdapterHealth> {
    return this.pipeline.adapter(id).health();
  }

  /** Counters since the runtime was made: requests, answers, fallbacks, escalations, out-of-scope answers. */
  stats(): PipelineStats {
    return this.pipeline.getStats();
  }

  /** Runs a benchmark round now (after a running one) over every model, or `models`; resolves with its record. */
  benchmark(options: RunNowOptions & { trigger?: 'cli' | 'manual' } = {}): Promise<BenchmarkRound> {
    this.checkAlive();
    return this.benchmarks.runNow(options.trigger ?? 'manual', { models: options.models });
  }

  /** Adds a typed listener; returns a function that removes it. */
  on<K extends keyof IntentRuntimeEvents>(type: K, listener: (detail: IntentRuntimeEvents[K]) => void): () => void {
    const handler = (event: Event) => listener((event as CustomEvent<IntentRuntimeEvents[K]>).detail);
    this.addEventListener(type, handler);
    return () => this.removeEventListener(type, handler);
  }

  /** Stops benchmark rounds and frees every model (workers, sessions, GPU memory). The runtime cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.benchmarks.dispose();
    await this.pipeline.dispose();
  }

  /** The adapter makers for `config`: remote models that are configured but not allowed sit behind a consent gate. */
  private factories(config: RuntimeConfig): Record<string, () => IntentAdapter> {
    const all: Record<string, () => IntentAdapter> = createFactories(config, this.hosts);
    for (const id of REMOTE_MODEL_IDS) {
      // Unconfigured, it cannot send anything and says why; configured, it waits for consent,
      // read at each call from the settings that apply then.
      if (!remoteConfigured(config, id)) continue;
      const make = all[id]!;
      const reason = this.options.consentReason?.(id, config) ?? defaultConsentReason(id);
      all[id] = () => new ConsentGate(id, make, () => remoteAllowed(this.configValue, id), reason);
    }
    return all;
  }

  /** Disposes replaced adapters once nothing may still be using them. */
  private async retire(adapters: IntentAdapter[]): Promise<void> {
    try {
      await Promise.all([this.pipeline.settled(), this.benchmarks.idle()]);
      await Promise.all(adapters.map((adapter) => adapter.dispose()));
    } catch (error) {
      console.warn('Closing a replaced model failed.', error);
    }
  }

  private emit<K extends keyof IntentRuntimeEvents>(type: K, detail: IntentRuntimeEvents[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  private checkAlive(): void {
    if (this.disposed) throw new RuntimeDisposedError();
  }
}

/** Thrown by every method of a runtime after `dispose()`. */
class RuntimeDisposedError extends ModelUnavailableError {
  constructor() {
    super({ message: 'This runtime was disposed: create a new one with createIntentRuntime().', model: 'runtime' });
  }
}

/** The settings each adapter is made from; the custom model's come from its host only. */
function adapterKeys(config: RuntimeConfig): Record<string, string> {
  return {
    custom: '',
    'llama-qlora': JSON.stringify(config.llama),
    vllm: JSON.stringify(config.vllm),
    gemini: JSON.stringify(config.gemini),
  };
}

function defaultConsentReason(id: RemoteModelId): string {
  return `Not in use: ${id} has a server but may not receive messages. Choose it as the model or fallback, or list it in allowRemote.`;
}

function toRuntimeProgress(name: string, stage: LoadProgress): RuntimeProgress {
  const { loaded, total } = stage;
  return {
    status: 'progress',
    name,
    file: stage.stage,
    loaded,
    total,
    progress: total > 0 ? Math.min(100, (loaded / total) * 100) : 0,
    ...(stage.cached === undefined ? {} : { cached: stage.cached }),
  };
}
