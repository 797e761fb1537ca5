/**
 * Email addresses, plain or written to dodge filters: "john.smith@gmail.com",
 * "john dot smith at gmail dot com", "john.smith(at)gmail.com", "john [at] gmail [dot] com",
 * "JOHN AT GMAIL DOT COM", "john.smith @ gmail . com".
 *
 * Each "at" marker is found with one scan; the local part is read backwards and the domain
 * forwards from it, at most 64 characters of each, so the work per marker is bounded.
 * A bare word "at" ("a payment at amazon.com") only counts when something else says email: the
 * word "dot", a local part with a dot, digit or underscore, a known mail provider, or the word
 * "email" just before.
 */
import type { TextScan } from '../scan';
import type { Finding, Recogniser } from '../types';

// The "at" markers: "@", "(at)", "[at]", "at", "at sign". The words come from the shared scan.
const AT_WORDS = ['at', 'at sign', 'at symbol', 'at-sign'];
const BRACKET_BEFORE = /[([{<][ \t]*$/;
const DOMAIN_AHEAD = /[ \t]*[)\]}>]|[ \t]{1,3}[\p{L}\p{N}-]{1,64}(?:\.[\p{L}\p{N}]|[ \t]+\.[ \t]|[ \t]*[([{<]|[ \t]+dot[ \t])/iuy;
const BRACKET_AFTER = /^[ \t]*[)\]}>]/;

/** Every "at" marker in the text, in order: where it starts and what it is as written. */
function markers(text: string, scan: TextScan): { index: number; marker: string }[] {
  const byIndex = new Map<number, string>();
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    const before = BRACKET_BEFORE.exec(text.slice(Math.max(0, at - 3), at));
    const after = BRACKET_AFTER.exec(text.slice(at + 1, at + 4));
    if (before && after) byIndex.set(at - before[0].length, text.slice(at - before[0].length, at + 1 + after[0].length));
    else byIndex.set(at, '@');
  }
  for (const hit of scan.hits('email')) {
    // Most "at"s are the word ("at the ATM"): only one followed by a word and a dot, written or
    // not, or by a bracket, can start a domain.
    DOMAIN_AHEAD.lastIndex = hit.index + hit.keyword.length;
    if (!DOMAIN_AHEAD.test(text)) continue;
    const length = hit.keyword === 'at' ? 2 : hit.keyword.length;
    const written = text.slice(hit.index, hit.index + length);
    const before = BRACKET_BEFORE.exec(text.slice(Math.max(0, hit.index - 3), hit.index));
    const after = BRACKET_AFTER.exec(text.slice(hit.index + 2, hit.index + 5));
    if (hit.keyword === 'at' && before && after) {
      byIndex.set(hit.index - before[0].length, text.slice(hit.index - before[0].length, hit.index + 2 + after[0].length));
    } else if ((byIndex.get(hit.index)?.length ?? 0) < length && /^at(?:[ \t-]+(?:sign|symbol))?$/i.test(written)) {
      byIndex.set(hit.index, written);
    }
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([index, marker]) => ({ index, marker }));
}

