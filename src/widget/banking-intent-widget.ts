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
 * Events (bubbling, composed): `ready`, `intent` ({intent, confidence, prediction, action}),
 * `error` ({code, message}).
 * Theming: `--bi-accent`, `--bi-accent-text`, `--bi-font`, `--bi-font-size`, `--bi-text`,
 * `--bi-background`, `--bi-border`, `--bi-radius`, `--bi-padding`, `--bi-focus`, `--bi-muted`,
 * `--bi-error`; parts `form`, `label`, `input`, `button`, `answer`, `intent`, `action`, `error`.
 */
import type { ConfigOverrides } from '../core/config';
import { IntentError } from '../core/errors';
import type { Prediction } from '../core/prediction';
import {
  checkActions,
  folderUrl,
  mergeStrings,
  parseJsonAttribute,
  readableIntent,
  type ActionMap,
  type IntentAction,
  type WidgetStrings,
} from './settings';
import { sharedPipeline, type RuntimeSettings } from './shared-runtime';
import { widgetStyleSheet } from './styles';

export type { ActionMap, IntentAction, WidgetStrings } from './settings';

export interface IntentEventDetail {
  intent: string;
  confidence: number;
  prediction: Prediction;
  /** The bank's action for this intent, if the `actions` map has one. */
  action: IntentAction | null;
}

export interface ErrorEventDetail {
  code: string;
  message: string;
}

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
] as const;

export class BankingIntentWidget extends HTMLElement {
  static readonly observedAttributes = ATTRIBUTES;

  private readonly root: ShadowRoot;
  private readonly labelEl: HTMLLabelElement;
  private readonly input: HTMLInputElement;
  private readonly button: HTMLButtonElement;
  private readonly answer: HTMLDivElement;
  private actionsValue: ActionMap | undefined;
  private stringsValue: Partial<WidgetStrings> | undefined;
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
    try {
      return mergeStrings(this.stringsValue ?? parseJsonAttribute('strings', this.getAttribute('strings')));
    } catch {
      return mergeStrings(undefined);
    }
  }

  set strings(value: Partial<WidgetStrings>) {
    this.stringsValue = { ...value };
    this.renderStrings();
  }

  connectedCallback(): void {
    if (this.started) return;
    this.started = true;
    // Start the (shared) model download now, so the first answer does not wait for it.
    void this.prepare();
    // A bad attribute set by the HTML parser is reported now that the page can listen.
    this.checkJson('strings');
    this.checkJson('actions');
  }

  attributeChangedCallback(name: string, previous: string | null, value: string | null): void {
    if (previous === value) return;
    if (name === 'strings') this.renderStrings();
    if ((name === 'actions' || name === 'strings') && this.isConnected) this.checkJson(name);
  }

  /** Classifies `text` as if the customer had typed it; resolves with the event's detail. */
  async classify(text: string): Promise<IntentEventDetail | undefined> {
    if (this.busy) return undefined;
    this.setBusy(true, this.strings.working);
    try {
      const prediction = await this.pipeline().classify(text);
      const action = this.actions[prediction.intent] ?? null;
      const detail: IntentEventDetail = { intent: prediction.intent, confidence: prediction.confidence, prediction, action };
      this.showAnswer(detail);
      this.emit('intent', detail);
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
      const pipeline = this.pipeline();
      await pipeline.load(pipeline.active);
      notice.remove();
      this.emit('ready', {});
    } catch (error) {
      // An answer or error shown since the load began stays; a load error shows otherwise.
      if (notice.isConnected) this.fail(error);
      else this.emit('error', errorDetail(error));
    }
  }

  private pipeline() {
    return sharedPipeline(this.runtimeSettings());
  }

  private runtimeSettings(): RuntimeSettings {
    const attr = (name: (typeof ATTRIBUTES)[number]) => this.getAttribute(name)?.trim() || undefined;
    const escalate = attr('escalate-below');
    const overrides: ConfigOverrides = {
      model: attr('model'),
      fallback: attr('fallback')
        ?.split(',')
        .map((id) => id.trim())
        .filter(Boolean),
      escalateBelow: escalate === undefined ? undefined : Number(escalate),
      vllm: { url: attr('vllm-url'), model: attr('vllm-model') },
      gemini: { baseUrl: attr('gemini-base-url') },
    };
    return {
      modelBaseUrl: folderUrl(attr('models-base') ?? null, document.baseURI, DEFAULT_MODELS_BASE),
      ortBaseUrl: folderUrl(attr('ort-base') ?? null, document.baseURI, DEFAULT_ORT_BASE),
      overrides: JSON.parse(JSON.stringify(overrides)) as ConfigOverrides,
    };
  }

  private showAnswer(detail: IntentEventDetail): void {
    const strings = this.strings;
    const intent = this.make('p', 'intent');
    const name = document.createElement('strong');
    name.textContent = readableIntent(detail.intent);
    const confidence = document.createElement('span');
    confidence.className = 'confidence';
    confidence.textContent = ` (${Math.round(detail.confidence * 100)} %)`;
    intent.append(`${strings.answer} `, name, confidence);
    const lines: HTMLElement[] = [intent];
    if (detail.action) {
      const line = document.createElement('p');
      const link = this.make('a', 'action');
      link.href = detail.action.href;
      link.textContent = detail.action.label;
      line.append(`${strings.action} `, link);
      lines.push(line);
    }
    this.answer.dataset.intent = detail.intent;
    this.answer.replaceChildren(...lines);
  }

  private fail(error: unknown): void {
    const detail = errorDetail(error);
    const line = this.make('p', 'error');
    line.className = 'error';
    line.textContent = `${this.strings.error} ${detail.message}`;
    delete this.answer.dataset.intent;
    this.answer.replaceChildren(line);
    this.emit('error', detail);
  }

  private checkJson(name: 'actions' | 'strings'): void {
    try {
      parseJsonAttribute(name, this.getAttribute(name));
      if (name === 'actions' && !this.actionsValue) checkActions(parseJsonAttribute(name, this.getAttribute(name)), document.baseURI);
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

  private emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
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
    intent: CustomEvent<IntentEventDetail>;
  }
}
