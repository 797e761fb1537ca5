/** The widget's attribute and property parsing: links stay http(s), bad input is a clear error. */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors';
import { checkActions, DEFAULT_STRINGS, folderUrl, mergeStrings, parseJsonAttribute, safeHref } from '../../src/widget/settings';

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
});
