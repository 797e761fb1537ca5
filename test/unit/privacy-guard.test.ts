/**
 * guardOutgoing, the one gate before text leaves the device: a bank's own recognisers, failing
 * closed (nothing is returned to send when masking fails), and long or hostile input.
 */
import { describe, expect, it } from 'vitest';
import { PrivacyGuardError } from '../../src/core/errors';
import { guardOutgoing, type CustomRecogniser } from '../../src/privacy/guard';

describe('guardOutgoing', () => {
  it('returns the masked text, whether anything was masked, and which categories', () => {
    const result = guardOutgoing('my pin is 4821 and my email is jo@example.com');
    expect(result).toEqual({
      text: 'my pin is [PIN] and my email is [EMAIL]',
      masked: true,
      categories: ['email', 'pin'],
      counts: { pin: 1, email: 1 },
    });
  });

  it('leaves text without personal data exactly as it is', () => {
    const text = 'I was charged £1,250.00 twice on 15/03/2024 at 10:30 (3.5% fee)';
    expect(guardOutgoing(text)).toEqual({ text, masked: false, categories: [], counts: {} });
  });
});

describe("a bank's own recognisers", () => {
  const memberId: CustomRecogniser = { name: 'member_id', pattern: /\bMBR-\d{5}\b/ };

  it('masks matches under their own name, which wins over a built-in category', () => {
    const result = guardOutgoing('member MBR-12345 here, and MBR-99999', { recognisers: [memberId] });
    expect(result.text).toBe('member [MEMBER_ID] here, and [MEMBER_ID]');
    expect(result.categories).toEqual(['member_id']);
  });

  it('accepts a pattern as a string and reads the normalised text (any-script digits)', () => {
    const result = guardOutgoing('client ＣＬ-４８２ ok', { recognisers: [{ name: 'client_code', pattern: String.raw`CL-\d{3}` }] });
    expect(result.text).toBe('client [CLIENT_CODE] ok');
  });

  it('skips a match its validate function rejects', () => {
    const even: CustomRecogniser = { name: 'even_ref', pattern: /R\d{4}/, validate: (m) => Number(m.slice(1)) % 2 === 0 };
    expect(guardOutgoing('R1234 and R1235', { recognisers: [even] }).text).toBe('[EVEN_REF] and R1235');
  });

  it('copes with a pattern that matches the empty string', () => {
    expect(guardOutgoing('abc', { recognisers: [{ name: 'nothing', pattern: /x*/ }] }).text).toBe('abc');
  });
});

describe('failing closed: when masking fails, no text is returned to send', () => {
  const secret = 'my pin is 4821';
  it.each<[string, CustomRecogniser]>([
    ['a pattern that is not a valid regular expression', { name: 'broken', pattern: '([unclosed' }],
    [
      'a recogniser whose validate function throws',
      {
        name: 'thrower',
        pattern: /\d+/,
        validate: () => {
          throw new Error('boom');
        },
      },
    ],
    ['a recogniser with a name that cannot be a placeholder', { name: 'bad name!', pattern: /x/ }],
  ])('%s throws PrivacyGuardError', (_, recogniser) => {
    expect(() => guardOutgoing(secret, { recognisers: [recogniser] })).toThrow(PrivacyGuardError);
  });

  it('throws PrivacyGuardError when masking takes longer than the budget', () => {
    expect(() => guardOutgoing('4532 0151 1283 0366 '.repeat(20_000), { budgetMs: 0 })).toThrow(PrivacyGuardError);
  });

  it('throws PrivacyGuardError for something that is not a string', () => {
    expect(() => guardOutgoing(42 as unknown as string)).toThrow(PrivacyGuardError);
  });

  it('never puts the text in the error message', () => {
    try {
      guardOutgoing(secret, { recognisers: [{ name: 'broken', pattern: '(' }] });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PrivacyGuardError);
      expect((error as Error).message).not.toContain('4821');
    }
  });
});

// Long and hostile input finishes (linear-time recognisers) and is masked correctly. Timing is
// measured by `npm run privacy:report`, not asserted here.
describe('long and hostile input', () => {
  const MIB = 1024 * 1024;
  const generous = { budgetMs: 120_000 };
  const noDigitRun = (text: string): boolean => !/\d{5}/.test(text.replace(/\D+/g, (gap) => (gap.length > 1 ? ' ' : '')));

  it.each([
    ['one letter repeated', 'a'.repeat(MIB)],
    ['capitals and spaces', 'A '.repeat(MIB / 2)],
    ['"at " repeated', 'at '.repeat(MIB / 3)],
    ['"a@" repeated', 'a@'.repeat(MIB / 2)],
    ['"a." repeated', 'a.'.repeat(MIB / 2)],
    ['"my pin is " repeated', 'my pin is '.repeat(MIB / 10)],
    ['"Mr " repeated', 'Mr '.repeat(MIB / 3)],
    ['"I live at " repeated', 'I live at '.repeat(MIB / 10)],
    ['spaces', ' '.repeat(MIB)],
    ['"(" repeated', '('.repeat(MIB)],
  ])('leaves %s unchanged', (_, text) => {
    expect(guardOutgoing(text, generous).text).toBe(text);
  });

  it.each([
    ['digits', '7'.repeat(MIB)],
    ['digit groups', '1234 '.repeat(MIB / 5)],
    ['digits and dots', '1.'.repeat(MIB / 2)],
    ['digits and dashes', '12-'.repeat(MIB / 3)],
    ['an amount-like run', '100 100 '.repeat(MIB / 8)],
    ['number words', 'one '.repeat(MIB / 4)],
    ['a card after a long benign prefix', 'x '.repeat(MIB / 2) + 'card 4532 0151 1283 0366'],
  ])('masks %s leaving no run of 5 digits', (_, text) => {
    const masked = guardOutgoing(text, generous).text;
    expect(noDigitRun(masked)).toBe(true);
  });

  it('masks a card at the end of a 1 MiB message', () => {
    const text = 'I was charged £1,250.00 on 15/03/2024. '.repeat(MIB / 40) + 'card 4532 0151 1283 0366';
    const masked = guardOutgoing(text, generous).text;
    expect(masked.endsWith('card [CARD]')).toBe(true);
    expect(masked.slice(0, -'card [CARD]'.length)).toBe(text.slice(0, -'card 4532 0151 1283 0366'.length));
  });
});
