/**
 * Dates that identify: a date of birth ("born on 3rd March 1985", "DOB 03/03/85", "1985-03-03 is
 * my date of birth") and a card's expiry ("exp 05/27", "valid thru May 2027"). Other dates are
 * not personal data and stay readable.
 */
import { DATE_ANY, DATE_NUMERIC, DATE_TEXT, EXPIRY } from '../patterns';
import type { TextScan } from '../scan';
import type { Finding, Recogniser } from '../types';
import { CONNECTOR, trimSpan, type ContextRule } from './context';

const TOKEN_START = String.raw`(?<![\p{L}\p{N}])`;

export const dateRules: ContextRule[] = [
  {
    category: 'dob',
    keywords: [
      ...'birth birthdate dob d.o.b d.o.b. born birthday bday b-day geburtsdatum geburtstag geboren nacido nacida nato nata geboortedatum'.split(
        ' ',
      ),
      ...['date of', 'né le', 'née le', 'ne le', 'nee le', 'fecha de', 'data di'],
    ],
    trigger: String.raw`date[ \t]+of[ \t]+birth|birth[ \t]?date|d\.?o\.?b\.?|born(?:[ \t]+(?:on|in))?|birthday|b-?day|geburtsdatum|geburtstag|geboren(?:[ \t]+(?:am|op))?|date[ \t]+de[ \t]+naissance|n[ée]e?[ \t]+le|fecha[ \t]+de[ \t]+nacimiento|nacid[oa][ \t]+el|data[ \t]+di[ \t]+nascita|nat[oa][ \t]+il|geboortedatum`,
    connector: String.raw`${CONNECTOR}(?:(?:in|at|el|le|il|am|op)[ \t]+)?`,
    value: DATE_ANY,
    gap: 8,
    accept: (m) => trimSpan(m.text, m.start, m.end),
    beforeHint: /\d/,
    before: String.raw`${TOKEN_START}(?<v>${DATE_TEXT}|${DATE_NUMERIC})[ \t]*(?:\(|,|-)?[ \t]*(?:(?:is|was)[ \t]+)?(?:(?:my|the|her|his)[ \t]+)?`,
  },
  {
    category: 'card_expiry',
    keywords: [
      ...'exp expiry expiration expires expired expiring ablaufdatum gültig gultig caducidad vence scadenza vervaldatum mm/yy mm'.split(
        ' ',
      ),
      ...['thru', 'through', 'until', 'till', 'to', 'from'].map((word) => `valid ${word}`),
      ...['good thru', 'good through', 'date d', 'fecha de'],
    ],
    trigger: String.raw`exp(?:iry|iration|ires|ired|iring|\.)?(?:[ \t]+date)?|expiry[ \t]+date|valid[ \t]+(?:thru|through|until|till|to|from)|good[ \t]+(?:thru|through)|ablaufdatum|g[üu]ltig[ \t]+bis|date[ \t]+d['’]expiration|fecha[ \t]+de[ \t]+(?:caducidad|vencimiento)|caducidad|vence|scadenza|vervaldatum|mm[ \t]?/[ \t]?yy`,
    connector: String.raw`${CONNECTOR}(?:(?:in|at|end[ \t]+of)[ \t]+)?`,
    value: EXPIRY,
    gap: 3,
    accept: (m) => trimSpan(m.text, m.start, m.end),
    beforeHint: /\d/,
    before: String.raw`${TOKEN_START}(?<v>(?:0?[1-9]|1[0-2])[ \t]?/[ \t]?(?:20)?\d\d)[ \t]*(?:\(|,|-)?[ \t]*(?:(?:is|was)[ \t]+)?(?:(?:the|my)[ \t]+)?(?:card[ \t]+)?`,
  },
];

// "the card says 07/31 on the front": a month/year within three words after the word card. Not
// after "on", "since" and the like ("card payment on 07/31" reads as a day). Found from the
// month/year, which is rare, rather than from "card", which is everywhere.
const MONTH_YEAR_AT = /(?:0[1-9]|1[0-2])[ \t]?\/[ \t]?(?:20)?\d\d(?![/.-]?\d)/y;
const CARD_BEFORE = /(?<![\p{L}\p{N}])card(?:[ \t,:;-]+[^\s\d\p{Sc}]{1,24}){0,3}[ \t,:;-]+$/iu;
const DATE_WORD_BEFORE = /(?:on|since|from|until|till|by|before|after|dated)[ \t]*$/i;

export const expiryNearCard: Recogniser = {
  name: 'expiry_near_card',
  find(text: string, out: Finding[], scan: TextScan): void {
    for (let i = 0; i < scan.digitRunCount; i++) {
      const start = scan.digitRuns[2 * i]!;
      if (scan.digitRuns[2 * i + 1]! - start !== 2 || (start > 0 && /[\p{L}\p{N}]/u.test(text[start - 1]!))) continue;
      MONTH_YEAR_AT.lastIndex = start;
      const match = MONTH_YEAR_AT.exec(text);
      if (!match) continue;
      const before = text.slice(Math.max(0, start - 60), start);
      if (CARD_BEFORE.test(before) && !DATE_WORD_BEFORE.test(before))
        out.push({ start, end: start + match[0].length, category: 'card_expiry' });
    }
  },
};
