/**
 * The one gate every remote path goes through before text leaves the device (vLLM, Gemini, the
 * confidence cascade, benchmark rounds on user text). It masks personal data and fails closed:
 * when masking throws or runs past its budget, nothing is sent and a `PrivacyGuardError` says why.
 *
 * A pure function of text and configuration; the implementation lives in ./mask.ts.
 */
import { PrivacyGuardError } from '../core/errors';
import { maskPersonalData } from './mask';

export interface PrivacyConfig {
  /** Extra recognisers a bank adds (customer-number formats, internal ids). */
  recognisers?: readonly CustomRecogniser[];
  /** Longest masking may take before the text is held back, in ms. Default 1000. */
  budgetMs?: number;
}

/**
 * A bank's own pattern: every match is replaced by `[NAME]` and reported as category `name`
 * (lower-cased; letters, digits and _). A string pattern is compiled with the `u` flag. Patterns
 * run on the normalised text (any-script digits read as 0-9, invisible characters dropped).
 * Keep them free of nested quantifiers: a catastrophic pattern is caught only by `budgetMs`.
 */
export interface CustomRecogniser {
  name: string;
  pattern: RegExp | string;
  /** Optional check on a match, e.g. a checksum: false leaves it unmasked. */
  validate?: (match: string) => boolean;
}

export interface GuardResult {
  /** The text to send: personal data replaced by `[CATEGORY]` placeholders. */
  text: string;
  masked: boolean;
  /** Names of the categories masked (e.g. `card`, `email`), sorted, each once. Never the values. */
  categories: string[];
  /** How many spans of each category were masked. Never the values. */
  counts: Record<string, number>;
}

export function guardOutgoing(text: string, config: PrivacyConfig = {}): GuardResult {
  const budget = config.budgetMs ?? 1000;
  const started = performance.now();
  let result;
  try {
    if (typeof text !== 'string') throw new TypeError('The text to mask is not a string.');
    result = maskPersonalData(text, { recognisers: config.recognisers });
  } catch (error) {
    throw new PrivacyGuardError({ message: 'Personal data could not be masked, so the message was not sent.', cause: error });
  }
  if (performance.now() - started > budget)
    throw new PrivacyGuardError(`Masking took longer than ${budget} ms, so the message was not sent.`);
  return { text: result.text, masked: result.masked, categories: Object.keys(result.counts).sort(), counts: result.counts };
}
