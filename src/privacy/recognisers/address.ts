/**
 * Addresses and postcodes.
 *
 * - Context rules: "I live at ...", "my address is ...", "address: ..." mask the rest of the
 *   clause; "moved to ...", "send it to ..." only when what follows looks like an address (a
 *   house number, a street word or a postcode), so "I moved to France" stays.
 * - Street patterns without context, in English, German, Dutch, French, Spanish and Italian
 *   ("221B Baker Street", "Hauptstraße 5", "12 rue de la Paix", "Calle Mayor 5", "Via Roma 10"),
 *   run on over ", City" and postcodes that follow.
 * - Postcodes of distinctive shape anywhere (UK, Irish Eircode, Canada); US ZIP, German, French
 *   and Dutch codes only after a street or a city and state ("Springfield, IL 62704").
 */
import { anyCaseList, keywordPattern } from '../patterns';
import { CLAUSE_WORDS, isCommonWord } from '../words';
import { type ContextMatch, type ContextRule } from './context';
import { runsNextToLetters, type TextScan } from '../scan';
import type { Finding, Recogniser } from '../types';

const STREET_ES_IT_WORDS = [
  ...'calle avenida avda paseo plaza pza camino carrer carretera ronda travesía travesia glorieta'.split(' '),
  ...'via viale piazza corso largo vicolo piazzale strada contrada lungomare'.split(' '),
];
const STREET_SUFFIX_DE_NL = anyCaseList(
  'straße strasse str. weg gasse platz allee damm ufer chaussee steig pfad straat laan gracht plein kade singel dijk',
);
const CAP_WORD = String.raw`\p{Lu}[\p{L}\p{M}'’.-]{0,30}`;
const LOWER_LINK = String.raw`(?:de|du|des|la|le|les|d['’]|l['’]|del|de[ \t]+la|los|las|el|di|della|dei|degli|delle|san|santa|van|der|den|of|the)`;
const HOUSE = String.raw`\d{1,5}[a-zA-Z]?(?:[-/]\d{1,5}[a-zA-Z]?)?`;
const UK_POSTCODE = String.raw`(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?[ \t]?\d[ABD-HJLNP-UW-Z]{2}|GIR[ \t]?0AA)`;
const EIRCODE = String.raw`(?:[AC-FHKNPRTV-Y]\d{2}|D6W)[ \t]?(?=[0-9AC-FHKNPRTV-Y]{0,3}\d)[0-9AC-FHKNPRTV-Y]{4}`;
const CA_POSTCODE = String.raw`[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ \t]?\d[ABCEGHJ-NPRSTV-Z]\d`;
const OTHER_POSTCODE = String.raw`(?:\d{5}(?:-\d{4})?|\d{4}[ \t]?[A-Z]{2}|\d{4}|\d{2}-\d{3})`;
// What may follow a street: ", Leeds", "LS1 4AB", "75001 Paris", "New York, NY 10001".
const TAIL_PART = String.raw`(?:,?[ \t]{1,3}(?:\d{1,3}[ºª°][ \t]?[A-Z]?(?![\p{L}])|${UK_POSTCODE}|${EIRCODE}|${OTHER_POSTCODE}|[A-Z]{2}(?=[ \t]+\d{5})|${CAP_WORD}(?:[ \t]${CAP_WORD}){0,2}))`;
const TAIL = `${TAIL_PART}{0,5}`;
const BOUNDARY_END = String.raw`(?![\p{L}\p{N}])`;

// Each street shape is found from its rarest part, so the scans stay fast on long texts: a
// digit (English, French), a street-name suffix (German, Dutch), a street word before the name
// (Spanish, Italian), ", ST 12345" (US).
const EN_WORDS =
  'street st road rd avenue ave av lane ln drive dr close cl way place pl court ct crescent cres terrace tce gardens gdns grove gr boulevard blvd square sq hill park row mews walk parade green rise view vale wharf quay circus broadway highway hwy parkway pkwy path trail alley embankment esplanade promenade';
