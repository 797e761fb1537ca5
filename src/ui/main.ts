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
import type { CustomAdapter } from '../adapters/custom';
import type { LazyAdapter } from '../adapters/lazy-adapter';
import type { LlamaQloraAdapter } from '../adapters/llama-qlora';
import type { IntentAdapter } from '../core/adapter';
import {
  isRemoteModel,
  remoteAllowed,
  remoteConfigured,
  type ConfigOverrides,
  type RemoteModelId,
  type RuntimeConfig,
} from '../core/config';
import { AbortedError, InvalidInputError } from '../core/errors';
import { validateMessage } from '../core/input';
import { DEFAULT_TOP_K } from '../core/config';
import { browserHosts } from '../runtime/browser-hosts';
import { createIntentRuntime, type IntentRuntime, type RuntimeStatus } from '../runtime/intent-runtime';
import { BenchmarkStore } from '../bench/store';
import { SiteBenchmarks } from './benchmarks';
import { readSiteConfig, readRuntimeConfig, type SiteConfig } from './config';
import { ORT_RUNTIME_FILES } from '../sw/runtime-files';
import { Dashboard, findDashboardView } from './dashboard';
import { readOosThreshold } from './out-of-scope';
import { describeDestinations, refusedNotice, remoteTarget } from './remote-consent';
import { findStorageView, StoragePanel } from './storage-panel';
import {
  clearError,
  clearResult,
  deviceName,
  findView,
  hideLoading,
  renderModels,
  renderPrediction,
  setBusy,
  setMessageInvalid,
  showError,
  showLoading,
  type ModelEntry,
  type View,
} from './render';

const LLAMA_ID = 'llama-qlora';

class Site {
  /** The page's one runtime: settings changes reconfigure it, never rebuild it. */
  private readonly runtime: IntentRuntime;
  /** What the runtime's hosts made, kept for their placement notes (e.g. "WASM: no WebGPU"). */
  private custom: CustomAdapter | undefined;
  private llama: IntentAdapter | undefined;
  /** Whether the Llama's runtime has been put in the offline cache (once it loaded). */
  /** What has been put in the service worker's caches for offline use already (see keepForOffline). */
  private readonly kept = new Set<string>();
  private readonly benchmarks: SiteBenchmarks;
  private statuses: RuntimeStatus[] = [];
  private refreshes = 0;
  /** A new request supersedes the one in flight: its late answer must not replace the new one. */
  private inFlight: AbortController | undefined;
  /** Once the "Remote models" panel is applied, routing comes from it, not from the address. */
  private panelApplied = false;
  /** Under the message box: where messages go, and what the address asked for in vain. */
  private readonly notes: MessageNotes;
  /** The "Storage" panel: what the site keeps in this browser, and the button that clears it. */
  readonly storage: StoragePanel;

  constructor(
    private readonly view: View,
    private readonly site: SiteConfig,
    config: RuntimeConfig,
  ) {
    this.notes = messageNotes(view);
    const hosts = browserHosts({
      modelBaseUrl: site.modelBaseUrl,
      ortBaseUrl: site.ortBaseUrl,
      device: site.device === 'wasm' ? 'wasm' : 'auto',
      llama: { modelBaseUrl: site.llamaBaseUrl, wasmBaseUrl: site.ortBaseUrl },
    });
    const store = BenchmarkStore.open();
    this.runtime = createIntentRuntime(
      {
        base: config,
        benchmark: {
          every: site.benchEvery,
          store: SiteBenchmarks.sink(store),
          // A schedule from the address (`?bench=`) must not make the page call a server.
          remote: { autoRounds: !site.benchFromUrl, ...site.benchRemote },
        },
        consentReason: (id, config) => notAllowedReason(config, id),
      },
      {
        custom: () => (this.custom = hosts.custom() as CustomAdapter),
        llama: (settings) => (this.llama = hosts.llama(settings)),
      },
    );
    this.benchmarks = new SiteBenchmarks(store, this.runtime.benchmarks, this.runtime.pipeline);
    this.storage = new StoragePanel(findStorageView(document), {
      rounds: store,
      scope: new URL(import.meta.env.BASE_URL, location.href).href,
      // Without its caches and service worker the site is no longer ready offline (until the next visit).
      onCleared: () => (view.offlineStatus.textContent = ''),
    });
  }

  /** The settings that apply, as the page describes them (the address's part dropped once the panel is applied). */
  private get config(): RuntimeConfig {
    const config = this.runtime.config;
    if (this.panelApplied) config.remote = { ...config.remote, fromUrl: [], refused: [] };
    return config;
  }

