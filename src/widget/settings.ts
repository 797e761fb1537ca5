/**
 * What a page can configure on `<banking-intent-widget>`: UI strings, the intent → action map and
 * the model settings, each readable from an attribute (JSON for the structured ones) or set as a
 * property. Everything here is validated: a bad value becomes an `InvalidInputError` naming it.
 */
import { parseFlag } from '../core/config';
import { InvalidInputError } from '../core/errors';
import { DEFAULT_HANDOFF_TEXT, DEFAULT_OOS_MESSAGE, safeLink, WEB_SCHEMES } from '../ui/out-of-scope';

/** The widget's visible texts; pass some or all of them to translate it. */
export interface WidgetStrings {
  /** The text box's label (also its accessible name). */
  label: string;
  placeholder: string;
  /** The button (also its accessible name). */
  button: string;
  loading: string;
  /**
   * While the model and its runtime download (a first visit): `{size}` is the whole download in
   * MB, said before it starts, `{percent}` how much has arrived. A load from the cache says `loading`.
   */
  downloading: string;
  working: string;
  /** Before the intent in the answer, e.g. "Intent:". */
  answer: string;
  /** Before the suggested action's link, e.g. "Suggested:". */
  action: string;
  /** Before an error's message. */
  error: string;
  /** The answer to a message that is not about banking (also the `oos-message` attribute). */
  outOfScope: string;
  /** The link to a person under that answer (also the `handoff-text` attribute). */
  handoff: string;
  /** Before the banking topics an out-of-scope message came closest to. */
  closest: string;
  /** The customer pressed the button with nothing typed. */
  errorEmpty: string;
  /** The message could not be read (far too long, nothing but symbols). */
  errorInput: string;
  /** No model could answer: the files did not load, the servers failed or timed out. */
  errorUnavailable: string;
  /** Anything else. */
  errorGeneric: string;
}

export const DEFAULT_STRINGS: WidgetStrings = {
  label: 'Message',
  placeholder: 'What can we help you with?',
  button: 'Classify',
  loading: 'Loading the model…',
  downloading: 'Loading the model: a one-time download of about {size} MB ({percent}%)…',
  working: 'Classifying…',
  answer: 'Intent:',
  action: 'Suggested:',
  error: 'Sorry, that did not work:',
  outOfScope: DEFAULT_OOS_MESSAGE,
  handoff: DEFAULT_HANDOFF_TEXT,
  closest: 'Closest topics:',
  errorEmpty: 'Please type your question first.',
  errorInput: 'We could not read that message. Please write it again in a few words.',
  errorUnavailable: 'The assistant is not available right now. Please try again in a moment, or contact us.',
  errorGeneric: 'Something went wrong. Please try again.',
};

/**
 * The customer's words for an error, by its code (src/core/errors.ts): never the technical
 * message, which goes to the `banking-intent:error` event and the console for the bank's developers.
 */
export function customerError(code: string, strings: WidgetStrings): string {
  switch (code) {
    case 'invalid_input':
      return strings.errorInput;
    case 'model_unavailable':
    case 'model_file':
    case 'remote_call':
    case 'timeout':
    case 'all_failed':
    case 'privacy_guard':
      return strings.errorUnavailable;
    default:
      return strings.errorGeneric;
  }
}

/** intent → the name customers see (translated, or the bank's own wording). */
export type IntentLabels = Record<string, string>;

/** Checks an `intent-labels` map: every value a non-empty string. */
export function checkIntentLabels(value: unknown): IntentLabels {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidInputError('intent-labels must map intents to display names.');
  const labels: IntentLabels = {};
  for (const [intent, label] of Object.entries(value as Record<string, unknown>)) {
    if (typeof label !== 'string' || label.trim() === '') throw new InvalidInputError(`The display name for "${intent}" must be text.`);
    labels[intent] = label.trim();
  }
  return labels;
}

/** The attributes that set one string each; they win over `strings`, being the more specific. */
export interface StringAttributes {
  'oos-message'?: string;
  'handoff-text'?: string;
}

/** A link the widget offers for an intent. `href` must be http(s) (relative ones are resolved). */
export interface IntentAction {
  label: string;
  href: string;
}

export type ActionMap = Record<string, IntentAction>;

/**
 * Merges partial strings over the defaults (only string values are taken), then the non-empty
 * single-string attributes over those.
 */
export function mergeStrings(value: unknown, attributes: StringAttributes = {}): WidgetStrings {
  if (value !== undefined && value !== null && typeof value !== 'object')
    throw new InvalidInputError('strings must be an object of texts.');
  const merged = { ...DEFAULT_STRINGS };
  for (const key of Object.keys(DEFAULT_STRINGS) as (keyof WidgetStrings)[]) {
    const text = (value as Record<string, unknown> | null | undefined)?.[key];
    if (typeof text === 'string') merged[key] = text;
  }
  const oosMessage = attributes['oos-message']?.trim();
  const handoffText = attributes['handoff-text']?.trim();
  if (oosMessage) merged.outOfScope = oosMessage;
  if (handoffText) merged.handoff = handoffText;
  return merged;
}

/**
 * An on/off attribute such as `oos-escalate`: absent is off; present with no value, `true`, `1`,
 * `yes` or `on` is on; `false`, `0`, `no` or `off` is off (so `oos-escalate="false"` means what it says).
 */
export function readFlagAttribute(name: string, text: string | null | undefined): boolean {
  if (text === null || text === undefined) return false;
  // A bare attribute (`<banking-intent-widget oos-escalate>`) means on, as in HTML.
  const value = text.trim() === '' ? true : parseFlag(text);
  if (value === undefined) throw new InvalidInputError(`The ${name} attribute must be true or false, got "${text}".`);
  return value;
}

/** Checks an action map; an entry whose href is not http(s) is an error, not a silent drop. */
export function checkActions(value: unknown, baseUrl: string): ActionMap {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidInputError('actions must map intents to {label, href}.');
  const actions: ActionMap = {};
  for (const [intent, action] of Object.entries(value as Record<string, unknown>)) {
    const { label, href } = (action ?? {}) as Partial<Record<keyof IntentAction, unknown>>;
    if (typeof label !== 'string' || typeof href !== 'string') {
      throw new InvalidInputError(`The action for "${intent}" needs a label and an href.`);
    }
    const safe = safeHref(href, baseUrl);
    if (!safe) throw new InvalidInputError(`The action for "${intent}" links to "${href}": only http(s) links are allowed.`);
    actions[intent] = { label, href: safe };
  }
  return actions;
}

/** The absolute URL of `href` if it is http(s), else undefined (`javascript:`, `data:`, …). */
export function safeHref(href: string, baseUrl: string): string | undefined {
  return safeLink(href, baseUrl, WEB_SCHEMES);
}

/** Parses a JSON attribute, naming the attribute when it is not JSON. */
export function parseJsonAttribute(name: string, text: string | null): unknown {
  if (text === null || text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidInputError(`The ${name} attribute is not valid JSON.`);
  }
}

/** An absolute folder URL (with a trailing slash) for a base attribute, or the default. */
export function folderUrl(value: string | null, baseUrl: string, fallback: URL): string {
  const url = value ? new URL(value, baseUrl) : fallback;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidInputError(`"${url.href}" is not an http(s) folder.`);
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/** The bank's display name for `intent`, else its id made readable: "lost_or_stolen_card" → "lost or stolen card". */
export function readableIntent(intent: string, labels: IntentLabels = {}): string {
  return labels[intent] ?? intent.replace(/_/g, ' ');
}
