/**
 * DOM updates for the site. Every piece of user text and model output goes in with
 * `textContent` (or an attribute), never as markup: a message such as
 * `<img src=x onerror=...>` is shown as the characters it is.
 */
import type { LoadProgress } from '../core/adapter';
import type { Device, Prediction } from '../core/prediction';

export interface View {
  form: HTMLFormElement;
  message: HTMLTextAreaElement;
  button: HTMLButtonElement;
  loading: HTMLElement;
  loadStage: HTMLElement;
  loadProgress: HTMLProgressElement;
  error: HTMLElement;
  result: HTMLElement;
  modelStatus: HTMLElement;
  offlineStatus: HTMLElement;
}

export function findView(root: Document): View {
  const get = <T extends HTMLElement>(id: string, type: { new (): T }): T => {
    const element = root.getElementById(id);
    if (!(element instanceof type)) throw new Error(`index.html lacks the #${id} element.`);
    return element;
  };
  return {
    form: get('classify-form', HTMLFormElement),
    message: get('message', HTMLTextAreaElement),
    button: get('classify', HTMLButtonElement),
    loading: get('loading', HTMLElement),
    loadStage: get('load-stage', HTMLElement),
    loadProgress: get('load-progress', HTMLProgressElement),
    error: get('error', HTMLElement),
    result: get('result', HTMLElement),
    modelStatus: get('model-status', HTMLElement),
    offlineStatus: get('offline-status', HTMLElement),
  };
}

const DEVICE_NAMES: Record<Device, string> = {
  webgpu: 'WebGPU',
  wasm: 'WebAssembly (CPU)',
  cpu: 'CPU',
  remote: 'Remote server',
};

export function deviceName(device: Device): string {
  return DEVICE_NAMES[device];
}

/** `card_arrival` → `Card arrival`. */
export function humanizeIntent(intent: string): string {
  const words = intent.replace(/_/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function percent(score: number): string {
  return `${(score * 100).toFixed(1)}%`;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The engine's load stages in words; `fetching <file>` becomes `Downloading <file>`. */
const STAGE_NAMES: Record<string, string> = {
  'creating session': 'Preparing the model',
  'warming up': 'Warming up the model',
};

export function showLoading(view: View, progress: LoadProgress): void {
  view.loading.hidden = false;
  const stage = STAGE_NAMES[progress.stage] ?? progress.stage.replace(/^fetching /, 'Downloading ');
  const size =
    progress.total > 0
      ? ` (${megabytes(progress.loaded)} of ${megabytes(progress.total)} MB)`
      : progress.loaded > 0
        ? ` (${megabytes(progress.loaded)} MB)`
        : '';
  view.loadStage.textContent = `${stage}${size}…`;
  if (progress.total > 0) {
    view.loadProgress.max = progress.total;
    view.loadProgress.value = Math.min(progress.loaded, progress.total);
  } else {
    // No known size: an indeterminate bar.
    view.loadProgress.removeAttribute('value');
  }
}

export function hideLoading(view: View): void {
  view.loading.hidden = true;
}

function megabytes(bytes: number): string {
  return (bytes / 1_000_000).toFixed(1);
}

export function showError(view: View, error: unknown): void {
  view.error.textContent = error instanceof Error ? error.message : String(error);
  view.error.hidden = false;
}

export function clearError(view: View): void {
  view.error.hidden = true;
  view.error.textContent = '';
}

export function clearResult(view: View): void {
  const result = view.result;
  delete result.dataset.intent;
  delete result.dataset.device;
  delete result.dataset.model;
  result.classList.remove('result--shown');
  result.replaceChildren();
}

export function setBusy(view: View, busy: boolean): void {
  view.result.setAttribute('aria-busy', String(busy));
  view.form.classList.toggle('form--busy', busy);
}

export function renderPrediction(view: View, prediction: Prediction): void {
  const result = view.result;

  const heading = element('h2', 'result__heading', 'Intent');
  const intent = element('p', 'result__intent');
  intent.append(element('span', 'result__label', humanizeIntent(prediction.intent)), element('code', 'result__code', prediction.intent));
  const confidence = element('p', 'result__confidence');
  confidence.append('Confidence ', element('strong', undefined, percent(prediction.confidence)));

  const children: Node[] = [heading, intent, confidence];
  if (prediction.truncated) {
    children.push(element('p', 'result__note', 'This message is long: only its beginning was read.'));
  }

  children.push(element('h3', 'result__subheading', `Top ${prediction.top.length}`));
  const list = element('ol', 'scores');
  for (const entry of prediction.top) {
    const item = element('li', 'scores__item');
    const track = element('span', 'scores__track');
    const bar = element('span', 'scores__bar');
    bar.style.setProperty('--score', String(Math.max(0, Math.min(1, entry.score))));
    track.append(bar);
    const name = element('span', 'scores__intent', humanizeIntent(entry.intent));
    name.title = entry.intent;
    item.append(name, track, element('span', 'scores__value', percent(entry.score)));
    list.append(item);
  }
  children.push(list);

  const meta = element('dl', 'meta');
  const facts: [string, string][] = [
    ['Model', prediction.model],
    ['Device', deviceName(prediction.device)],
    ['Latency', `${prediction.latency_ms.toFixed(1)} ms`],
  ];
  for (const [term, value] of facts) {
    const group = element('div', 'meta__item');
    group.append(element('dt', undefined, term), element('dd', undefined, value));
    meta.append(group);
  }
  children.push(meta);

  result.replaceChildren(...children);
  result.classList.add('result--shown');
  result.dataset.intent = prediction.intent;
  result.dataset.device = prediction.device;
  result.dataset.model = prediction.model;
}
