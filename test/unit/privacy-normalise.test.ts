/**
 * The normaliser: recognisers read the text as a person sees it, and what is masked is the
 * original span, so everything outside it stays byte-identical.
 */
import { describe, expect, it } from 'vitest';
import { maskPersonalData } from '../../src/privacy/mask';
import { normalise, originalSpan } from '../../src/privacy/normalise';

describe('normalise', () => {
  it.each([
    ['plain ASCII, unchanged', 'card 4532 0151', 'card 4532 0151'],
    ['full-width digits', '４５３２', '4532'],
    ['Arabic-Indic and Devanagari digits', '٤٥٣٢ १२३', '4532 123'],
    ['mathematical bold digits (astral)', '𝟒𝟓𝟑𝟐', '4532'],
    ['circled and superscript digits', '①²', '12'],
    ['zero-width space, joiner, word joiner, BOM', '45\u200b32\u200d01\u206051\ufeff', '45320151'],
    ['soft hyphen and bidi marks', '4532\u00ad0151\u202e1283\u200e', '453201511283'],
    ['no-break, thin and ideographic spaces', '4532\u00a00151\u20091283\u30000366', '4532 0151 1283 0366'],
    ['dashes and the minus sign', '12\u201334\u201456\u221278', '12-34-56-78'],
    ['combining marks (strike-through on digits)', '4\u03365\u03363\u0336', '453'],
    ['keycap digits', '4\ufe0f\u20e35\ufe0f\u20e3', '45'],
    ['Cyrillic look-alikes inside a Latin word', 'p\u0430ssw\u043erd', 'password'],
    ['O and l inside a digit token', '4532 O151 l283', '4532 0151 1283'],
  ])('%s', (_, input, expected) => {
    expect(normalise(input).text).toBe(expected);
  });

  it.each([
    ['a Russian word (no Latin letters in it)', 'пароль'],
    ['a word with O and l in it', 'Old school 2024'],
    ['accented Latin letters', 'José Müller, Åsa'],
    ['CJK', '我的卡被冻结了'],
  ])('leaves %s as it is', (_, input) => {
    expect(normalise(input).text).toBe(input);
  });

  it('maps a span of the normalised text back to the original characters', () => {
    const original = 'x \u200b４５\u00ad３２ y';
    const norm = normalise(original);
    expect(norm.text).toBe('x 4532 y');
    const start = norm.text.indexOf('4532');
    const [from, to] = originalSpan(norm, start, start + 4);
    expect(original.slice(from, to)).toBe('４５\u00ad３２');
  });

  it('maps spans after astral characters and expansions', () => {
    const original = '😀 ½ 𝟒𝟓𝟑𝟐 ok';
    const norm = normalise(original);
    const start = norm.text.indexOf('4532');
    const [from, to] = originalSpan(norm, start, start + 4);
    expect(original.slice(from, to)).toBe('𝟒𝟓𝟑𝟐');
  });
});

describe('masking replaces original spans only', () => {
  it.each([
    ['full-width card between emoji', '😀 ４５３２ ０１５１ １２８３ ０３６６ 😀', '😀 [CARD] 😀'],
    ['a card split by zero-width spaces', 'card 4532\u200b0151\u200b1283\u200b0366, thanks', 'card [CARD], thanks'],
    ['an Arabic-Indic PIN', 'my pin is ٣٨٤١ ok', 'my pin is [PIN] ok'],
    ['markup and odd whitespace around', '<b>\u00a0IBAN:\tGB82 WEST 1234 5698 7654 32</b>\n', '<b>\u00a0IBAN:\t[IBAN]</b>\n'],
  ])('%s', (_, input, expected) => {
    expect(maskPersonalData(input).text).toBe(expected);
  });

  it('keeps text with invisible and odd characters byte-identical when nothing is masked', () => {
    const input = 'Card\u00a0declined \u200bagain?\u00ad ½ price — 10:30 on 2024-03-15, ①②③ 😀\r\n\tok';
    expect(maskPersonalData(input).text).toBe(input);
  });
});
