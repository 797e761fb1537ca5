/**
 * The site: a message box, a model selector and a "Remote models" panel over one `IntentPipeline`.
 * The selected model loads as soon as the page opens (the custom model in a worker, by default;
 * llama-qlora in a worker of its own, on transformers.js and WebGPU, its code fetched on first
 * use); switching models needs no reload. A remote adapter is created, and its server contacted,
 * only once it is selected or in the fallback chain, configured and allowed (or a benchmark round
 * probes it): a link cannot send text off the device (src/ui/remote-consent.ts), and the line
 * under the message box says, before anything is sent, every place a message may go.
 * The out-of-scope threshold beside the selector also applies from the next message; an
 * out-of-scope answer shows the bank's words and its link to a person (src/ui/out-of-scope.ts).
 * Every 50 requests (`?bench=N`) a benchmark round runs in the background; the "Benchmarks"
 * section shows and exports the rounds, and `window.bankingIntent` (src/ui/automation.ts) lets
 * programs run them. The service worker registered at the end makes the site (app, onnxruntime
 * runtime, model files) available offline.
 */
import { registerSW } from 'virtual:pwa-register';
import { CustomAdapter } from '../adapters/custom';
import type { LlamaQloraAdapter } from '../adapters/llama-qlora';
import type { IntentAdapter, LoadProgress } from '../core/adapter';
import {
  isRemoteModel,
  REMOTE_MODEL_IDS,
  remoteAllowed,
  remoteConfigured,
  type ConfigOverrides,
  type RemoteModelId,
  type RuntimeConfig,
} from '../core/config';
import { AbortedError, InvalidInputError } from '../core/errors';
import { validateMessage } from '../core/input';
import { IntentPipeline, type AdapterStatus } from '../pipeline/pipeline';
import { LazyAdapter } from '../pipeline/lazy-adapter';
import { createFactories, UnconfiguredAdapter } from '../pipeline/registry';
import { raceAbort } from '../core/abort';
import { SiteBenchmarks } from './benchmarks';
import { LLAMA_RUNTIME_CACHE, LLAMA_RUNTIME_FILES, readRuntimeConfig, readSiteConfig, type SiteConfig } from './config';
import { Dashboard, findDashboardView } from './dashboard';
import { readOosThreshold } from './out-of-scope';
import { ConsentGate, describeDestinations, refusedNotice, remoteTarget } from './remote-consent';
import {
  clearError,
  clearResult,
  deviceName,
  findView,
  hideLoading,
  renderModels,
  renderPrediction,
  setBusy,
  showError,
  showLoading,
  type ModelEntry,
  type View,
} from './render';

const TOP_K = 5;

class Site {
  private config: RuntimeConfig;
  /** One custom adapter for the page's lifetime: rebuilding the pipeline keeps its loaded worker. */
  private custom: CustomAdapter | undefined;
  /** Likewise one llama-qlora adapter (its code loaded on first use). */
  private llama: IntentAdapter | undefined;
  /** Whether the Llama's runtime has been put in the offline cache (once it loaded). */
  private llamaRuntimeKept = false;
  private pipeline!: IntentPipeline;
  /** The benchmark store and scheduler: one for the page, whatever pipeline is current. */
  private readonly benchmarks: SiteBenchmarks;
  /** The adapters the current pipeline has created, by id. */
  private created = new Map<string, IntentAdapter>();
  /** Loads this page started, per adapter, and their latest progress. */
  private readonly loads = new WeakMap<IntentAdapter, Promise<void>>();
  private readonly progress = new WeakMap<IntentAdapter, LoadProgress>();
  private statuses: AdapterStatus[] = [];
  private refreshes = 0;
  /** A new request supersedes the one in flight: its late answer must not replace the new one. */
  private inFlight: AbortController | undefined;
  private readonly onChange = () => void this.refresh();
  /** Remote models the user chose in the Model list: that choice allows them, for this page. */
  private readonly chosen = new Set<string>();
  /** Under the message box: where messages go, and what the address asked for in vain. */
  private readonly notes: MessageNotes;

  constructor(
    private readonly view: View,
    private readonly site: SiteConfig,
    config: RuntimeConfig,
  ) {
    this.config = config;
    this.notes = messageNotes(view);
    this.install(config);
    this.benchmarks = new SiteBenchmarks(this.pipeline, site.benchEvery);
    // A schedule from the address (`?bench=`) must not make the page call a server.
    this.benchmarks.scheduler.setRemoteLimits({ autoRounds: !site.benchFromUrl, ...site.benchRemote });
  }

