/**
 * DOM updates for the site. Every piece of user text and model output goes in with
 * `textContent` (or an attribute), never as markup: a message such as
 * `<img src=x onerror=...>` is shown as the characters it is.
 */
import type { LoadProgress } from '../core/adapter';
import { isDownloadStage } from '../engine/load-plan';
import type { Device, Prediction, ScoredIntent } from '../core/prediction';
import type { AdapterStatus } from '../pipeline/pipeline';
import { isOutOfScope, type Handoff } from './out-of-scope';
import { pageElement } from './page-element';

export interface View {
  form: HTMLFormElement;
  message: HTMLTextAreaElement;
  button: HTMLButtonElement;
  loading: HTMLElement;
  loadStage: HTMLElement;
  loadProgress: HTMLProgressElement;
  error: HTMLElement;
  result: HTMLElement;
  /** The polite live region: one short sentence per answer (the result block itself is not live). */
  announcement: HTMLElement;
  modelStatus: HTMLElement;
  offlineStatus: HTMLElement;
  modelSelect: HTMLSelectElement;
  modelState: HTMLElement;
  /** The out-of-scope threshold beside the model selector: empty = the model's own. */
  oosThreshold: HTMLInputElement;
  oosThresholdError: HTMLElement;
  settings: SettingsView;
}

/** The "Remote models" panel. */
export interface SettingsView {
  details: HTMLDetailsElement;
  form: HTMLFormElement;
  vllmUrl: HTMLInputElement;
  vllmModel: HTMLInputElement;
  geminiBaseUrl: HTMLInputElement;
  geminiApiKey: HTMLInputElement;
  fallback: HTMLInputElement;
  escalate: HTMLInputElement;
  oosEscalate: HTMLInputElement;
  apply: HTMLButtonElement;
  error: HTMLElement;
  status: HTMLElement;
}

