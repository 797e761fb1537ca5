/**
 * What a page can configure on `<banking-intent-widget>`: UI strings, the intent → action map and
 * the model settings, each readable from an attribute (JSON for the structured ones) or set as a
 * property. Everything here is validated: a bad value becomes an `InvalidInputError` naming it.
 */
import { InvalidInputError } from '../core/errors';

/** The widget's visible texts; pass some or all of them to translate it. */
export interface WidgetStrings {
  /** The text box's label (also its accessible name). */
  label: string;
  placeholder: string;
  /** The button (also its accessible name). */
  button: string;
  loading: string;
  working: string;
  /** Before the intent in the answer, e.g. "Intent:". */
  answer: string;
  /** Before the suggested action's link, e.g. "Suggested:". */
  action: string;
  /** Before an error's message. */
  error: string;
}

export const DEFAULT_STRINGS: WidgetStrings = {
  label: 'Message',
  placeholder: 'What can we help you with?',
  button: 'Classify',
  loading: 'Loading the model…',
  working: 'Classifying…',
  answer: 'Intent:',
  action: 'Suggested:',
  error: 'Sorry, that did not work:',
};

/** A link the widget offers for an intent. `href` must be http(s) (relative ones are resolved). */
export interface IntentAction {
  label: string;
  href: string;
}

export type ActionMap = Record<string, IntentAction>;

/** Merges partial strings over the defaults; only string values are taken. */
export function mergeStrings(value: unknown): WidgetStrings {
  if (value === undefined || value === null) return { ...DEFAULT_STRINGS };
  if (typeof value !== 'object') throw new InvalidInputError('strings must be an object of texts.');
  const merged = { ...DEFAULT_STRINGS };
  for (const key of Object.keys(DEFAULT_STRINGS) as (keyof WidgetStrings)[]) {
    const text = (value as Record<string, unknown>)[key];
    if (typeof text === 'string') merged[key] = text;
  }
  return merged;
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
  try {
    const url = new URL(href, baseUrl);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
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

/** "lost_or_stolen_card" → "lost or stolen card". */
export function readableIntent(intent: string): string {
  return intent.replace(/_/g, ' ');
}