const LOCAL_CHAR = /[\p{L}\p{N}\p{M}_%+'-]/u;
const DOMAIN_CHAR = /[\p{L}\p{N}\p{M}-]/u;
// A written dot between parts, matched at the start (forwards) or the end (backwards) of a slice.
const DOT_AHEAD = /^(?:\.(?=[\p{L}\p{N}])|[ \t]+\.[ \t]+|[ \t]*[([{<][ \t]*(?:dot|\.)[ \t]*[)\]}>][ \t]*|[ \t]+dot[ \t]+|-dot-|_dot_)/iu;
const DOT_BEHIND = /(?:(?<=[\p{L}\p{N}])\.|[ \t]+\.[ \t]+|[ \t]*[([{<][ \t]*(?:dot|\.)[ \t]*[)\]}>][ \t]*|[ \t]+dot[ \t]+)$/iu;
const TLD = /^\p{L}{2,24}$/u;
// For the bare word "at": only well-known endings count.
const COMMON_TLDS = new Set(
  'com net org edu gov io co uk de fr es it nl ie be ch at eu info biz me us ca au pl pt se no dk fi cz gr hu ro lu app dev email mail online'.split(
    ' ',
  ),
);
const MAIL_PROVIDERS =
  /^(?:gmail|googlemail|yahoo|ymail|hotmail|outlook|live|msn|icloud|me|mac|aol|proton|protonmail|pm|gmx|web|mail|yandex|zoho|btinternet|sky|virginmedia|talktalk|orange|free|wanadoo|laposte|libero|alice|tiscali|telefonica|movistar|ziggo|kpnmail|eircom|t-online|freenet|seznam|wp|o2|onet|interia)$/i;
const EMAIL_WORD = /(?:e-?mail|mail|address|contact|reach me|write to)\W{0,12}(?:\w+\W{1,3}){0,3}$/i;
const LIMIT = 64;

function readLocalBackwards(text: string, end: number): { start: number; dotted: boolean } | null {
  let i = end;
  let start = -1;
  let dotted = false;
  for (let parts = 0; parts < 8; parts++) {
    let j = i;
    while (j > 0 && i - j < LIMIT && LOCAL_CHAR.test(text[j - 1]!)) j--;
    if (j === i) break;
    start = j;
    const before = text.slice(Math.max(0, j - 12), j);
    const dot = DOT_BEHIND.exec(before);
    if (!dot || j - dot[0].length <= 0 || !LOCAL_CHAR.test(text[j - dot[0].length - 1]!)) break;
    dotted = true;
    i = j - dot[0].length;
  }
  return start < 0 ? null : { start, dotted };
}

function readDomainForwards(text: string, from: number, bareAt: boolean): { end: number; labels: string[]; writtenDot: boolean } | null {
  const labels: string[] = [];
  const ends: number[] = [];
  let writtenDot = false;
  let i = from;
  for (let parts = 0; parts < 8; parts++) {
    let j = i;
    while (j < text.length && j - i < LIMIT && DOMAIN_CHAR.test(text[j]!)) j++;
    if (j === i) break;
    labels.push(text.slice(i, j));
    ends.push(j);
    const dot = DOT_AHEAD.exec(text.slice(j, j + 12));
    if (!dot) break;
    if (dot[0] !== '.') writtenDot = true;
    i = j + dot[0].length;
  }
  // Drop trailing labels until the last one is a top-level domain ("gmail dot com and" ends at com).
  while (labels.length >= 2) {
    const tld = labels[labels.length - 1]!;
    if (TLD.test(tld) && (!bareAt || COMMON_TLDS.has(tld.toLowerCase()))) break;
    labels.pop();
    ends.pop();
  }
  return labels.length >= 2 ? { end: ends[ends.length - 1]!, labels, writtenDot } : null;
}

export const email: Recogniser = {
  name: 'email',
  keywords: AT_WORDS,
  find(text: string, out: Finding[], scan: TextScan): void {
    for (const { index, marker: written } of markers(text, scan)) {
      const marker = { index, 0: written };
      const bareAt = /^at$/i.test(marker[0]);
      const spelledAt = /^at[ \t-]+(?:sign|symbol)$/i.test(marker[0]);
      let localEnd = marker.index;
      while (localEnd > 0 && marker.index - localEnd < 3 && (text[localEnd - 1] === ' ' || text[localEnd - 1] === '\t')) localEnd--;
      if ((bareAt || spelledAt) && localEnd === marker.index) continue;
      const local = readLocalBackwards(text, localEnd);
      if (!local) continue;
      let domainStart = marker.index + marker[0].length;
      while (domainStart < text.length && domainStart - marker.index - marker[0].length < 3 && /[ \t]/.test(text[domainStart]!))
        domainStart++;
      if ((bareAt || spelledAt) && domainStart === marker.index + marker[0].length) continue;
      const domain = readDomainForwards(text, domainStart, bareAt);
      if (!domain) continue;
      if (bareAt) {
        const localText = text.slice(local.start, localEnd);
        const evidence =
          domain.writtenDot ||
          local.dotted ||
          /[\d_]/.test(localText) ||
          MAIL_PROVIDERS.test(domain.labels[0]!) ||
          EMAIL_WORD.test(text.slice(Math.max(0, local.start - 40), local.start));
        if (!evidence) continue;
      }
      out.push({ start: local.start, end: domain.end, category: 'email' });
    }
  },
};