  /**
   * Loads the selected model, shows the benchmarks and installs `window.bankingIntent`. Resolves
   * once the model has loaded or failed.
   */
  start(): Promise<void> {
    const { view, runtime } = this;
    fillSettings(view, this.config);
    // Before the first message can be sent.
    this.showDestinations();
    new Dashboard(findDashboardView(document), this.benchmarks).start();
    this.storage.start();
    runtime.on('change', () => void this.refresh());
    runtime.on('progress', () => void this.refresh());
    view.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.classify();
    });
    view.message.addEventListener('input', () => {
      // The box stays marked invalid only until it holds something the checks accept.
      if (view.message.getAttribute('aria-invalid') !== 'true' || !isValidMessage(view.message.value)) return;
      setMessageInvalid(view, false);
      clearError(view);
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
      this.applySettings();
    });
    view.settings.form.addEventListener('input', () => {
      view.settings.status.textContent = '';
    });

    void this.refresh();
    const ready = runtime.load().catch((error: unknown) => {
      if (!(error instanceof AbortedError)) showError(view, error);
    });
    window.bankingIntent = this.benchmarks.automation(ready, runtime);
    return ready;
  }

  /** Switches the model for the next message, and starts loading it. Choosing a remote model allows it. */
  private select(id: string): void {
    try {
      this.runtime.configure({ model: id, allowRemote: isRemoteModel(id) ? [id] : [] });
    } catch (error) {
      showError(this.view, error);
      return;
    }
    this.showDestinations();
    const url = new URL(location.href);
    url.searchParams.set('model', id);
    history.replaceState(history.state, '', url);
    // A failed load shows in the line under the selector; classifying explains it again.
    void this.runtime.load(id).catch(() => undefined);
  }

  /**
   * Applies the threshold field from the next message on, and keeps it in the address (so a
   * reload keeps it). A bad value changes nothing.
   */
  private setOosThreshold(): void {
    const { view } = this;
    view.oosThresholdError.hidden = true;
    let threshold: number | undefined;
    try {
      if (view.oosThreshold.validity.badInput)
        throw new InvalidInputError('The out-of-scope threshold must be a number between 0 and 1, or empty.');
      threshold = readOosThreshold(view.oosThreshold.value);
      this.runtime.configure({ outOfScope: { threshold } });
    } catch (error) {
      showError(view, error, view.oosThresholdError);
      return;
    }
    const url = new URL(location.href);
    if (threshold === undefined) url.searchParams.delete('oos_threshold');
    else url.searchParams.set('oos_threshold', String(threshold));
    history.replaceState(history.state, '', url);
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
    try {
      // The runtime waits for a load in flight; aborting this request never cancels that load.
      const prediction = await this.runtime.classify(view.message.value, { signal: controller.signal, topK: DEFAULT_TOP_K });
      if (current()) {
        setMessageInvalid(view, false);
        renderPrediction(view, prediction, this.site.handoff);
      }
    } catch (error) {
      if (current() && !(error instanceof AbortedError)) {
        showError(view, error);
        // Only a message the checks refuse is the box's fault: a failed model is not.
        setMessageInvalid(view, InvalidInputError.isInstance(error));
      }
    } finally {
      if (current()) {
        this.inFlight = undefined;
        setBusy(view, false);
      }
      void this.refresh();
    }
  }

  /**
   * Applies the "Remote models" panel to the runtime: only the remote adapters whose servers
   * changed are made anew (the old ones closed once idle); the on-device models stay loaded.
   */
  private applySettings(): void {
    const { settings } = this.view;
    settings.error.hidden = true;
    settings.status.textContent = '';
    try {
      if (settings.escalate.validity.badInput) throw new InvalidInputError('Escalate below must be a number between 0 and 1, or empty.');
      this.runtime.configure(readSettings(this.view));
    } catch (error) {
      showError(this.view, error, settings.error);
      return;
    }
    this.inFlight?.abort(new AbortedError());
    this.panelApplied = true;
    settings.status.textContent = 'Settings applied.';
    this.showDestinations();
    void this.refresh();
    void this.runtime.load().catch(() => undefined);
  }

  /** Asks every adapter for its state, then redraws. Only the latest answer is drawn. */
  private async refresh(): Promise<void> {
    const refresh = ++this.refreshes;
    const statuses = await this.runtime.status();
    if (refresh !== this.refreshes) return;
    this.statuses = statuses;
    this.render();
  }

  private render(): void {
    const { view } = this;
    const active = this.runtime.active;
    for (const s of this.statuses) {
      if (s.state !== 'ready' || (s.id !== 'custom' && s.id !== LLAMA_ID)) continue;
      // transformers.js always loads the WebGPU build; the custom model the one of its device.
      const pair = s.id === LLAMA_ID || s.device === 'webgpu' ? 'webgpu' : 'wasm';
      // The default model's folder is cached at install; the Llama's once it has been used.
      const folder = s.id === LLAMA_ID ? this.site.llamaBaseUrl : undefined;
      const key = `${pair} ${folder ?? ''}`;
      if (this.kept.has(key)) continue;
      this.kept.add(key);
      void keepForOffline(this.site.ortBaseUrl, ORT_RUNTIME_FILES[pair], folder);
    }
    const destinations = this.showDestinations();
    const entries: ModelEntry[] = this.statuses.map((status) => {
      // Only the selected model's sentence is shown: where the next message may go, all of it.
      const privacy = status.id === active ? destinations : this.privacy(status.id);
      const progress = status.progress && {
        stage: status.progress.file,
        loaded: status.progress.loaded,
        total: status.progress.total,
        cached: status.progress.cached,
      };
      return { status, progress, privacy };
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
    if (id === LLAMA_ID) return ((this.llama as LazyAdapter | undefined)?.current as LlamaQloraAdapter | undefined)?.placementNote;
    return undefined;
  }

  /** Where one model's messages go, in one sentence (for a model that is not the selected one). */
  private privacy(id: string): string {
    if (!isRemoteModel(id)) return 'Messages stay in this page.';
    const config = this.config;
    return remoteConfigured(config, id)
      ? `Messages go to ${remoteTarget(config, id)}; personal data is masked first.`
      : 'Set its server under "Remote models" below.';
  }

  /**
   * Says under the message box where the next message may go (fallback and cascade included) and
   * what the address asked for that this page does not allow; returns the first sentence.
   */
  private showDestinations(): string {
    const config = this.config;
    const allowed = (id: string) => remoteAllowed(config, id);
    const destinations = describeDestinations(config, this.runtime.active, allowed);
    const { line, notice } = this.notes;
    line.textContent = destinations.text;
    line.dataset.remote = String(destinations.remote);
    // Plain while messages stay here; a visible box once any may leave.
    line.className = destinations.remote ? 'warning message-destinations' : 'hint message-destinations';
    const refused = refusedNotice(config, allowed);
    notice.textContent = refused ?? '';
    notice.hidden = refused === undefined;
    return destinations.text;
  }
}

/**
 * Asks the service worker to keep the runtime a model used and, for a model not cached at install,
 * its folder (src/sw/sw.ts). Its routes cache files as they pass, but the first load may come
 * before the service worker controls the page (it is registered after the first model load):
 * without this, the model would not work offline. (The files are in the HTTP cache by then:
 * nothing is downloaded twice.)
 */
async function keepForOffline(base: string, files: readonly string[], modelFolder?: string): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  try {
    const registration = await navigator.serviceWorker.ready;
    const runtime = files.filter((file) => file.endsWith('.wasm')).map((file) => new URL(file, base).href);
    registration.active?.postMessage({ type: 'keep', runtime, folder: modelFolder });
  } catch (error) {
    console.warn('The model could not be kept for offline use.', error);
  }
}