const FULL_EN_WORDS = new Set(
  'street road drive avenue lane close crescent terrace gardens grove boulevard place court square rise mews'.split(' '),
);
const FR_WORDS = 'rue avenue av boulevard bd place chemin allée allee impasse quai route cours square passage';
const EN_OR_FR = new Set([...EN_WORDS.split(' '), ...FR_WORDS.split(' ')]);
// Read backwards from an English street word: "221B Baker ", "121 holloway ".
const HOUSE_AND_NAME_BEFORE = new RegExp(
  String.raw`(?<![\p{L}\p{N}])${HOUSE},?[ \t]+(?:(?<cap>(?:(?:${CAP_WORD}|\d{1,3}(?:st|nd|rd|th))[ \t]+){1,3})|(?<lower>(?:\p{Ll}[\p{L}'’-]{1,30}[ \t]+){1,2}))$`,
  'u',
);
// Read around a French street word: "12 " before, "de la Paix" after.
const FRENCH_NUMBER_BEFORE = /(?<![\p{L}\p{N}])\d{1,4}(?:[ \t]?(?:bis|ter))?,?[ \t]+$/u;
const FRENCH_NAME_AFTER = new RegExp(String.raw`\.?[ \t]+(?:${LOWER_LINK}[ \t]*){0,2}[\p{L}'’-]{2,30}(?:[ \t]+${CAP_WORD}){0,3}`, 'uy');
const STREET_END = /^\.?(?![\p{L}\p{N}])/u;
const FLAT_BEFORE = new RegExp(String.raw`(?:${anyCaseList('flat apt apartment unit suite')})\.?[ \t]+\d{1,4}[a-zA-Z]?,?[ \t]+$`, 'u');
// Hauptstraße 5, Kerkstraat 12a: the suffix, then back to the start of its word.
// Hauptstraße 5, Kerkstraat 12a: from a house number (a run of digits), back over the suffix to
// the start of its word.
const SUFFIX_BEFORE = new RegExp(String.raw`(?:${STREET_SUFFIX_DE_NL})[ \t]+$`, 'u');
const HOUSE_NUMBER_AT = /\d{1,4}[ \t]?[a-zA-Z]?(?![\p{L}\p{N}])/uy;
const WORD_BEFORE_SUFFIX = /(?<![\p{L}\p{N}])\p{L}[\p{L}-]{0,30}$/u;
// Calle Mayor 5, Via Roma 10, Avenida de la Constitución, 12
const ES_IT_WORDS = new Set([...STREET_ES_IT_WORDS, 'c/', 'avda.', 'av.', 'pza.', 'p.zza']);
const ES_IT_REST = new RegExp(
  String.raw`\.?[ \t]+(?:${LOWER_LINK}[ \t]+){0,2}${CAP_WORD}(?:[ \t]+(?:${LOWER_LINK}[ \t]+)?${CAP_WORD}){0,3},?[ \t]*(?:n[º°o]?\.?[ \t]*)?\d{1,4}${BOUNDARY_END}`,
  'uy',
);
// Springfield, IL 62704: from a run of five digits.
const STATE_BEFORE = /,[ \t]*[A-Z]{2}[ \t]+$/;
const ZIP_AT = /\d{5}(?:-\d{4})?(?![\p{L}\p{N}])/uy;
const CITY_BEFORE = new RegExp(String.raw`(?<![\p{L}\p{N}])${CAP_WORD}(?:[ \t]${CAP_WORD}){0,2}$`, 'u');
const TAIL_AT = new RegExp(TAIL, 'uy');

// Numbers that read as a count, not a house number: "5 times on the Way", "via PayPal 3 times".
const COUNT = String.raw`[ \t]*(?:times|days|weeks|months|years|hours|minutes|mins|x|pounds|euros|dollars|quid|%|p)(?![\p{L}])`;
const COUNT_FIRST = new RegExp(String.raw`^\d+[a-zA-Z]?,?${COUNT}`, 'iu');
const COUNT_AFTER = new RegExp(`^${COUNT}`, 'iu');

