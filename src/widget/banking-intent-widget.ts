/**
 * `<banking-intent-widget>`: a message box that classifies what a customer writes into one of the
 * 77 Banking77 intents, on the customer's device, and offers the bank's action for that intent.
 *
 *   <script type="module" src="https://cdn.bank.example/widget/banking-intent-widget.js"></script>
 *   <banking-intent-widget actions='{"lost_or_stolen_card": {"label": "Block my card", "href": "/cards/block"}}'>
 *   </banking-intent-widget>
 *
 * Attributes (and properties): `model` (`custom` by default, `vllm`, `gemini`; `llama-qlora` runs
 * only on the full site: here it is unavailable, with the reason), `fallback` (comma-separated), `escalate-below`,
 * `models-base`, `ort-base`, `vllm-url`, `vllm-model`, `gemini-base-url`, `actions` (JSON;
 * property `actions`), `strings` (JSON; property `strings`).
 * Out of scope (a message that is not about banking): `oos-threshold` (0-1; 0 = never; absent =
 * the model's own), `oos-escalate` (send such messages on to the remote models in `fallback`),
 * `oos-message` and `handoff-text` (the words; they win over `strings.outOfScope` and
 * `strings.handoff`), `handoff-url` (http(s), mailto:, tel: or `#section`; default `#contact`).
 * `intent-labels` (JSON intent → display name; property `intentLabels`), `debug` (shows under a
 * load failure what the host must check: paths, CORS).
 * Every text the customer sees comes from `strings` (errors included, by code: `errorEmpty`,
 * `errorInput`, `errorUnavailable`, `errorGeneric`); the technical message goes to the event.
 * Events (bubbling, composed): `banking-intent:ready`, `banking-intent:result` ({intent, label,
 * confidence, prediction, action, outOfScope, handoff}), `banking-intent:error` ({code, message}).
 * The former names `ready`, `intent` and `error` still fire, for this release only.
 * Theming: `--bi-accent`, `--bi-accent-text`, `--bi-font`, `--bi-font-size`, `--bi-text`,
 * `--bi-background`, `--bi-border`, `--bi-radius`, `--bi-padding`, `--bi-focus`, `--bi-muted`,
 * `--bi-error`, `--bi-link`; dark defaults when the page declares `color-scheme: light dark` and the
 * customer's system prefers dark (src/widget/styles.ts); parts `form`, `label`, `input`, `button`, `answer`, `intent`, `action`, `error`,
 * `out-of-scope`, `handoff`, `closest`.
 */
import type { ConfigOverrides } from '../core/config';
import { IntentError } from '../core/errors';
import type { Prediction } from '../core/prediction';
import { isDownloadStage } from '../engine/load-plan';
import type { RuntimeProgress } from '../runtime/intent-runtime';
import { handoffUrl, isOutOfScope, readOosThreshold } from '../ui/out-of-scope';
import {
  checkActions,
  checkIntentLabels,
  customerError,
  DEFAULT_STRINGS,
  folderUrl,
  mergeStrings,
  parseJsonAttribute,
  readableIntent,
  readFlagAttribute,
  type ActionMap,
  type IntentAction,
  type IntentLabels,
  type WidgetStrings,
} from './settings';
import { sharedRuntime, type RuntimeSettings } from './shared-runtime';
import { widgetStyleSheet } from './styles';

export type { ActionMap, IntentAction, IntentLabels, WidgetStrings } from './settings';

export interface IntentEventDetail {
  /** An intent, or `out_of_scope` for a message that is not about banking. */
  intent: string;
  /** The name the customer saw: the `intent-labels` entry, else the intent made readable. */
  label: string;
  confidence: number;
  prediction: Prediction;
  /** The bank's action for this intent, if the `actions` map has one; for `out_of_scope`, the hand-off. */
  action: IntentAction | null;
  /** True when the message is not about banking: the widget showed the out-of-scope words and the hand-off. */
  outOfScope: boolean;
  /** The link to a person ({label: handoff-text, href: handoff-url}) when `outOfScope`, else null. */
  handoff: IntentAction | null;
}

