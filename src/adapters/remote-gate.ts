/**
 * The one gate between a customer's message and a remote model. Every remote adapter (vLLM,
 * Gemini) calls `gateOutgoing` on the validated message and sends only what it returns, so the
 * CLI, the site, the widget, the confidence cascade and benchmark rounds all mask the same way:
 * they all reach a remote model through an adapter's `classify`.
 *
 * Fail closed: when the guard throws, runs out of time or returns something that is not a masked
 * text, a `PrivacyGuardError` is thrown before any request exists. The pipeline treats it as that
 * adapter's failure (no retry, no circuit-breaker penalty) and falls back.
 */
import { IntentError, PrivacyGuardError } from '../core/errors';
import { guardOutgoing, type PrivacyConfig } from '../privacy/guard';

export type { PrivacyConfig } from '../privacy/guard';

export interface GatedText {
  /** What may leave the device: personal data replaced by placeholders. */
  text: string;
  masked: boolean;
  /** Names of the masked categories (`card`, `email`, ...), sorted, each once; never the values. */
  categories: string[];
}

/** Masks `message` for `service` (named in errors), or throws `PrivacyGuardError`: then nothing may be sent. */
export function gateOutgoing(message: string, service: string, config?: PrivacyConfig): GatedText {
  let result: unknown;
  try {
    result = guardOutgoing(message, config);
  } catch (error) {
    if (PrivacyGuardError.isInstance(error)) throw error;
    // Any other throw is a bug in the guard: still nothing leaves.
    const detail = IntentError.isInstance(error) ? `: ${error.message}` : '';
    throw new PrivacyGuardError({
      message: `Personal data could not be masked${detail}, so the message was not sent to ${service}.`,
      cause: error,
    });
  }
  if (!isGuardResult(result)) {
    throw new PrivacyGuardError(`The privacy guard gave no masked text, so the message was not sent to ${service}.`);
  }
  return { text: result.text, masked: result.masked || result.categories.length > 0, categories: [...new Set(result.categories)].sort() };
}

function isGuardResult(value: unknown): value is GatedText {
  if (typeof value !== 'object' || value === null) return false;
  const { text, masked, categories } = value as Partial<GatedText>;
  return (
    typeof text === 'string' &&
    text.trim() !== '' &&
    typeof masked === 'boolean' &&
    Array.isArray(categories) &&
    categories.every((category) => typeof category === 'string')
  );
}
