import { InvalidInputError } from './errors';

/**
 * Hard ceiling on what we accept at all: 4 MiB of UTF-16 code units. Anything under it gets an
 * answer (long text is truncated by the model, which says so); anything over is a mistake.
 */
export const MAX_INPUT_CHARS = 4 * 1024 * 1024;

// Control (Cc) and format (Cf) characters: NUL, escape sequences, zero-width joiners, bidi marks.
// They carry no meaning for intent, and zero-width ones would otherwise glue or split words.
const INVISIBLE = /[\p{Cc}\p{Cf}]+/gu;

/**
 * Checks a message before any model sees it. Returns the text with invisible characters replaced
 * by spaces; throws `InvalidInputError` (and no model is called) when nothing readable is left.
 */
export function validateMessage(text: unknown): string {
  if (typeof text !== 'string') {
    throw new InvalidInputError(`The message must be text, got ${text === null ? 'null' : typeof text}.`);
  }
  if (text.length > MAX_INPUT_CHARS) {
    throw new InvalidInputError(
      `The message is ${text.length.toLocaleString('en')} characters long; the limit is ${MAX_INPUT_CHARS.toLocaleString('en')}.`,
    );
  }
  const visible = text.replace(INVISIBLE, ' ').trim();
  if (visible.length === 0) {
    throw new InvalidInputError('The message is empty. Type what the customer wrote.');
  }
  return visible;
}
