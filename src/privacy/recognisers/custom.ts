/**
 * A bank's own recognisers from configuration (customer-number formats, internal ids): every
 * match is masked and reported under the recogniser's own name. Patterns run on the normalised
 * text, so full-width or Arabic-Indic digits match `\d` like ASCII ones.
 */
import type { Finding, Recogniser } from '../types';
import { ConfigError } from '../../core/errors';

export interface CustomRecogniserConfig {
  /** Category name, reported and used in the placeholder: `member_id` → `[MEMBER_ID]`. */
  name: string;
  /** A regular expression, or its source (compiled with the `u` flag). Matched globally. */
  pattern: RegExp | string;
  /** Optional check on a match (a checksum): false leaves it unmasked. */
  validate?: (match: string) => boolean;
}

const NAME = /^[a-z][a-z0-9_]{0,39}$/i;

/** Builds a recogniser; throws (and so fails closed) on a bad name or pattern. */
export function customRecogniser(config: CustomRecogniserConfig): Recogniser {
  if (!NAME.test(config.name)) throw new ConfigError(`Custom recogniser name "${config.name}" must be letters, digits and _ (at most 40).`);
  const source = config.pattern;
  const pattern =
    typeof source === 'string'
      ? new RegExp(source, 'gu')
      : new RegExp(source.source, source.flags.includes('g') ? source.flags : `${source.flags}g`);
  const category = config.name.toLowerCase();
  return {
    name: category,
    find(text: string, out: Finding[]): void {
      pattern.lastIndex = 0;
      for (const match of text.matchAll(pattern)) {
        if (match[0].length === 0) continue; // matchAll steps over empty matches itself
        if (config.validate && !config.validate(match[0])) continue;
        out.push({ start: match.index, end: match.index + match[0].length, category });
      }
    },
  };
}