export function findView(root: Document): View {
  const get = <T extends HTMLElement>(id: string, type: { new (): T }): T => pageElement(root, id, type);
  return {
    form: get('classify-form', HTMLFormElement),
    message: get('message', HTMLTextAreaElement),
    button: get('classify', HTMLButtonElement),
    loading: get('loading', HTMLElement),
    loadStage: get('load-stage', HTMLElement),
    loadProgress: get('load-progress', HTMLProgressElement),
    error: get('error', HTMLElement),
    result: get('result', HTMLElement),
    announcement: get('result-announcement', HTMLElement),
    modelStatus: get('model-status', HTMLElement),
    offlineStatus: get('offline-status', HTMLElement),
    modelSelect: get('model', HTMLSelectElement),
    modelState: get('model-state', HTMLElement),
    oosThreshold: get('oos-threshold', HTMLInputElement),
    oosThresholdError: get('oos-threshold-error', HTMLElement),
    settings: {
      details: get('settings', HTMLDetailsElement),
      form: get('settings-form', HTMLFormElement),
      vllmUrl: get('vllm-url', HTMLInputElement),
      vllmModel: get('vllm-model', HTMLInputElement),
      geminiBaseUrl: get('gemini-base-url', HTMLInputElement),
      geminiApiKey: get('gemini-api-key', HTMLInputElement),
      fallback: get('fallback', HTMLInputElement),
      escalate: get('escalate', HTMLInputElement),
      oosEscalate: get('oos-escalate', HTMLInputElement),
      apply: get('apply-settings', HTMLButtonElement),
      error: get('settings-error', HTMLElement),
      status: get('settings-status', HTMLElement),
    },
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
  // llama-qlora: its files are in, the first (shader-compiling) run comes next.
  ready: 'Preparing the model',
  'warming up': 'Warming up the model',
};

/**
 * The load's progress in words:
 * - all files together (the custom model in a browser): `Downloading the model and its runtime
 *   (one-time download, about 17.8 MB): 4.2 MB so far`, the total said from the first report on;
 *   from this device's cache, `Loading the model from this device (no download)`;
 * - one file (the Llama): `Downloading model.onnx (12.3 of 28.0 MB)`.
 */
function describeProgress(progress: LoadProgress): string {
  if (progress.cached) return capitalize(`${progress.stage} (no download)`);
  const stage = STAGE_NAMES[progress.stage] ?? progress.stage.replace(/^fetching /, 'Downloading ');
  if (isDownloadStage(progress.stage)) {
    const total = progress.total > 0 ? ` (one-time download, about ${megabytes(progress.total)} MB)` : '';
    return capitalize(`${stage}${total}${progress.loaded > 0 ? `: ${megabytes(progress.loaded)} MB so far` : ''}`);
  }
  const size =
    progress.total > 0
      ? ` (${megabytes(progress.loaded)} of ${megabytes(progress.total)} MB)`
      : progress.loaded > 0
        ? ` (${megabytes(progress.loaded)} MB)`
        : '';
  return capitalize(`${stage}${size}`);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function showLoading(view: View, progress: LoadProgress): void {
  view.loading.hidden = false;
  view.loadStage.textContent = `${describeProgress(progress)}…`;
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

export function showError(view: View, error: unknown, target: HTMLElement = view.error): void {
  target.textContent = error instanceof Error ? error.message : String(error);
  target.hidden = false;
}

export function clearError(view: View): void {
  view.error.hidden = true;
  view.error.textContent = '';
}

/**
 * Marks the message box invalid (`aria-invalid`) and adds the error text to its description, or
 * clears both: a screen reader on the box then reads what is wrong with it.
 */
export function setMessageInvalid(view: View, invalid: boolean): void {
  const { message, error } = view;
  const described = (message.getAttribute('aria-describedby') ?? '').split(/\s+/).filter((id) => id !== '' && id !== error.id);
  if (invalid) {
    message.setAttribute('aria-invalid', 'true');
    described.unshift(error.id);
  } else {
    message.removeAttribute('aria-invalid');
  }
  if (described.length > 0) message.setAttribute('aria-describedby', described.join(' '));
  else message.removeAttribute('aria-describedby');
}

export function clearResult(view: View): void {
  const result = view.result;
  delete result.dataset.intent;
  delete result.dataset.device;
  delete result.dataset.model;
  result.classList.remove('result--shown', 'result--oos');
  result.replaceChildren();
  // Emptied first, so that the same sentence for the next message is announced again.
  view.announcement.textContent = '';
}

export function setBusy(view: View, busy: boolean): void {
  view.result.setAttribute('aria-busy', String(busy));
  view.form.classList.toggle('form--busy', busy);
}

/**
 * Shows an answer. An out-of-scope one leads with `handoff`'s words and its link to a person, and
 * lists, smaller, the banking intents the message came closest to.
 */
export function renderPrediction(view: View, prediction: Prediction, handoff: Handoff): void {
  const result = view.result;
  const outOfScope = isOutOfScope(prediction);

  const heading = element('h2', 'result__heading', outOfScope ? 'Answer' : 'Intent');
  const intent = element('p', 'result__intent');
  const label = outOfScope
    ? element('span', 'result__label result__label--oos', handoff.message)
    : element('span', 'result__label', humanizeIntent(prediction.intent));
  intent.append(label, element('code', 'result__code', prediction.intent));
  const children: Node[] = [heading, intent];
  if (outOfScope) {
    const link = element('a', 'result__handoff-link', handoff.linkText);
    link.href = handoff.href;
    const line = element('p', 'result__handoff');
    line.append(link);
    children.push(line);
  }
  const confidence = element('p', 'result__confidence');
  // For out_of_scope the confidence is how sure the model is that no banking intent fits.
  confidence.append(outOfScope ? 'Sure it is not banking ' : 'Confidence ', element('strong', undefined, percent(prediction.confidence)));
  children.push(confidence);
  for (const note of predictionNotes(prediction)) children.push(element('p', 'result__note', note));

  // A remote model's out-of-scope answer may come without scores: then there is nothing to list.
  if (prediction.top.length > 0) {
    children.push(element('h3', 'result__subheading', outOfScope ? 'Closest banking intents' : `Top ${prediction.top.length}`));
    children.push(scoreList(prediction.top, outOfScope ? 'scores scores--closest' : 'scores'));
  }

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
  result.classList.toggle('result--oos', outOfScope);
  result.classList.add('result--shown');
  result.dataset.intent = prediction.intent;
  result.dataset.device = prediction.device;
  result.dataset.model = prediction.model;
  view.announcement.textContent = announcement(prediction);
}

/**
 * What the live region says of an answer, in one short sentence: `Card arrival, 97.3% confidence.`
 * or `Not a banking question, 95.0% sure.` The rest (top 5, model, latency) is there to read.
 */
export function announcement(prediction: Pick<Prediction, 'intent' | 'confidence'>): string {
  return isOutOfScope(prediction)
    ? `Not a banking question, ${percent(prediction.confidence)} sure.`
    : `${humanizeIntent(prediction.intent)}, ${percent(prediction.confidence)} confidence.`;
}

function scoreList(top: readonly ScoredIntent[], className: string): HTMLOListElement {
  const list = element('ol', className);
  for (const entry of top) {
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
  return list;
}

/** What the user should know about how an answer came about, one sentence each. */
export function predictionNotes(prediction: Prediction): string[] {
  const notes: string[] = [];
  if (prediction.fallback_from.length > 0) {
    notes.push(`Answered by ${prediction.model} after ${listOf(prediction.fallback_from)} failed.`);
  }
  if (prediction.escalated_from) {
    // The cascade escalates an unsure answer and, where allowed, an out-of-scope one.
    notes.push(`Escalated from ${prediction.escalated_from}: its answer was unsure or out of scope.`);
  }
  if (prediction.masked) notes.push(maskedNote(prediction.masked_categories ?? []));
  if (prediction.truncated) notes.push('This message is long: only its beginning was read.');
  return notes;
}

/** Readable names of the privacy guard's categories; others are shown with spaces for underscores. */
const MASKED_CATEGORY_NAMES: Record<string, string> = {
  card: 'card number',
  iban: 'IBAN',
  email: 'email',
  phone: 'phone number',
  account: 'account number',
};

/** `Personal data (card number, email) was masked before sending.`: the kinds, never the values. */
function maskedNote(categories: readonly string[]): string {
  const names = [...new Set(categories.map((category) => MASKED_CATEGORY_NAMES[category] ?? category.replace(/_/g, ' ')))];
  return names.length > 0 ? `Personal data (${names.join(', ')}) was masked before sending.` : 'Personal data was masked before sending.';
}

function listOf(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** One adapter as the model selector shows it. */
export interface ModelEntry {
  status: AdapterStatus;
  /** The latest load progress while it loads. */
  progress?: LoadProgress;
  /** Where its messages go, as a sentence: `Messages stay in this page.` */
  privacy: string;
}

const SHORT_DEVICE_NAMES: Record<Device, string> = { ...DEVICE_NAMES, wasm: 'WASM' };

/** `ready, WebGPU` / `loading 45%` / `unavailable`: short enough for an `<option>`. */
function shortState({ status, progress }: ModelEntry): string {
  if (status.coolingDownMs > 0) return `paused ${Math.ceil(status.coolingDownMs / 1000)} s`;
  switch (status.state) {
    case 'ready':
      return status.device && status.device !== 'remote' ? `ready, ${SHORT_DEVICE_NAMES[status.device]}` : 'ready';
    case 'loading':
      return progress && progress.total > 0 ? `loading ${Math.floor((100 * progress.loaded) / progress.total)}%` : 'loading…';
    case 'unavailable':
      return 'unavailable';
    case 'idle':
      return 'not loaded';
    case 'disposed':
      return 'closed';
  }
}

/** The full sentence for the selected model, with the reason when it cannot answer. */
function longState(entry: ModelEntry): string {
  const { status, progress } = entry;
  if (status.coolingDownMs > 0) {
    return `Skipped for ${Math.ceil(status.coolingDownMs / 1000)} s after repeated failures${status.reason ? `: ${status.reason}` : '.'}`;
  }
  switch (status.state) {
    case 'ready':
      return `Ready${status.device && status.device !== 'remote' ? ` on ${deviceName(status.device)}` : ''}. ${entry.privacy}`;
    case 'loading':
      return `Loading: ${progress ? describeProgress(progress) : 'starting'}…`;
    case 'unavailable':
      return `Unavailable: ${status.reason ?? 'no reason given.'}`;
    case 'idle':
      return `Not loaded yet. ${entry.privacy}`;
    case 'disposed':
      return 'Closed.';
  }
}

/** Fills the model selector: one option per adapter with its state, the selected one explained below it. */
export function renderModels(view: View, entries: readonly ModelEntry[], active: string): void {
  const select = view.modelSelect;
  for (const entry of entries) {
    const id = entry.status.id;
    let option = [...select.options].find((o) => o.value === id);
    if (!option) {
      option = new Option(id, id);
      select.add(option);
    }
    option.textContent = `${id} (${shortState(entry)})`;
    option.title = entry.status.state === 'unavailable' && entry.status.reason ? entry.status.reason : '';
    option.dataset.state = entry.status.state;
  }
  if (select.value !== active) select.value = active;
  const selected = entries.find((e) => e.status.id === active);
  view.modelState.textContent = selected ? longState(selected) : '';
  view.modelState.dataset.state = selected?.status.state ?? '';
}
