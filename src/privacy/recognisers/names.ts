/**
 * Person names, from what introduces them: "my name is Sarah O'Connor", "I'm Tom", "this is Anna
 * de Vries", "name on card BETHAN PRITCHARD", "account holder Ingrid Solberg", titles (Mr, Mrs, Dr,
 * Herr, Mme, ...), greetings and sign-offs ("Hi Liam Donnelly here", "Kind regards, John"),
 * payees ("sent money to Callum McIntyre") and a full name that opens the message ("Aoife
 * Brennan — account frozen"). Without such context a name is not guessed: that needs a model, and
 * guessing from capital letters would mask brands and places.
 *
 * After an explicit "my name is" / "name:" / a title, a name may be in lower case. Elsewhere it
 * must be capitalised and not a common word ("I'm Unable to log in"), or, in lower case, be two or
 * three uncommon words closing a clause ("it's zoë pemberton again").
 */
import { anyCaseList } from '../patterns';
import { isCommonWord, NOT_NAMES } from '../words';
import type { Finding, Recogniser } from '../types';
import type { ContextMatch, ContextRule } from './context';

const PARTICLE_WORDS = 'van von der den de del della di da du des le la dos das bin ibn al el ter ten zu y e st st. mac ní ni ó o ua nic';
const PARTICLES = new Set(PARTICLE_WORDS.split(' '));
const PARTICLE = `(?:${PARTICLE_WORDS.replace(/\./g, '\\.').split(' ').join('|')})`;
// A name word: letters with inner apostrophes and hyphens (O'Connor, Jean-Luc), or an initial "J.".
const WORD = String.raw`[\p{L}](?:[\p{L}\p{M}]|['’-](?=[\p{L}])){0,30}\.?`;
const CAPITALISED = String.raw`\p{Lu}(?:[\p{L}\p{M}]|['’-](?=[\p{L}])){0,30}\.?`;
// Words of a name, a comma allowed between them ("KOWALEWSKI, Jan").
const NAME_LOOSE = String.raw`${WORD}(?:,?[ \t]+(?:${PARTICLE}[ \t]+){0,2}${WORD}){0,3}`;
const NAME_STRICT = String.raw`${CAPITALISED}(?:,?[ \t]+(?:${PARTICLE}[ \t]+){0,2}${CAPITALISED}){0,3}`;

const bare = (token: string): string => token.toLowerCase().replace(/[.,]+$/, '');

function isNotName(token: string): boolean {
  const word = bare(token);
  return isCommonWord(word) || NOT_NAMES.has(word);
}

/** Lower-case words that read as verbs or adverbs ("moving", "locked", "really") are not names. */
const NAMES_LIKE_VERBS = new Set(
  'ahmed mohammed muhammed mohamed hamed fred alfred wilfred ted jed reed sayed saeed javed naveed waleed majed'.split(' '),
);
const looksLikeVerb = (token: string): boolean =>
  /(?:ing|ed|ly)$/.test(bare(token)) && bare(token).length > 4 && !NAMES_LIKE_VERBS.has(bare(token));

interface NameOptions {
  /** Every word capitalised. */
  strict: boolean;
  /** At least this many name words (initials and particles not counted). */
  minWords?: number;
}

/**
 * The span of the name starting at `start`, up to `end` at most: its words up to the first that
 * is not part of a name. The first word decides: if it is not a name, there is none.
 */