  /**
   * Loads the selected model, shows the benchmarks and installs `window.bankingIntent`. Resolves
   * once the model has loaded or failed.
   */
  start(): Promise<void> {
    const { view } = this;
    fillSettings(view, this.config);
    // Before the first message can be sent.
    this.showDestinations();
    new Dashboard(findDashboardView(document), this.benchmarks).start();
    // A round may have loaded (or failed to load) an adapter: the selector shows its new state.
    this.benchmarks.scheduler.on('round', () => void this.refresh());
    view.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.classify();
    });
    view.message.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        view.form.requestSubmit();
      }
    });
    view.modelSelect.addEventListener('change', () => this.select(view.modelSelect.value));
    view.oosThreshold.addEventListener('change', () => this.setOosThreshold());
    view.settings.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.applySettings();
    });
    view.settings.form.addEventListener('input', () => {
      view.settings.status.textContent = '';
    });

    void this.refresh();
    const ready = this.load(this.pipeline.active).catch((error: unknown) => {
      if (!(error instanceof AbortedError)) showError(view, error);
    });
    window.bankingIntent = this.benchmarks.automation(ready);
    return ready;
  }

  /** A new pipeline for `config`. The on-device adapters, once made, are shared by every pipeline. */
  private install(config: RuntimeConfig): void {
    const created = new Map<string, IntentAdapter>();
    const makeCustom = () =>
      (this.custom ??= new CustomAdapter({
        modelBaseUrl: this.site.modelBaseUrl,
        ortBaseUrl: this.site.ortBaseUrl,
        preferWebGPU: this.site.device !== 'wasm',
      }));
    const makeLlama = () => (this.llama ??= llamaAdapter(this.site, config.llama.allowWasm));
    const all = createFactories(config, { custom: makeCustom, llama: makeLlama });
    for (const id of REMOTE_MODEL_IDS) {
      // Unconfigured, it cannot send anything and says why; configured, it waits for consent.
      if (!remoteConfigured(config, id)) continue;
      const make = all[id];
      all[id] = () => new ConsentGate(id, make, () => this.allows(config, id), notAllowedReason(config, id));
    }
    const factories = Object.fromEntries(
      Object.entries(all).map(([id, make]) => [
        id,
        () => {
          const adapter = make();
          created.set(id, adapter);
          return adapter;
        },
      ]),
    );
    this.pipeline?.removeEventListener('change', this.onChange);
    this.pipeline = new IntentPipeline({
      factories,
      active: config.model,
      fallback: config.fallback,
      escalateBelow: config.escalateBelow,
      oosThreshold: config.outOfScope.threshold,
      escalateOutOfScope: config.outOfScope.escalate,
    });
    this.created = created;
    this.pipeline.addEventListener('change', this.onChange);
    // Already made on-device adapters are this pipeline's too: status() should say they are ready.
    if (this.custom) this.pipeline.adapter('custom');
    if (this.llama) this.pipeline.adapter(LLAMA_ID);
  }

  /** Whether `config`'s pipeline may send text to the remote model `id`. */
  private allows(config: RuntimeConfig, id: string): boolean {
    return remoteAllowed(config, id) || this.chosen.has(id);
  }

  /** Switches the model for the next message, and starts loading it. Choosing a remote model allows it. */
  private select(id: string): void {
    if (isRemoteModel(id)) this.chosen.add(id);
    this.pipeline.setActive(id);
    this.showDestinations();
    const url = new URL(location.href);
    url.searchParams.set('model', id);
    history.replaceState(history.state, '', url);
    // A failed load shows in the line under the selector; classifying explains it again.
    void this.load(id).catch(() => undefined);
  }

  /**
   * Applies the threshold field from the next message on, and keeps it in the address (so a
   * reload, and the "Remote models" panel's new pipeline, keep it). A bad value changes nothing.
   */
  private setOosThreshold(): void {
    const { view } = this;
    view.oosThresholdError.hidden = true;
    let threshold: number | undefined;
    try {
      if (view.oosThreshold.validity.badInput)
        throw new InvalidInputError('The out-of-scope threshold must be a number between 0 and 1, or empty.');
      threshold = readOosThreshold(view.oosThreshold.value);
    } catch (error) {
      showError(view, error, view.oosThresholdError);
      return;
    }
    this.pipeline.setOosThreshold(threshold);
    this.config.outOfScope.threshold = threshold;
    const url = new URL(location.href);
    if (threshold === undefined) url.searchParams.delete('oos_threshold');
    else url.searchParams.set('oos_threshold', String(threshold));
    history.replaceState(history.state, '', url);
  }

  /** Loads `id` with progress; concurrent calls for one adapter share one load. */
  private load(id: string): Promise<void> {
    const pipeline = this.pipeline;
    const adapter = pipeline.adapter(id);
    const running = this.loads.get(adapter);
    if (running) return running;
    const loading = pipeline
      .load(id, {
        onProgress: (progress) => {
          this.progress.set(adapter, progress);
          this.render();
        },
      })
      .finally(() => {
        this.loads.delete(adapter);
        this.progress.delete(adapter);
        void this.refresh();
      });
    this.loads.set(adapter, loading);
    void this.refresh();
    return loading;
  }

  private async classify(): Promise<void> {
    const { view } = this;
    this.inFlight?.abort(new AbortedError());
    const controller = new AbortController();
    this.inFlight = controller;
    const current = () => this.inFlight === controller;
    clearError(view);
    clearResult(view);
    setBusy(view, true);
    const pipeline = this.pipeline;
    try {
      const text = view.message.value;
      validateMessage(text); // an empty message is refused at once, even while a model loads
      // Wait for a load this page started rather than have the request start its own: a request
      // that is superseded would cancel a load it started, and the loads it shares.
      const loading = this.loads.get(pipeline.adapter(pipeline.active));
      if (loading)
        await raceAbort(
          loading.catch(() => undefined),
          controller.signal,
        );
      const prediction = await pipeline.classify(text, { signal: controller.signal, topK: TOP_K });
      if (current()) renderPrediction(view, prediction, this.site.handoff);
    } catch (error) {
      if (current() && !(error instanceof AbortedError)) showError(view, error);
    } finally {
      if (current()) {
        this.inFlight = undefined;
        setBusy(view, false);
      }
      void this.refresh();
    }
  }

  /** Reads the panel, rebuilds the pipeline with the new servers, and keeps the selected model. */
  private async applySettings(): Promise<void> {
    const { settings } = this.view;
    settings.error.hidden = true;
    settings.status.textContent = '';
    let config: RuntimeConfig;
    try {
      config = readSettings(this.view, this.pipeline.active, this.config.outOfScope.threshold);
    } catch (error) {
      showError(this.view, error, settings.error);
      return;
    }

    this.inFlight?.abort(new AbortedError());
    const retired = [...this.created.values()].filter((adapter) => adapter !== this.custom && adapter !== this.llama);
    this.config = config;
    this.install(config);
    this.benchmarks.attach(this.pipeline);
    // The old remote adapters go, once a benchmark round that may be probing them has ended; the
    // on-device workers stay, loaded.
    void this.benchmarks.scheduler
      .idle()
      .then(() => Promise.all(retired.map((adapter) => adapter.dispose())))
      .catch((error: unknown) => console.warn('Closing the previous remote models failed.', error));
    settings.status.textContent = 'Settings applied.';
    this.showDestinations();
    void this.refresh();
    void this.load(this.pipeline.active).catch(() => undefined);
  }

  /** Asks every adapter for its state, then redraws. Only the latest answer is drawn. */
  private async refresh(): Promise<void> {
    const pipeline = this.pipeline;
    const refresh = ++this.refreshes;
    const statuses = await pipeline.status();
    if (refresh !== this.refreshes || pipeline !== this.pipeline) return;
    this.statuses = statuses;
    this.render();
  }

  private render(): void {
    const { view } = this;
    const active = this.pipeline.active;
    if (!this.llamaRuntimeKept && this.statuses.some((s) => s.id === LLAMA_ID && s.state === 'ready')) {
      this.llamaRuntimeKept = true;
      void keepForOffline(this.site.llamaOrtBaseUrl);
    }
    const destinations = this.showDestinations();
    const entries: ModelEntry[] = this.statuses.map((status) => {
      const adapter = this.created.get(status.id);
      // Only the selected model's sentence is shown: where the next message may go, all of it.
      const privacy = status.id === active ? destinations : this.privacy(status.id);
      return { status, progress: adapter && this.progress.get(adapter), privacy };
    });
    renderModels(view, entries, active);

    const entry = entries.find((e) => e.status.id === active);
    const status = entry?.status;
    if (status?.state === 'loading') showLoading(view, entry?.progress ?? { stage: 'starting', loaded: 0, total: 0 });
    else hideLoading(view);
    view.modelStatus.textContent = footerText(active, status);
    view.modelStatus.title = this.placementNote(active) ?? '';
  }

  /** Why an on-device model does not run where it was asked to (e.g. WASM for want of WebGPU). */
  private placementNote(id: string): string | undefined {
    if (id === 'custom') return this.custom?.webgpuSkipped;
    if (id === LLAMA_ID && this.llama instanceof LazyAdapter) return (this.llama.current as LlamaQloraAdapter | undefined)?.placementNote;
    return undefined;
  }

  /** Where one model's messages go, in one sentence (for a model that is not the selected one). */
  private privacy(id: string): string {
    if (!isRemoteModel(id)) return 'Messages stay in this page.';
    return remoteConfigured(this.config, id)
      ? `Messages go to ${remoteTarget(this.config, id)}; personal data is masked first.`
      : 'Set its server under "Remote models" below.';
  }

  /**
   * Says under the message box where the next message may go (fallback and cascade included) and
   * what the address asked for that this page does not allow; returns the first sentence.
   */
  private showDestinations(): string {
    const allowed = (id: string) => this.allows(this.config, id);
    const destinations = describeDestinations(this.config, this.pipeline.active, allowed);
    const { line, notice } = this.notes;
    line.textContent = destinations.text;
    line.dataset.remote = String(destinations.remote);
    // Plain while messages stay here; a visible box once any may leave.
    line.className = destinations.remote ? 'warning message-destinations' : 'hint message-destinations';
    const refused = refusedNotice(this.config, allowed);
    notice.textContent = refused ?? '';
    notice.hidden = refused === undefined;
    return destinations.text;
  }
}

