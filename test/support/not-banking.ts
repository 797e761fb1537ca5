/**
 * The stand-in servers' one rule for `out_of_scope`, so that both answer it alike: when the request
 * offers `out_of_scope` and the customer's message holds none of the banking words below, the
 * message is "clearly not banking" (small talk, weather, restaurants, gibberish, most other
 * languages). A test double's rule, not a classifier: a banking question worded without any of
 * these words is answered `out_of_scope` too.
 */
import { OUT_OF_SCOPE } from '../../src/core/labels';

/** Whole words (and their inflections) that make a message about banking for the stand-ins. */
const BANKING_WORDS =
  /\b(?:accounts?|atms?|balances?|bank\w*|cards?|cash|charg\w*|currenc\w*|deposit\w*|exchange\w*|fees?|iban|loans?|money|pay\w*|pins?|refund\w*|salary|statements?|lost|stolen|top.?up\w*|transaction\w*|transfer\w*|withdr\w*|wallets?|arriv\w*|deliver\w*)\b/i;

export function isClearlyNotBanking(message: string): boolean {
  return !BANKING_WORDS.test(message);
}

/** `out_of_scope` when `offered` holds it and `message` is clearly not banking; else undefined. */
export function outOfScopeAnswer(message: string, offered: readonly string[]): typeof OUT_OF_SCOPE | undefined {
  return offered.includes(OUT_OF_SCOPE) && isClearlyNotBanking(message) ? OUT_OF_SCOPE : undefined;
}