function nameSpan(text: string, start: number, end: number, options: NameOptions): [number, number] | null {
  const words = [...text.slice(start, end).matchAll(/[^\s,]+/g)];
  let last = start;
  let count = 0;
  const shouting = text.slice(start, end) === text.slice(start, end).toUpperCase();
  for (const [i, word] of words.entries()) {
    const token = word[0];
    const initial = /^\p{Lu}\.?$/u.test(token) && token !== 'I';
    // Particles and initials count only when a name word follows ("Anna de Vries", "Imogen A Carver").
    if (i > 0 && (PARTICLES.has(token.toLowerCase()) || initial)) continue;
    if (isNotName(token) || (options.strict && !/^\p{Lu}/u.test(token))) break;
    if (i === 0 && token === 'I') break;
    if (!/^\p{Lu}/u.test(token) && looksLikeVerb(token)) break;
    // In a shouted message a capitalised word proves nothing: it must not read as a verb either.
    if (shouting && looksLikeVerb(token)) break;
    if (initial && i === 0 && words.length === 1) break;
    count++;
    // A full stop after a name ends the sentence; after an initial ("J.") it is part of it.
    last = start + word.index + (token.length > 2 && token.endsWith('.') ? token.length - 1 : token.length);
  }
  if (count === 0 || count < (options.minWords ?? 1)) return null;
  // The same name in another script may follow in parentheses: "Zhang Wei (张伟)".
  const alias = /^[ \t]*\([^()\n]{1,30}\)/.exec(text.slice(last, last + 34));
  return [start, alias ? last + alias[0].length : last];
}

/** A lower-case name: two or three uncommon words that close a clause ("zoë pemberton again"). */
function lowerCaseName(text: string, start: number, end: number): [number, number] | null {
  const words = [...text.slice(start, end).matchAll(/[^\s,]+/g)];
  let last = start;
  let count = 0;
  for (const word of words) {
    const token = word[0];
    if (isNotName(token) || looksLikeVerb(token) || PARTICLES.has(token) || token.length < 2) break;
    count++;
    last = start + word.index + token.length;
    if (count === 3) break;
  }
  if (count < 2) return null;
  const after = text.slice(last, last + 16);
  return /^(?:[ \t]*(?:[.,!?;:)—–-]|$)|[ \t]+(?:again|here|speaking|and|my|from|i)(?![\p{L}]))/iu.test(after) ? [start, last] : null;
}

const TITLE = String.raw`mr|mrs|ms|miss|mx|dr|prof|herr|frau|mme|mlle|monsieur|madame|señor|señora|senor|senora|sr|sra|srta|sig|sig\.ra|signor|signora|dhr|mevr|dame|lady|lord`;
const RELATIVE = String.raw`husband|wife|partner|son|daughter|mother|mum|mom|father|dad|brother|sister|friend|landlord|landlady|flatmate|colleague|boss|child|grandmother|grandfather|grandma|grandpa|fianc[ée]e?|uncle|aunt|cousin|nephew|niece`;
const SIGN_OFF = String.raw`(?:kind|best|warm|warmest|many|with)?[ \t]*(?:regards|wishes|thanks)|thanks|thank[ \t]+you|cheers|sincerely|yours[ \t]+(?:sincerely|faithfully|truly)|best|un[ \t]+saludo|saludos|cordialement|mit[ \t]+freundlichen[ \t]+gr[üu](?:ß|ss)en|gr[üu](?:ß|ss)e|cordiali[ \t]+saluti|met[ \t]+vriendelijke[ \t]+groet|groeten`;

const fromValue = (m: ContextMatch, options: NameOptions): [number, number] | null => nameSpan(m.text, m.start, m.end, options);

const RELATIVES = RELATIVE.replace(/fianc\[ée\]e\?/, 'fiancé|fiancée|fiance|fiancee').split('|');
const TITLES = TITLE.replace('sig\\.ra', 'sig.ra').split('|');