const LLAMA_ID = 'llama-qlora';

/**
 * The fine-tuned Llama for this page: its worker client is fetched on first use. It needs WebGPU;
 * where `?device=wasm` keeps the page off WebGPU it runs only if WASM is allowed (`?llama_wasm=1`).
 * Without a WebGPU adapter the worker itself reports it unavailable, with the reason.
 */
function llamaAdapter(site: SiteConfig, allowWasm: boolean): IntentAdapter {
  if (site.device === 'wasm' && !allowWasm) {
    return new UnconfiguredAdapter(
      LLAMA_ID,
      'The llama-qlora model needs WebGPU, and ?device=wasm keeps this page off it. Add llama_wasm=1 to the address to run it on WebAssembly (slowly), or choose another model.',
    );
  }
  return new LazyAdapter(LLAMA_ID, async () => {
    const { LlamaQloraAdapter } = await import('../adapters/llama-qlora');
    return new LlamaQloraAdapter({
      modelBaseUrl: site.llamaBaseUrl,
      wasmBaseUrl: site.llamaOrtBaseUrl,
      device: site.device === 'wasm' ? 'wasm' : 'webgpu',
      allowWasm,
    });
  });
}

/**
 * Puts the Llama's runtime in the service worker's cache for it. Its route caches the files as
 * they pass, but the first load may come before the service worker controls the page (it is
 * registered after the first model load): without this, the Llama would not work offline.
 */
