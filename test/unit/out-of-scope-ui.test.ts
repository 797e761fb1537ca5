/** The out-of-scope answer's words and link on the site: from the build's env, each with its default, links checked. */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors';
import { readHandoff, readSiteConfig } from '../../src/ui/config';
import { DEFAULT_HANDOFF_TEXT, DEFAULT_HANDOFF_URL, DEFAULT_OOS_MESSAGE, isOutOfScope } from '../../src/ui/out-of-scope';

const PAGE = 'https://intents.bank.example/app/?model=custom';

describe("the site's out-of-scope answer", () => {
  it('says "I can only help with banking questions." with a link to #contact by default', () => {
    expect(readHandoff({}, PAGE)).toEqual({ message: DEFAULT_OOS_MESSAGE, linkText: DEFAULT_HANDOFF_TEXT, href: DEFAULT_HANDOFF_URL });
    expect(DEFAULT_OOS_MESSAGE).toBe('I can only help with banking questions.');
    expect(readSiteConfig(PAGE, '/app/', { VITE_OOS_MESSAGE: '  ' }).handoff.message).toBe(DEFAULT_OOS_MESSAGE);
  });

  it("takes the bank's words and link from VITE_OOS_MESSAGE, VITE_HANDOFF_TEXT and VITE_HANDOFF_URL", () => {
    const env = {
      VITE_OOS_MESSAGE: 'We only answer banking questions here.',
      VITE_HANDOFF_TEXT: 'Chat with an adviser',
      VITE_HANDOFF_URL: '/support/chat',
    };
    expect(readSiteConfig(PAGE, '/app/', env).handoff).toEqual({
      message: 'We only answer banking questions here.',
      linkText: 'Chat with an adviser',
      href: 'https://intents.bank.example/support/chat',
    });
    expect(readHandoff({ VITE_HANDOFF_URL: 'mailto:help@bank.example' }, PAGE).href).toBe('mailto:help@bank.example');
  });

  it('refuses a VITE_HANDOFF_URL a customer could not safely follow, naming it', () => {
    expect(() => readHandoff({ VITE_HANDOFF_URL: 'javascript:alert(1)' }, PAGE)).toThrow(InvalidInputError);
    expect(() => readHandoff({ VITE_HANDOFF_URL: 'javascript:alert(1)' }, PAGE)).toThrow(/VITE_HANDOFF_URL/);
  });

  it('recognises the out-of-scope answer by its reserved label only', () => {
    expect(isOutOfScope({ intent: 'out_of_scope' })).toBe(true);
    expect(isOutOfScope({ intent: 'card_arrival' })).toBe(false);
  });
});