export const nameRules: ContextRule[] = [
  {
    // Explicit: the name may be in lower case.
    category: 'name',
    keywords: [
      ...'name surname cardholder payee recipient beneficiary named'.split(' '),
      ...'full real legal first last maiden married'.split(' ').map((word) => `${word} name`),
      ...['names on', 'card holder', 'account holder', 'account name', 'call me', 'changed my', 'changed her', 'changed his'],
      ...[
        'i am called',
        "i'm called",
        'i’m called',
        'je m',
        'mi chiamo',
        'me llamo',
        'mein name',
        'ich heiße',
        'ich heisse',
        'ik heet',
        'mijn naam',
      ],
      ...RELATIVES,
      ...TITLES,
    ],
    trigger: String.raw`(?:(?:full|real|legal|first|last|maiden|married|sur)[ \t]*)?name(?:[ \t]+is|['’]s|[ \t]*[:=])|names?[ \t]+on[ \t]+(?:the[ \t]+|my[ \t]+)?(?:card|account)|card[ \t]?holder(?:['’]s)?(?:[ \t]+name)?|account[ \t]+(?:holder|name)(?:['’]s[ \t]+name)?|(?:payee|recipient|beneficiary)(?:['’]s)?(?:[ \t]+name)?|(?:i[ \t]+am|i['’]m)[ \t]+called|call[ \t]+me|changed[ \t]+(?:my|her|his)[ \t]+name[ \t]+to|je[ \t]+m['’]appelle|mi[ \t]+chiamo|me[ \t]+llamo|mein[ \t]+name[ \t]+ist|ich[ \t]+hei(?:ß|ss)e|ik[ \t]+heet|mijn[ \t]+naam[ \t]+is|(?:${RELATIVE})(?:['’]?s)?[ \t]+(?:name[ \t]+is|is[ \t]+called|called|named)|named|(?:${TITLE})\.?`,
    connector: String.raw`[ \t]{0,4}(?:(?:is|was|should[ \t]+be|will[ \t]+be|reads|says|:|=|-)[ \t]{0,4})?`,
    caseSensitive: true,
    value: NAME_LOOSE,
    accept: (m) => fromValue(m, { strict: /^(?:dr|ms|sir|dame|lady|lord|sr|sig|prof|miss|named)\.?$/i.test(m.trigger) }),
  },
  {
    // "in my husbands name Marco Esposito", "my full name AISHA BELLO", "name on card BETHAN
    // PRITCHARD": capitalised only.
    category: 'name',
    keywords: ['name', 'surname', ...'full real legal first last maiden married'.split(' ').map((word) => `${word} name`)],
    trigger: String.raw`(?:(?:full|real|legal|first|last|maiden|married|sur)[ \t]*)?name(?:[ \t]+on[ \t]+(?:the[ \t]+|my[ \t]+)?card)?`,
    connector: String.raw`[ \t]{1,4}`,
    caseSensitive: true,
    value: NAME_STRICT,
    accept: (m) => fromValue(m, { strict: true }),
  },
  {
    category: 'name',
    keywords: [
      ...['i am', "i'm", 'i’m', 'im', 'this is', "it's", 'it’s', 'its', 'it is'],
      ...'hi hello hey dear sign signed under verification security'.split(' '),
      ...['verify me', 'identify me', 'confirm me'],
      ...RELATIVES,
    ],
    trigger: String.raw`i[ \t]+am|i['’]m|im|this[ \t]+is|it['’]s|its|it[ \t]+is|hi|hello|hey|dear|sign(?:ed)?(?:[ \t]+it)?(?:[ \t]+as)?|under(?:[ \t]+the[ \t]+name(?:[ \t]+of)?)?|(?:verify|identify|confirm)[ \t]+me[ \t]*:?|(?:verification|security)[ \t]*:|(?:${RELATIVE})(?:[ \t]*,)?`,
    connector: String.raw`(?:[ \t]*[,:][ \t]*|[ \t]{1,4})`,
    caseSensitive: true,
    value: NAME_LOOSE,
    accept: (m) => {
      // "is under R. Llewellyn", "registered under ...": not "under Section 75".
      if (
        /^under/i.test(m.trigger) &&
        !/(?:is|was|are|registered|opened|held|account|card)[ \t]+$/i.test(m.text.slice(Math.max(0, m.triggerStart - 12), m.triggerStart))
      ) {
        return null;
      }
      if (/^\p{Lu}/u.test(m.text[m.start]!)) return fromValue(m, { strict: true, minWords: /^im$/i.test(m.trigger) ? 2 : 1 });
      return /^(?:i|im|i['’]m|i am|it['’]?s|it is|this is)$/i.test(m.trigger.replace(/[ \t]+/g, ' '))
        ? lowerCaseName(m.text, m.start, m.end)
        : null;
    },
  },
  {
    // A sign-off starts a line or sentence and its name ends the message or the line: "Thanks,
    // John", "Regards,\nJane Doe", "thanks, ahmed khalil"; not "a payment from Amazon".
    category: 'name',
    keywords: [
      ...'best regards wishes thanks cheers sincerely yours saludos cordialement grüße grüsse grusse gruesse groeten'.split(' '),
      ...[
        'kind regards',
        'best regards',
        'best wishes',
        'warm regards',
        'warmest regards',
        'many thanks',
        'with regards',
        'with best',
        'with kind',
      ],
      ...['thank you', 'un saludo', 'mit freundlichen', 'cordiali saluti', 'met vriendelijke'],
    ],
    trigger: SIGN_OFF,
    connector: String.raw`[ \t]*[,.!-]?[ \t]*(?:\r?\n[ \t]*)?`,
    caseSensitive: true,
    value: NAME_LOOSE,
    accept: (m) => {
      if (!/(?:^|[.!?\n])[ \t]*$/.test(m.text.slice(Math.max(0, m.triggerStart - 20), m.triggerStart))) return null;
      const span = /^\p{Lu}/u.test(m.text[m.start]!) ? fromValue(m, { strict: true }) : lowerCaseName(m.text, m.start, m.end);
      if (!span) return null;
      return /^[ \t]*(?:[.!,]?[ \t]*(?:\r?\n|$))/.test(m.text.slice(span[1], span[1] + 8)) ? span : null;
    },
  },
];

