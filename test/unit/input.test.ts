import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors';
import { MAX_INPUT_CHARS, validateMessage } from '../../src/core/input';

describe('validateMessage', () => {
  it.each([
    ['empty', ''],
    ['spaces and newlines', '  \n\t '],
    ['zero-width characters only', '\u200b\u200c\u200d\ufeff'],
    ['control characters only', '\u0000\u0007\u001b'],
  ])('rejects %s with a clear InvalidInputError', (_, text) => {
    expect(() => validateMessage(text)).toThrow(InvalidInputError);
    expect(() => validateMessage(text)).toThrow(/empty/);
  });

  it('rejects what is not a string', () => {
    expect(() => validateMessage(undefined)).toThrow(/must be text/);
    expect(() => validateMessage(42)).toThrow(InvalidInputError);
  });

  it('rejects text over the hard limit, naming the limit', () => {
    expect(() => validateMessage('a'.repeat(MAX_INPUT_CHARS + 1))).toThrow(/limit is 4,194,304/);
  });

  it('keeps emoji, right-to-left text and markup as text, dropping invisible characters', () => {
    expect(validateMessage(' my card 🙁 ')).toBe('my card 🙁');
    expect(validateMessage('\u202eبطاقتي')).toBe('بطاقتي');
    expect(validateMessage('<img src=x onerror=alert(1)>')).toBe('<img src=x onerror=alert(1)>');
  });
});