export interface ErrorEventDetail {
  /** The error's code (src/core/errors.ts), e.g. `invalid_input`, `model_unavailable`. */
  code: string;
  /** The technical message, for the bank's developers (the customer saw the `strings` text). */
  message: string;
}

/** The widget's events, namespaced so that no other script's `ready` or `error` collides. */
export const EVENTS = { ready: 'banking-intent:ready', result: 'banking-intent:result', error: 'banking-intent:error' } as const;

/** The names before the namespaced ones, still fired for one release. */
const LEGACY_EVENTS: Record<keyof typeof EVENTS, string> = { ready: 'ready', result: 'intent', error: 'error' };
let legacyNoted = false;

export const TAG_NAME = 'banking-intent-widget';

const DEFAULT_MODELS_BASE = new URL('models/custom/', import.meta.url);
const DEFAULT_ORT_BASE = new URL('ort/', import.meta.url);

const ATTRIBUTES = [
  'model',
  'fallback',
  'escalate-below',
  'models-base',
  'ort-base',
  'vllm-url',
  'vllm-model',
  'gemini-base-url',
  'actions',
  'strings',
  'oos-threshold',
  'oos-escalate',
  'oos-message',
  'handoff-url',
  'handoff-text',
  'intent-labels',
  'debug',
] as const;

type AttributeName = (typeof ATTRIBUTES)[number];

/**
 * Display attributes whose bad values are reported as soon as the page can listen. A bad model
 * setting (`oos-threshold`, `escalate-below`, …) is reported by the load or the next message.
 */
const CHECKED: readonly AttributeName[] = ['strings', 'actions', 'handoff-url', 'intent-labels'];

/** How many of the closest banking topics an out-of-scope answer names. */
const CLOSEST_SHOWN = 3;

export class BankingIntentWidget extends HTMLElement {
  static readonly observedAttributes = ATTRIBUTES;

  private readonly root: ShadowRoot;
  private readonly labelEl: HTMLLabelElement;
  private readonly input: HTMLInputElement;
  private readonly button: HTMLButtonElement;
  private readonly answer: HTMLDivElement;
  private actionsValue: ActionMap | undefined;
  private stringsValue: Partial<WidgetStrings> | undefined;
  private labelsValue: IntentLabels | undefined;
  private busy = false;
  private started = false;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    this.root.adoptedStyleSheets = [widgetStyleSheet()];