export const streets: Recogniser = {
  name: 'street',
  keywords: [...EN_WORDS.split(' '), ...FR_WORDS.split(' '), ...ES_IT_WORDS],
  find(text: string, out: Finding[], scan: TextScan): void {
    /** Reports [start, end) run on over what follows (", Leeds LS1 4AB"), unless it reads as a count. */
    const report = (start: number, end: number): void => {
      if (COUNT_FIRST.test(text.slice(start, end)) || COUNT_AFTER.test(text.slice(end, end + 12))) return;
      TAIL_AT.lastIndex = end;
      const tail = TAIL_AT.exec(text);
      out.push({ start, end: end + (tail?.[0].length ?? 0), category: 'address' });
    };
    for (const hit of scan.hits('street')) {
      const word = text.slice(hit.index, hit.index + hit.keyword.length);
      if (ES_IT_WORDS.has(hit.keyword)) {
        ES_IT_REST.lastIndex = hit.index + word.length;
        const rest = ES_IT_REST.exec(text);
        if (rest) report(hit.index, hit.index + word.length + rest[0].length);
        if (!EN_OR_FR.has(hit.keyword)) continue;
      }
      const windowStart = Math.max(0, hit.index - 100);
      const before = text.slice(windowStart, hit.index);
      if (!/\d/.test(before)) continue; // every street shape here has a house number before its word
      let start = -1;
      let end = hit.index + word.length;
      const english = HOUSE_AND_NAME_BEFORE.exec(before);
      const lower = english?.groups?.lower;
      if (english && STREET_END.test(text.slice(end, end + 2))) {
        // In lower case only with a full street word and uncommon name words ("121 holloway drive").
        if (
          !lower ||
          (FULL_EN_WORDS.has(word.toLowerCase()) &&
            !lower
              .trim()
              .split(/[ \t]+/)
              .some((w) => isCommonWord(w)))
        ) {
          start = windowStart + english.index;
          if (text[end] === '.') end++;
        }
      }
      const french = start < 0 ? FRENCH_NUMBER_BEFORE.exec(before) : null;
      if (french && FR_WORDS.split(' ').includes(word.toLowerCase())) {
        FRENCH_NAME_AFTER.lastIndex = end;
        const name = FRENCH_NAME_AFTER.exec(text);
        if (name) {
          start = windowStart + french.index;
          end += name[0].length;
        }
      }
      if (start < 0) continue;
      const flat = FLAT_BEFORE.exec(text.slice(Math.max(0, start - 24), start));
      report(start - (flat?.[0].length ?? 0), end);
    }
    // House numbers after a street-name suffix, ZIP codes after a state: a letter, a space, digits.
    for (let k = 0; k < scan.letterBeforeCount; k++) {
      const i = scan.letterBefore[k]!;
      const start = scan.digitRuns[2 * i]!;
      const length = scan.digitRuns[2 * i + 1]! - start;
      // Quick test first: a space, and a letter or "." before it ("straße 5", "str. 5", "NY 10001").
      const space = start >= 2 ? text.charCodeAt(start - 1) : 0;
      const beforeSpace = start >= 2 ? text.charCodeAt(start - 2) | 32 : 0;
      if ((space !== 32 && space !== 9) || !((beforeSpace >= 97 && beforeSpace <= 122) || beforeSpace === 46 || beforeSpace > 127))
        continue;
      if (length <= 4) {
        const suffix = SUFFIX_BEFORE.exec(text.slice(Math.max(0, start - 16), start));
        HOUSE_NUMBER_AT.lastIndex = start;
        const house = suffix && HOUSE_NUMBER_AT.exec(text);
        if (suffix && house) {
          const suffixStart = start - suffix[0].length;
          const word = WORD_BEFORE_SUFFIX.exec(text.slice(Math.max(0, suffixStart - 31), suffixStart));
          if (word || suffixStart === 0 || !/[\p{L}\p{N}]/u.test(text[suffixStart - 1]!)) {
            report(suffixStart - (word?.[0].length ?? 0), start + house[0].length);
          }
        }
      } else if (length === 5) {
        const state = STATE_BEFORE.exec(text.slice(Math.max(0, start - 8), start));
        ZIP_AT.lastIndex = start;
        const zip = state && ZIP_AT.exec(text);
        if (!state || !zip) continue;
        const stateStart = start - state[0].length;
        const city = CITY_BEFORE.exec(text.slice(Math.max(0, stateStart - 64), stateStart));
        if (city) report(stateStart - city[0].length, start + zip[0].length);
      }
    }
  },
};

// Postcodes are found from their inward part (a digit and two letters, "4AB"), then the outward
// part is read backwards: few places in a text start with a digit, many with a letter.
const INWARD_AT = /\d[A-Za-z]{2}(?![\p{L}\p{N}])/uy;
const UK_OUTWARD_BEFORE = /(?<![\p{L}\p{N}])(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?|[a-pr-uwyz][a-hk-y]?\d[a-z\d]?|GIR|gir)[ \t]?$/u;
const UK_INWARD = /^\d(?:[ABD-HJLNP-UW-Z]{2}|[abd-hjlnp-uw-z]{2})$/;
const OTHER_POSTCODE_AT = new RegExp(`(?:${EIRCODE}|${CA_POSTCODE})${BOUNDARY_END}`, 'uy');

