/**
 * What the remote models (vLLM, Gemini) are asked to choose from: the in-scope labels plus the
 * reserved `out_of_scope`, and one sentence saying when to use it. One place, so that both
 * adapters offer the same answers under the same rule.
 */
import { OUT_OF_SCOPE } from '../core/labels';

/** The constraint's enum: `labels` without `out_of_scope` wherever it was, then `out_of_scope` last. */
export function labelsWithOutOfScope(labels: readonly string[]): string[] {
  return [...labels.filter((label) => label !== OUT_OF_SCOPE), OUT_OF_SCOPE];
}

/** When a remote model must answer `out_of_scope` instead of the nearest intent. */
export const OUT_OF_SCOPE_INSTRUCTION =
  `If the message is not about this bank's services, or fits none of the intents, answer "${OUT_OF_SCOPE}": ` +
  'greetings and small talk, other subjects (weather, music, travel, restaurants, films and the like), ' +
  'gibberish, and messages in a language other than English. Never pick the nearest intent for such a message.';