// A payee or payer: "sent money to Callum McIntyre", "from Imogen Carver to Eleanor Whitmore". A
// full name of two or more capitalised words, so "to Amazon" and "from Tesco Bank" stay. Found
// from the capitals (rare) rather than from "to" (everywhere).
const PAYEE = new RegExp(
  String.raw`[A-ZÀ-ÖØ-Þ](?<=(?:^|[^\p{L}\p{N}])(?:[Tt]o|[Ff]rom|[Ff]or|[Ww]ith|[Bb]y|[Aa]nd|TO|FROM|FOR|WITH|BY|AND)[ \t]{1,4}[A-ZÀ-ÖØ-Þ])`,
  'gu',
);
const PAYEE_NAME = new RegExp(NAME_STRICT, 'uy');

export const payeeName: Recogniser = {
  name: 'payee_name',
  find(text: string, out: Finding[]): void {
    for (const match of text.matchAll(PAYEE)) {
      PAYEE_NAME.lastIndex = match.index;
      const name = PAYEE_NAME.exec(text);
      const span = name && nameSpan(text, match.index, match.index + name[0].length, { strict: true, minWords: 2 });
      if (span) out.push({ start: span[0], end: span[1], category: 'name' });
    }
  },
};

// "Aoife Brennan — account frozen", "Giulia Ferraro here, ...", "FLORENCE ADEBAYO 8984 Cedar Lane".
const OPENING = new RegExp(
  String.raw`^[ \t]*(?:(?:${anyCaseList(TITLES.join(' '))})\.?[ \t]+)?(?<v>${NAME_STRICT})(?=[ \t]*(?:[—–:,-]|here(?![\p{L}])|speaking(?![\p{L}]))|[ \t]+\d)`,
  'u',
);

export const openingName: Recogniser = {
  name: 'opening_name',
  find(text: string, out: Finding[]): void {
    const match = OPENING.exec(text);
    if (!match?.groups?.v) return;
    const start = match[0].length - match.groups.v.length; // after a title, if any
    const span = nameSpan(text, start, match[0].length, { strict: true, minWords: 2 });
    if (span) out.push({ start: span[0], end: span[1], category: 'name' });
  },
};

// A name signed with a dash at the end of the message: "— Piotr", "-- Jane Doe".
const CLOSING = new RegExp(String.raw`(?:^|[\n.!?])[ \t]*(?:—|–|--?)[ \t]*(?<v>${NAME_STRICT})[ \t.!]*$`, 'u');

export const closingName: Recogniser = {
  name: 'closing_name',
  find(text: string, out: Finding[]): void {
    const from = Math.max(0, text.length - 160);
    const match = CLOSING.exec(text.slice(from));
    if (!match?.groups?.v) return;
    const start = from + match.index + match[0].indexOf(match.groups.v);
    const span = nameSpan(text, start, start + match.groups.v.length, { strict: true });
    if (span) out.push({ start: span[0], end: span[1], category: 'name' });
  },
};
