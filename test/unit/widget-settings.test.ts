/** The widget's attribute and property parsing: links stay http(s), bad input is a clear error. */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors';
import { DEFAULT_HANDOFF_TEXT, DEFAULT_OOS_MESSAGE, handoffUrl, readOosThreshold } from '../../src/ui/out-of-scope';
import {
  checkActions,
  DEFAULT_STRINGS,
  folderUrl,
  mergeStrings,
  parseJsonAttribute,
  readFlagAttribute,
  safeHref,
} from '../../src/widget/settings';

const PAGE = 'https://portal.bank.example/help/';

describe('widget settings', () => {
  it.each([
    ['/cards/block', 'https://portal.bank.example/cards/block'],
    ['https://other.example/x', 'https://other.example/x'],
    ['javascript:alert(1)', undefined],
    ['data:text/html,<script>alert(1)</script>', undefined],
    ['JaVaScRiPt:alert(1)', undefined],
    ['vbscript:x', undefined],
  ])('safeHref(%s) → %s', (href, expected) => {
    expect(safeHref(href, PAGE)).toBe(expected);
  });

  it('accepts an action map and resolves relative links against the page', () => {
    expect(checkActions({ card_arrival: { label: 'Track your card', href: '../track' } }, PAGE)).toEqual({
      card_arrival: { label: 'Track your card', href: 'https://portal.bank.example/track' },
    });
    expect(checkActions(undefined, PAGE)).toEqual({});
  });

  it.each([
    [[], /must map intents/],
    [{ card_arrival: { label: 'x' } }, /needs a label and an href/],
    [{ card_arrival: { label: 'x', href: 'javascript:alert(1)' } }, /only http\(s\) links/],
  ])('refuses a bad action map with a message (%#)', (value, message) => {
    expect(() => checkActions(value, PAGE)).toThrow(InvalidInputError);
    expect(() => checkActions(value, PAGE)).toThrow(message);
  });

  it('merges translated strings over the defaults, taking only texts', () => {
    const strings = mergeStrings({ label: 'Nachricht', button: 'Einordnen', answer: 42 });
    expect(strings).toMatchObject({ label: 'Nachricht', button: 'Einordnen', answer: DEFAULT_STRINGS.answer });
    expect(() => mergeStrings('Nachricht')).toThrow(/strings must be an object/);
  });

  it('names the attribute whose JSON is broken, and reads an empty one as unset', () => {
    expect(() => parseJsonAttribute('actions', "{'card_arrival': 1}")).toThrow(/The actions attribute is not valid JSON/);
    expect(parseJsonAttribute('actions', '  ')).toBeUndefined();
  });

  it('makes folder URLs absolute with a trailing slash, http(s) only', () => {
    const fallback = new URL('https://cdn.bank.example/widget/models/custom/');
    expect(folderUrl(null, PAGE, fallback)).toBe(fallback.href);
    expect(folderUrl('/m/custom', PAGE, fallback)).toBe('https://portal.bank.example/m/custom/');
    expect(() => folderUrl('file:///etc/', PAGE, fallback)).toThrow(/not an http\(s\) folder/);
  });

  describe('out-of-scope attributes', () => {
    it("oos-threshold: 0 to 1, 0 turns rejection off, absent or empty is the model's own", () => {
      expect(readOosThreshold('0.35')).toBe(0.35);
      expect(readOosThreshold(' 0 ')).toBe(0);
      expect(readOosThreshold('1')).toBe(1);
      expect(readOosThreshold(null)).toBeUndefined();
      expect(readOosThreshold('  ')).toBeUndefined();
    });

    it.each(['1.5', '-0.1', 'high', '0,3', 'NaN'])('oos-threshold="%s" is refused with a message', (text) => {
      expect(() => readOosThreshold(text)).toThrow(InvalidInputError);
      expect(() => readOosThreshold(text)).toThrow(/out-of-scope threshold must be a number between 0 and 1/);
    });

    it('oos-escalate: absent is off; present, true or 1 is on; false or 0 is off; anything else is an error', () => {
      expect(readFlagAttribute('oos-escalate', null)).toBe(false);
      expect(readFlagAttribute('oos-escalate', '')).toBe(true);
      expect(readFlagAttribute('oos-escalate', 'TRUE')).toBe(true);
      expect(readFlagAttribute('oos-escalate', '1')).toBe(true);
      expect(readFlagAttribute('oos-escalate', 'false')).toBe(false);
      expect(readFlagAttribute('oos-escalate', '0')).toBe(false);
      expect(() => readFlagAttribute('oos-escalate', 'maybe')).toThrow(/The oos-escalate attribute must be true or false/);
    });

    it('the words are translatable strings; oos-message and handoff-text win over strings', () => {
      expect(mergeStrings(undefined)).toMatchObject({ outOfScope: DEFAULT_OOS_MESSAGE, handoff: DEFAULT_HANDOFF_TEXT });
      const translated = { outOfScope: 'Ich helfe nur bei Bankfragen.', handoff: 'Mit einer Person sprechen', closest: 'Am nächsten:' };
      expect(mergeStrings(translated)).toMatchObject(translated);
      expect(mergeStrings(translated, { 'oos-message': 'Only banking here.', 'handoff-text': '  ' })).toMatchObject({
        outOfScope: 'Only banking here.',
        handoff: 'Mit einer Person sprechen',
      });
      expect(mergeStrings(undefined, { 'handoff-text': 'Call us' }).handoff).toBe('Call us');
    });

    it.each([
      [undefined, '#contact'],
      ['', '#contact'],
      ['#support', '#support'],
      ['/contact?via=widget', 'https://portal.bank.example/contact?via=widget'],
      ['https://bank.example/help', 'https://bank.example/help'],
      ['mailto:help@bank.example', 'mailto:help@bank.example'],
      ['tel:+441234567890', 'tel:+441234567890'],
    ])('handoff-url %s → %s', (href, expected) => {
      expect(handoffUrl(href, PAGE, 'handoff-url attribute')).toBe(expected);
    });

    it.each(['javascript:alert(1)', ' JavaScript:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<b>x</b>', 'ftp://bank.example/'])(
      'handoff-url %s is refused, naming the attribute',
      (href) => {
        expect(() => handoffUrl(href, PAGE, 'handoff-url attribute')).toThrow(InvalidInputError);
        expect(() => handoffUrl(href, PAGE, 'handoff-url attribute')).toThrow(
          /handoff-url attribute .* is not a link a customer can follow/,
        );
      },
    );
  });
});
