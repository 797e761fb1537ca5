/**
 * Out-of-scope answers in the site and the widget alike: the words a customer sees ("I can only
 * help with banking questions.") and the link to a person, which a bank replaces (the site through
 * build env, the widget through attributes) and which are checked here, once; and the threshold
 * as a person types it. No DOM and no `import.meta.env`: the widget's library build imports this too.
 */
import { checkOosThreshold } from '../core/config';
import { InvalidInputError } from '../core/errors';
import { OUT_OF_SCOPE } from '../core/labels';
import type { Prediction } from '../core/prediction';

export const DEFAULT_OOS_MESSAGE = 'I can only help with banking questions.';
export const DEFAULT_HANDOFF_TEXT = 'Talk to a person';
/** A section of the embedding page: every bank page has some way to reach a person; it names its own. */
export const DEFAULT_HANDOFF_URL = '#contact';

/** What an out-of-scope answer shows: the words, then a link to a person. */
export interface Handoff {
  message: string;
  linkText: string;
  /** A checked link: http(s), mailto:, tel: or an in-page `#section` (see `handoffUrl`). */
  href: string;
}

export const WEB_SCHEMES: readonly string[] = ['http:', 'https:'];
/** Where a person can be reached: a web page, an email address, a phone number. */
export const HANDOFF_SCHEMES: readonly string[] = [...WEB_SCHEMES, 'mailto:', 'tel:'];

export function isOutOfScope(prediction: Pick<Prediction, 'intent'>): boolean {
  return prediction.intent === OUT_OF_SCOPE;
}

/** The absolute URL of `href` if its scheme is one of `schemes`, else undefined (`javascript:`, `data:`, …). */
export function safeLink(href: string, baseUrl: string, schemes: readonly string[]): string | undefined {
  try {
    const url = new URL(href, baseUrl);
    return schemes.includes(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The hand-off link for `href` (undefined: the default). A `#section` stays as written, so the
 * link stays in the page whatever its address has become since; anything else must be http(s),
 * mailto: or tel:. `setting` names the source in the error, e.g. `VITE_HANDOFF_URL`.
 */
export function handoffUrl(href: string | undefined, baseUrl: string, setting: string): string {
  const text = href?.trim() || DEFAULT_HANDOFF_URL;
  const safe = text.startsWith('#') ? text : safeLink(text, baseUrl, HANDOFF_SCHEMES);
  if (safe === undefined) {
    throw new InvalidInputError(`The ${setting} "${text}" is not a link a customer can follow: use http(s), mailto:, tel: or #section.`);
  }
  return safe;
}

/** A threshold as typed (a field, an attribute): 0 to 1, 0 = rejection off; empty = undefined, the model's own. */
export function readOosThreshold(text: string | null | undefined): number | undefined {
  const trimmed = text?.trim();
  if (!trimmed) return undefined;
  return checkOosThreshold(Number(trimmed), trimmed);
}
