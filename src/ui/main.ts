/**
 * The site: one text box, one button, one model. Loads the custom model in a worker as soon as
 * the page opens, classifies on submit, and registers the service worker that makes the whole
 * site (app, onnxruntime runtime, model files) available offline after the first visit.
 */
import { registerSW } from 'virtual:pwa-register';
import { CustomAdapter } from '../adapters/custom';
import { AbortedError } from '../core/errors';
import { readConfig } from './config';
import {
  clearError,
  clearResult,
  deviceName,
  findView,
  hideLoading,
  renderPrediction,
  setBusy,
  showError,
  showLoading,
  type View,
} from './render';

function start(view: View): void {
  let config;
  try {
    config = readConfig(location.href);
  } catch (error) {
    showError(view, error);
    view.button.disabled = true;
    view.modelStatus.textContent = 'Model not loaded.';
    registerOffline(view);
    return;
  }

  const adapter = new CustomAdapter({
    modelBaseUrl: config.modelBaseUrl,
    ortBaseUrl: config.ortBaseUrl,
    preferWebGPU: config.device !== 'wasm',
  });

  const load = async () => {
    view.modelStatus.textContent = 'Loading the model…';
    showLoading(view, { stage: 'fetching config.json', loaded: 0, total: 0 });
    try {
      await adapter.load({ onProgress: (progress) => showLoading(view, progress) });
      const health = await adapter.health();
      const device = health.device ? deviceName(health.device) : 'unknown device';
      view.modelStatus.textContent = `Model ready: ${adapter.id} on ${device}.`;
      if (adapter.webgpuSkipped) view.modelStatus.title = adapter.webgpuSkipped;
    } catch (error) {
      view.modelStatus.textContent = 'The model could not be loaded.';
      showError(view, error);
    } finally {
      hideLoading(view);
    }
  };

  // A new request supersedes the one in flight: its late answer must not replace the new one.
  let inFlight: AbortController | undefined;
  const classify = async () => {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    clearError(view);
    clearResult(view);
    setBusy(view, true);
    try {
      const prediction = await adapter.classify(view.message.value, { signal: controller.signal, topK: 5 });
      renderPrediction(view, prediction);
    } catch (error) {
      if (!(error instanceof AbortedError)) showError(view, error);
    } finally {
      if (inFlight === controller) {
        inFlight = undefined;
        setBusy(view, false);
      }
    }
  };

  view.form.addEventListener('submit', (event) => {
    event.preventDefault();
    void classify();
  });
  view.message.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      view.form.requestSubmit();
    }
  });

  // The service worker's install downloads the same ~28 MB as the model load, bypassing the HTTP
  // cache: registering it afterwards keeps the first visit's first answer fast.
  void load().finally(() => registerOffline(view));
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

start(findView(document));