/** Whether the checks every model applies (src/core/input.ts) accept `text`. */
function isValidMessage(text: string): boolean {
  try {
    validateMessage(text);
    return true;
  } catch {
    return false;
  }
}

function footerText(id: string, status: RuntimeStatus | undefined): string {
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
 * The panel's values as settings changes. The panel shows what applies, so an emptied field means
 * "none" rather than "the build's default". The API key goes only into the runtime, in memory:
 * never into storage or the address.
 */
function readSettings(view: View): ConfigOverrides {
  const { settings } = view;
  const value = (input: HTMLInputElement) => input.value.trim() || undefined;
  const escalate = value(settings.escalate);
  return {
    fallback: settings.fallback.value,
    escalateBelow: escalate === undefined ? undefined : Number(escalate),
    vllm: { url: value(settings.vllmUrl), model: value(settings.vllmModel) },
    gemini: { baseUrl: value(settings.geminiBaseUrl), apiKey: value(settings.geminiApiKey) },
    outOfScope: { escalate: settings.oosEscalate.checked },
    // Applying the panel with a server in it is the user's choice to use that server.
    allowRemote: [
      ...(value(settings.vllmUrl) ? ['vllm'] : []),
      ...(value(settings.geminiBaseUrl) || value(settings.geminiApiKey) ? ['gemini'] : []),
    ],
  };
}

/** Registers the service worker; `onReady` runs once it has cached the site (for the Storage panel's sizes). */
function registerOffline(view: View, onReady?: () => void): void {
  if (!('serviceWorker' in navigator)) return;
  // A page served by the service worker is already offline-capable; the first visit is told below.
  if (navigator.serviceWorker.controller) view.offlineStatus.textContent = 'Available offline.';
  registerSW({
    immediate: true,
    onOfflineReady() {
      view.offlineStatus.textContent = 'Available offline.';
      onReady?.();
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
  const page = new Site(view, site, config);
  void page.start().finally(() => registerOffline(view, () => page.storage.refresh()));
}

main(findView(document));