    const form = this.make('form', 'form');
    this.labelEl = this.make('label', 'label');
    this.labelEl.htmlFor = 'message';
    this.input = this.make('input', 'input');
    this.input.id = 'message';
    this.input.type = 'text';
    this.input.autocomplete = 'off';
    this.input.spellcheck = true;
    this.button = this.make('button', 'button');
    this.button.type = 'submit';
    form.append(this.labelEl, this.input, this.button);
    // A form gives Enter-to-submit in the box and a keyboard-usable button for free.
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.classify(this.input.value);
    });

    this.answer = this.make('div', 'answer');
    this.answer.className = 'answer';
    this.answer.setAttribute('role', 'status');
    this.answer.setAttribute('aria-live', 'polite');
    this.root.append(form, this.answer);
    this.renderStrings();
  }

  /** intent → {label, href}; set as a property, or as JSON in the `actions` attribute. */
  get actions(): ActionMap {
    try {
      return this.actionsValue ?? checkActions(parseJsonAttribute('actions', this.getAttribute('actions')), document.baseURI);
    } catch {
      return {};
    }
  }

  set actions(value: ActionMap) {
    this.actionsValue = checkActions(value, document.baseURI);
  }

  /** The UI texts, partly or wholly replaced; set as a property, or as JSON in `strings`. */
  get strings(): WidgetStrings {
    const attributes = { 'oos-message': this.attr('oos-message'), 'handoff-text': this.attr('handoff-text') };
    try {
      return mergeStrings(this.stringsValue ?? parseJsonAttribute('strings', this.getAttribute('strings')), attributes);
    } catch {
      return mergeStrings(undefined, attributes);
    }
  }

  set strings(value: Partial<WidgetStrings>) {
    this.stringsValue = { ...value };
    this.renderStrings();
  }

  /** intent → display name; set as a property, or as JSON in `intent-labels`. Unlisted intents show their id, made readable. */
  get intentLabels(): IntentLabels {
    try {
      return this.labelsValue ?? checkIntentLabels(parseJsonAttribute('intent-labels', this.getAttribute('intent-labels')));
    } catch {
      return {};
    }
  }

  set intentLabels(value: IntentLabels) {
    this.labelsValue = checkIntentLabels(value);
  }

  connectedCallback(): void {
    if (this.started) return;
    this.started = true;
    // Start the (shared) model download now, so the first answer does not wait for it.
    void this.prepare();
    // A bad attribute set by the HTML parser is reported now that the page can listen.
    for (const name of CHECKED) this.checkAttribute(name);
  }

  attributeChangedCallback(name: string, previous: string | null, value: string | null): void {
    if (previous === value) return;
    if (name === 'strings') this.renderStrings();
    if ((CHECKED as readonly string[]).includes(name) && this.isConnected) this.checkAttribute(name as AttributeName);
  }

  /** Classifies `text` as if the customer had typed it; resolves with the event's detail. */
  async classify(text: string): Promise<IntentEventDetail | undefined> {
    if (this.busy) return undefined;
    if (text.trim() === '') {
      this.showError(this.strings.errorEmpty, { code: 'invalid_input', message: 'The message is empty.' });
      return undefined;
    }
    this.setBusy(true, this.strings.working);
    try {
      const prediction = await this.runtime().classify(text);
      const outOfScope = isOutOfScope(prediction);
      const handoff = outOfScope ? this.handoff() : null;
      const action = outOfScope ? handoff : (this.actions[prediction.intent] ?? null);
      const detail: IntentEventDetail = {
        intent: prediction.intent,
        label: outOfScope ? this.strings.outOfScope : readableIntent(prediction.intent, this.intentLabels),
        confidence: prediction.confidence,
        prediction,
        action,
        outOfScope,
        handoff,
      };
      this.showAnswer(detail);
      this.emit('result', detail);
      return detail;
    } catch (error) {
      this.fail(error);
      return undefined;
    } finally {
      this.setBusy(false);
    }
  }

  /** Loads the model; the box stays usable meanwhile (a message typed now waits for the load). */
  private async prepare(): Promise<void> {
    const notice = document.createElement('p');
    notice.textContent = this.strings.loading;
    this.answer.replaceChildren(notice);
    try {
      await this.runtime().load(undefined, { onProgress: (progress) => (notice.textContent = this.loadingText(progress)) });
      notice.remove();
      this.emit('ready', {});
    } catch (error) {
      const detail = errorDetail(error);
      const settings = this.runtimeSettings();
      // Empty widgets with the reason only in the console were the old way: say what to check.
      const check =
        `The widget could not load its model (${detail.message}). Check that ${settings.modelBaseUrl} and ` +
        `${settings.ortBaseUrl} are served at those paths and, when they are on another origin than the page, ` +
        'with Access-Control-Allow-Origin (README, "Hosting the widget").';
      console.error(`<${TAG_NAME}>: ${check}`);
      // An answer or error shown since the load began stays; a load error shows otherwise.
      if (notice.isConnected)
        this.showError(customerError(detail.code, this.strings), detail, this.hasAttribute('debug') ? check : undefined);
      else this.emit('error', detail);
    }
  }

  private runtime() {
    return sharedRuntime(this.runtimeSettings());
  }

  /**
   * `downloading` with the size and the share in while files arrive from the network; else
   * `loading`, which a page that translated `loading` but not `downloading` also gets then.
   */
  private loadingText(progress: RuntimeProgress): string {
    const { loading, downloading } = this.strings;
    const untranslated = downloading === DEFAULT_STRINGS.downloading && loading !== DEFAULT_STRINGS.loading;
    if (untranslated || progress.status !== 'progress' || progress.cached || progress.total <= 0 || !isDownloadStage(progress.file))
      return loading;
    return downloading
      .replaceAll('{size}', (progress.total / 1_000_000).toFixed(1))
      .replaceAll('{percent}', String(Math.floor(progress.progress)));
  }

  /** The link to a person; null when `handoff-url` is not a safe link (reported when it was set). */
  private handoff(): IntentAction | null {
    try {
      return { label: this.strings.handoff, href: handoffUrl(this.attr('handoff-url'), document.baseURI, 'handoff-url attribute') };
    } catch {
      return null;
    }
  }

  private attr(name: AttributeName): string | undefined {
    return this.getAttribute(name)?.trim() || undefined;
  }

  private runtimeSettings(): RuntimeSettings {
    const attr = (name: AttributeName) => this.attr(name);
    const escalate = attr('escalate-below');
    const overrides: ConfigOverrides = {
      model: attr('model'),
      fallback: attr('fallback'),
      escalateBelow: escalate === undefined ? undefined : Number(escalate),
      vllm: { url: attr('vllm-url'), model: attr('vllm-model') },
      gemini: { baseUrl: attr('gemini-base-url') },
      outOfScope: {
        threshold: readOosThreshold(this.getAttribute('oos-threshold')),
        escalate: readFlagAttribute('oos-escalate', this.getAttribute('oos-escalate')),
      },
    };
    return {
      modelBaseUrl: folderUrl(attr('models-base') ?? null, document.baseURI, DEFAULT_MODELS_BASE),
      ortBaseUrl: folderUrl(attr('ort-base') ?? null, document.baseURI, DEFAULT_ORT_BASE),
      overrides: JSON.parse(JSON.stringify(overrides)) as ConfigOverrides,
    };
  }

  private showAnswer(detail: IntentEventDetail): void {
    const lines = detail.outOfScope ? this.outOfScopeLines(detail) : this.intentLines(detail);
    this.answer.dataset.intent = detail.intent;
    this.answer.replaceChildren(...lines);
  }

  /** The bank's words, the link to a person, then (smaller) the closest banking topics. */
  private outOfScopeLines(detail: IntentEventDetail): HTMLElement[] {
    const strings = this.strings;
    const message = this.make('p', 'out-of-scope');
    message.textContent = strings.outOfScope;
    const lines: HTMLElement[] = [message];
    if (detail.handoff) lines.push(this.linkLine('handoff', detail.handoff));
    const labels = this.intentLabels;
    const closest = detail.prediction.top.slice(0, CLOSEST_SHOWN).map((entry) => readableIntent(entry.intent, labels));
    if (closest.length > 0) {
      const line = this.make('p', 'closest');
      line.className = 'closest';
      line.textContent = `${strings.closest} ${closest.join(', ')}`;
      lines.push(line);
    }
    return lines;
  }

  private intentLines(detail: IntentEventDetail): HTMLElement[] {
    const strings = this.strings;
    const intent = this.make('p', 'intent');
    const name = document.createElement('strong');
    name.textContent = detail.label;
    const confidence = document.createElement('span');
    confidence.className = 'confidence';
    confidence.textContent = ` (${Math.round(detail.confidence * 100)} %)`;
    intent.append(`${strings.answer} `, name, confidence);
    const lines: HTMLElement[] = [intent];
    if (detail.action) lines.push(this.linkLine('action', detail.action, `${strings.action} `));
    return lines;
  }

  /** A line with one checked link (an intent's action, the hand-off), after an optional lead-in. */
  private linkLine(part: 'action' | 'handoff', target: IntentAction, lead = ''): HTMLElement {
    const line = document.createElement('p');
    const link = this.make('a', part);
    link.href = target.href;
    link.textContent = target.label;
    if (lead) line.append(lead);
    line.append(link);
    return line;
  }

  private fail(error: unknown): void {
    const detail = errorDetail(error);
    this.showError(customerError(detail.code, this.strings), detail);
  }

  /** Shows the customer's words for an error (and, with `debug`, what the host must check); emits the technical detail. */
  private showError(text: string, detail: ErrorEventDetail, diagnostic?: string): void {
    const line = this.make('p', 'error');
    line.className = 'error';
    line.textContent = `${this.strings.error} ${text}`;
    const lines = [line];
    if (diagnostic) {
      const note = this.make('p', 'diagnostic');
      note.className = 'diagnostic';
      note.textContent = diagnostic;
      lines.push(note);
    }
    delete this.answer.dataset.intent;
    this.answer.replaceChildren(...lines);
    this.emit('error', detail);
  }

  /** Shows (and emits) the error for a bad value of `name`, if it has one. */
  private checkAttribute(name: AttributeName): void {
    const text = this.getAttribute(name);
    try {
      if (name === 'strings') parseJsonAttribute(name, text);
      if (name === 'actions' && !this.actionsValue) checkActions(parseJsonAttribute(name, text), document.baseURI);
      if (name === 'handoff-url') handoffUrl(text ?? undefined, document.baseURI, 'handoff-url attribute');
      if (name === 'intent-labels' && !this.labelsValue) checkIntentLabels(parseJsonAttribute(name, text));
    } catch (error) {
      this.fail(error);
    }
  }

  private setBusy(busy: boolean, message?: string): void {
    this.busy = busy;
    this.button.disabled = busy;
    this.answer.setAttribute('aria-busy', String(busy));
    if (message !== undefined) {
      const line = document.createElement('p');
      line.textContent = message;
      this.answer.replaceChildren(line);
    }
  }

  private renderStrings(): void {
    const strings = this.strings;
    this.labelEl.textContent = strings.label;
    this.input.placeholder = strings.placeholder;
    this.button.textContent = strings.button;
  }

  private emit<T>(type: keyof typeof EVENTS, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(EVENTS[type], { detail, bubbles: true, composed: true }));
    if (!legacyNoted) {
      legacyNoted = true;
      console.info(
        `<${TAG_NAME}>: the events "ready", "intent" and "error" are renamed "${EVENTS.ready}", "${EVENTS.result}" and "${EVENTS.error}"; the old names fire until the next release.`,
      );
    }
    this.dispatchEvent(new CustomEvent<T>(LEGACY_EVENTS[type], { detail, bubbles: true, composed: true }));
  }

  private make<K extends keyof HTMLElementTagNameMap>(tag: K, part: string): HTMLElementTagNameMap[K] {
    const element = document.createElement(tag);
    element.setAttribute('part', part);
    return element;
  }
}

function errorDetail(error: unknown): ErrorEventDetail {
  return {
    code: error instanceof IntentError ? error.code : 'unknown',
    message: error instanceof Error ? error.message : String(error),
  };
}

if (!customElements.get(TAG_NAME)) customElements.define(TAG_NAME, BankingIntentWidget);

declare global {
  interface HTMLElementTagNameMap {
    'banking-intent-widget': BankingIntentWidget;
  }
  interface HTMLElementEventMap {
    'banking-intent:ready': CustomEvent<Record<string, never>>;
    'banking-intent:result': CustomEvent<IntentEventDetail>;
    'banking-intent:error': CustomEvent<ErrorEventDetail>;
    /** @deprecated use `banking-intent:result`; fires until the next release. */
    intent: CustomEvent<IntentEventDetail>;
  }
}