export const postcodes: Recogniser = {
  name: 'postcode',
  find(text: string, out: Finding[], scan: TextScan): void {
    for (const i of runsNextToLetters(scan)) {
      const start = scan.digitRuns[2 * i]!;
      const end = scan.digitRuns[2 * i + 1]!;
      // UK: the run's last digit starts the inward part ("4AB"); the outward part is read backwards.
      const next = end < text.length ? text.charCodeAt(end) | 32 : 0;
      INWARD_AT.lastIndex = end - 1;
      const inward = next >= 97 && next <= 122 ? INWARD_AT.exec(text) : null;
      if (inward && UK_INWARD.test(inward[0])) {
        const outward = UK_OUTWARD_BEFORE.exec(text.slice(Math.max(0, end - 6), end - 1));
        if (outward) out.push({ start: end - 1 - outward[0].length, end: end + 2, category: 'postcode' });
      }
      // Eircode and Canada: a capital letter, then the run ("D02 X285", "K1A 0B1").
      const previous = start > 0 ? text.charCodeAt(start - 1) : 0;
      if (previous >= 65 && previous <= 90 && (start < 2 || !/[\p{L}\p{N}]/u.test(text[start - 2]!))) {
        OTHER_POSTCODE_AT.lastIndex = start - 1;
        const other = OTHER_POSTCODE_AT.exec(text);
        if (other) out.push({ start: start - 1, end: start - 1 + other[0].length, category: 'postcode' });
      }
    }
  },
};

// ---- Context rules

const STREET_WORD = keywordPattern([...EN_WORDS.split(' '), ...FR_WORDS.split(' '), ...STREET_ES_IT_WORDS]);
const STREET_SUFFIX = new RegExp(`(?:${STREET_SUFFIX_DE_NL})(?![\\p{L}\\p{N}])`, 'u');
const POSTCODE_TOKEN = new RegExp(`^(?:${UK_POSTCODE}|${EIRCODE}|${CA_POSTCODE}|\\d{4,5}|[A-Z\\d]{2,4}|\\d{4}[A-Z]{2})$`, 'i');
// An abbreviation's full stop does not end the address ("12 High St. Leeds").
const ABBREVIATION = /(?:^|[^\p{L}])(?:st|rd|ave|av|dr|ln|blvd|str|no|nr|apt|pl|sq|ct|cres|mt|ft|flat|n|c|p\.zza|avda|pza|bd|e\.g)$/iu;
const CLAUSE_STARTERS = new Set(
  [...CLAUSE_WORDS].filter((w) => !['the', 'a', 'an', 'to', 'of', 'on', 'in', 'at', 'by', 'for', 'from', 'with'].includes(w)),
);

/** The end of an address that starts at `start`: the clause's end, at most 16 words on. */
function addressEnd(text: string, start: number): number {
  let end = start;
  let i = start;
  for (let words = 0; words < 16; words++) {
    const next = /^([ \t]*,?[ \t]*)([^\s,;!?]+)/u.exec(text.slice(i, i + 64));
    if (!next) break;
    let word = next[2]!;
    const bare = word.replace(/[.:]+$/, '');
    if (words > 0 && CLAUSE_STARTERS.has(bare.toLowerCase())) break;
    const sentenceEnd = word.endsWith('.') && !ABBREVIATION.test(word) && !/^\d+\.$/.test(word);
    if (sentenceEnd) word = bare;
    end = i + next[1]!.length + word.length;
    i += next[0].length;
    if (sentenceEnd) break;
  }
  return end;
}

/** A house number in the first words, a street word or a postcode. */
function looksLikeAddress(value: string): boolean {
  // A house number first, or after "flat", "apt" and the like ("Flat 3, 22 ..."); not a year.
  const [first = '', second = ''] = value.split(/[\s,]+/);
  const house = (word: string): boolean => /^\d{1,5}[a-z]?$/i.test(word) && !/^(?:19|20)\d\d$/.test(word);
  if (house(first) || (/^(?:flat|apt\.?|apartment|unit|suite|house|no\.?|number)$/i.test(first) && house(second))) return true;
  STREET_WORD.lastIndex = 0;
  if (STREET_WORD.test(value) || STREET_SUFFIX.test(value)) return true;
  // A postcode as a word of its own, or two ("LS1 4AB"): 4-5 digits that are not a year, or
  // letters and digits.
  const words = value.split(/[\s,]+/);
  return words.some((word, i) => {
    if (!/\d/.test(word)) return false;
    if (/^\d+$/.test(word)) return /^\d{4,5}$/.test(word) && house(word.slice(0, 5));
    return POSTCODE_TOKEN.test(word) || POSTCODE_TOKEN.test(`${word}${words[i + 1] ?? ''}`);
  });
}