async function keepForOffline(base: string): Promise<void> {
  if (!('caches' in window)) return;
  try {
    const cache = await caches.open(LLAMA_RUNTIME_CACHE);
    await cache.addAll(LLAMA_RUNTIME_FILES.map((file) => new URL(file, base).href));
  } catch (error) {
    console.warn('The llama-qlora runtime could not be kept for offline use.', error);
  }
}

function footerText(id: string, status: AdapterStatus | undefined): string {
  switch (status?.state) {
    case 'ready':
      return status.device ? `Model ready: ${id} on ${deviceName(status.device)}.` : `Model ready: ${id}.`;
    case 'loading':
      return 'Loading the model…';
    case 'unavailable':
      return `The ${id} model could not be loaded.`;
    default:
      return 'Model not loaded yet.';
  }
}

interface MessageNotes {
  /** Where messages go: `Messages stay in this page.`, or every server they may reach. */
  line: HTMLElement;
  /** What the page's address asked for and did not get. */
  notice: HTMLElement;
}

/** The two lines under the message box, where the customer reads them before sending. */
function messageNotes(view: View): MessageNotes {
  const notice = document.createElement('p');
  notice.id = 'address-notice';
  notice.className = 'warning';
  notice.setAttribute('role', 'alert');
  notice.hidden = true;
  const line = document.createElement('p');
  line.id = 'message-destinations';
  line.className = 'hint message-destinations';
  line.setAttribute('role', 'status');
  view.message.after(notice, line);
  const described = view.message.getAttribute('aria-describedby');
  view.message.setAttribute('aria-describedby', [described, line.id].filter(Boolean).join(' '));
  return { line, notice };
}

/** Why a configured remote model that is not allowed does not answer (the selector's tooltip, a benchmark record). */
function notAllowedReason(config: RuntimeConfig, id: RemoteModelId): string {
  return `Not in use: this page sends messages to ${remoteTarget(config, id)} only once you choose ${id} in the Model list or under "Remote models".`;
}

/** Shows the settings that apply now. The API key field keeps whatever the user typed. */
function fillSettings(view: View, config: RuntimeConfig): void {
  const { settings } = view;
  settings.vllmUrl.value = config.vllm.url ?? '';
  settings.vllmModel.value = config.vllm.model ?? '';
  settings.geminiBaseUrl.value = config.gemini.baseUrl ?? '';
  settings.fallback.value = config.fallback.join(', ');
  settings.escalate.value = config.escalateBelow === undefined ? '' : String(config.escalateBelow);
  settings.oosEscalate.checked = config.outOfScope.escalate;
  view.oosThreshold.value = config.outOfScope.threshold === undefined ? '' : String(config.outOfScope.threshold);
}

/**
 * The runtime config with the panel's values on top, and the model and out-of-scope threshold
 * that apply now. The panel shows what applies, so an emptied field means "none" rather than "the
 * build's default". The API key goes only into the config, in memory: never into storage or the address.
 */
function readSettings(view: View, model: string, oosThreshold: number | undefined): RuntimeConfig {
  const { settings } = view;
  const value = (input: HTMLInputElement) => input.value.trim() || undefined;
  if (settings.escalate.validity.badInput) throw new InvalidInputError('Escalate below must be a number between 0 and 1, or empty.');
  const escalate = value(settings.escalate);
  const overrides: ConfigOverrides = {
    model,
    fallback: settings.fallback.value
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean),
    escalateBelow: escalate === undefined ? undefined : Number(escalate),
    vllm: { url: value(settings.vllmUrl), model: value(settings.vllmModel) },
    gemini: { baseUrl: value(settings.geminiBaseUrl), apiKey: value(settings.geminiApiKey) },
    outOfScope: { threshold: oosThreshold, escalate: settings.oosEscalate.checked },
    // Applying the panel with a server in it is the user's choice to use that server.
    allowRemote: [
      ...(value(settings.vllmUrl) ? ['vllm'] : []),
      ...(value(settings.geminiBaseUrl) || value(settings.geminiApiKey) ? ['gemini'] : []),
    ],
  };
  const config = readRuntimeConfig(location.href, overrides);
  // Everything that routes a message now comes from the panel the user applied, not the address.
  config.remote.fromUrl = [];
  config.remote.refused = [];
  if (overrides.vllm?.url === undefined) delete config.vllm.url;
  if (overrides.vllm?.model === undefined) delete config.vllm.model;
  if (overrides.gemini?.baseUrl === undefined) delete config.gemini.baseUrl;
  if (overrides.escalateBelow === undefined) delete config.escalateBelow;
  // Empty is the model's own threshold, whatever the build's env says.
  if (oosThreshold === undefined) delete config.outOfScope.threshold;
  return config;
}

function registerOffline(view: View): void {
  if (!('serviceWorker' in navigator)) return;
  // A page served by the service worker is already offline-capable; the first visit is told below.
  if (navigator.serviceWorker.controller) view.offlineStatus.textContent = 'Available offline.';
  registerSW({
    immediate: true,
    onOfflineReady() {
      view.offlineStatus.textContent = 'Available offline.';
    },
    onRegisterError(error: unknown) {
      console.warn('Service worker registration failed; the site will not work offline.', error);
    },
  });
}

function main(view: View): void {
  let site: SiteConfig;
  let config: RuntimeConfig;
  try {
    site = readSiteConfig(location.href);
    config = readRuntimeConfig(location.href);
  } catch (error) {
    // A bad address (unknown ?device or ?model, ?models on another site): say so, load nothing.
    showError(view, error);
    view.button.disabled = true;
    view.modelSelect.disabled = true;
    view.oosThreshold.disabled = true;
    view.settings.apply.disabled = true;
    view.modelStatus.textContent = 'Model not loaded.';
    registerOffline(view);
    return;
  }
  // The service worker's install downloads the same ~28 MB as the model load, bypassing the HTTP
  // cache: registering it afterwards keeps the first visit's first answer fast.
  void new Site(view, site, config).start().finally(() => registerOffline(view));
}

main(findView(document));