function acceptAddress(needsEvidence: boolean) {
  return (m: ContextMatch): [number, number] | null => {
    const first = m.text.slice(m.start, m.end);
    const end = addressEnd(m.text, m.start);
    const value = m.text.slice(m.start, end);
    // "I live at ...", "address: ...", "my address is ..." say an address follows; a bare
    // "address" ("address details are wrong") does not. Without a house number, street word or
    // postcode, only a capitalised name counts ("I live at Rose Cottage"; not "... is outdated").
    const said = /(?:at|is|was|est|es|ist|è|e|:|=)$/iu.test(`${m.trigger} ${m.connector}`.trim());
    if (!looksLikeAddress(value) && (needsEvidence || !said || isCommonWord(first) || !/^\p{Lu}/u.test(first))) return null;
    return [m.start, end];
  };
}

const EXPLICIT = String.raw`live[ \t]+at|(?:living|staying|based|lives|resid(?:e|es|ing))[ \t]+at|(?:(?:home|new|current|old|previous|former|billing|postal|correspondence|delivery|registered|mailing|residential|full)[ \t]+)*(?:address|direcci[óo]n|adresse|anschrift|indirizzo|adres|morada)(?:[ \t]+(?:is|was|now[ \t]+is|is[ \t]+now|has[ \t]+changed[ \t]+to|changed[ \t]+to|est|es|ist|[èe])|['’]s|[ \t]*[:=-])?|(?:ich[ \t]+)?wohne(?:[ \t]+(?:in|an|am|auf))?|j['’]habite(?:[ \t]+(?:au|à|a))?|vivo[ \t]+en|abito[ \t]+(?:in|a)|(?:ik[ \t]+)?woon[ \t]+(?:in|op|aan)`;
const NEEDS_EVIDENCE = String.raw`(?:moved|relocated|moving|move|live|living|lives|staying|based)[ \t]+(?:to|in|at)|(?:send|sent|post|deliver|ship|mail|forward)(?:ed)?(?:[ \t]+(?:it|them|this|the[ \t]+(?:new[ \t]+)?(?:card|letter|statement|pin)|my[ \t]+(?:new[ \t]+)?(?:card|letter|statement|pin)|a[ \t]+(?:new[ \t]+)?card))?[ \t]+to|(?:change|update)[ \t]+(?:my[ \t]+)?address[ \t]+to|(?:new|current)[ \t]+home[ \t]+is`;
const ADDRESS_WORDS = 'address dirección direccion adresse anschrift indirizzo adres morada';

export const addressRules: ContextRule[] = [
  {
    category: 'address',
    keywords: [
      ...['live', 'living', 'staying', 'based', 'lives', 'reside', 'resides', 'residing'].map((word) => `${word} at`),
      ...ADDRESS_WORDS.split(' '),
      ...['wohne', 'ich wohne', "j'habite", 'j’habite', 'vivo en', 'abito in', 'abito a', 'woon', 'ik woon'],
    ],
    trigger: EXPLICIT,
    connector: String.raw`[ \t]{0,4}(?:[:=-][ \t]{0,4})?(?:(?:is|was|now|at)[ \t]+)?`,
    value: String.raw`[\p{L}\p{N}][^\s,;!?]{0,40}`,
    accept: acceptAddress(false),
  },
  {
    category: 'address',
    keywords: [
      ...'moved relocated moving move live living lives staying based'
        .split(' ')
        .flatMap((verb) => ['to', 'in', 'at'].map((to) => `${verb} ${to}`)),
      ...'send sent post posted deliver delivered ship shipped mail mailed forward forwarded'.split(' '),
      ...['change my address', 'change address', 'update my address', 'update address', 'new home', 'current home'],
    ],
    trigger: NEEDS_EVIDENCE,
    connector: String.raw`[ \t]{0,4}(?:(?:the|a|an|my|our)[ \t]+)?`,
    value: String.raw`[\p{L}\p{N}][^\s,;!?]{0,40}`,
    accept: acceptAddress(true),
  },
  {
    category: 'postcode',
    keywords: [
      ...['post code', 'post-code', 'postcode', 'postal code', 'zip', 'zipcode', 'zip-code', 'zip code', 'eircode', 'plz', 'postleitzahl'],
      ...['code postal', 'código postal', 'codigo postal', 'codice postale'],
    ],
    trigger: String.raw`post[ \t-]?code|postal[ \t]+code|zip(?:[ \t-]?code)?|eircode|plz|postleitzahl|code[ \t]+postal|c[óo]digo[ \t]+postal|codice[ \t]+postale`,
    value: String.raw`[a-z0-9]{2,5}(?:[ \t-]?[a-z0-9]{2,4})?(?![\p{L}\p{N}])`,
    accept: (m) => (/\d/.test(m.text.slice(m.start, m.end)) && !/^\d{1,3}$/.test(m.text.slice(m.start, m.end)) ? [m.start, m.end] : null),
  },
];
