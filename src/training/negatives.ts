/**
 * Out-of-scope examples: what a bank's widget receives that is none of its intents. Three sources,
 * each row labelled `out_of_scope`:
 * - HWU64 (CC BY 4.0, `data/hwu64/`): home-assistant requests in 21 scenarios, small talk included;
 * - SNIPS (CC0, `data/snips/`): voice-assistant requests in 7 intents, worded by other people;
 * - our own generator below: greetings, thanks, asking for a person, chit-chat, gibberish, other
 *   languages and near-empty text, which neither corpus has.
 *
 * Split by whole source intent (HWU64's `weather_query`, SNIPS's `RateBook`): the validation and
 * test negatives are topics the model never trained on, which is what "a message from a source we
 * do not have" looks like. Generated rows are split row by row (each kind is needed in training).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { OUT_OF_SCOPE } from '../core/labels';
import { mulberry32, shuffle } from '../models/custom/random';
import type { Example } from './data';

const HWU64_CSV = 'data/hwu64/utterances.csv';
const SNIPS_CSV = 'data/snips/utterances.csv';

/**
 * HWU64 intents left out: exchange rates are a Banking77 intent (`exchange_rate`), and stock
 * prices are a question a bank's customers may fairly ask their bank. Neither is a safe negative.
 */
export const EXCLUDED_INTENTS: readonly string[] = ['qa_currency', 'qa_stock'];

/** Rows that talk about money are left out of every source: they may be banking questions in other words. */
const BANKING_WORDS =
  /\b(bank|banks|banking|card|cards|account|accounts|transfer|transfers|money|pay|paid|payment|payments|refund|atm|pin|balance|top ?up|exchange|currency|currencies|cash|wallet|fee|fees|charge|charged|loan|credit|debit|transaction|transactions|euro|euros|dollar|dollars|pound|pounds|cost|price)\b/i;

/** An out-of-scope row and the source group it came from (`hwu64:weather_query`, `generated:greeting`). */
export interface NegativeExample extends Example {
  group: string;
}

export interface NegativeSplits {
  train: NegativeExample[];
  validation: NegativeExample[];
  test: NegativeExample[];
  /** Which source intents went where, for the model card. */
  groups: { train: string[]; validation: string[]; test: string[] };
}

export interface NegativeOptions {
  seed: number;
  /** Share of source intents held out for validation and for test, each. */
  heldOutShare: number;
  /** Rows kept per source intent in training (HWU64 intents hold ~190, SNIPS ~2,000). */
  trainPerGroup: { hwu64: number; snips: number };
  /** Rows kept per source intent in validation and test. */
  evalPerGroup: { hwu64: number; snips: number };
}

export const DEFAULT_NEGATIVES: NegativeOptions = {
  seed: 20261201,
  heldOutShare: 0.15,
  trainPerGroup: { hwu64: 45, snips: 220 },
  evalPerGroup: { hwu64: 40, snips: 150 },
};

function readSource(path: string, prefix: string): Map<string, string[]> {
  const rows = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true, bom: true }) as {
    text: string;
    intent: string;
  }[];
  const groups = new Map<string, string[]>();
  for (const { text, intent } of rows) {
    if (EXCLUDED_INTENTS.includes(intent) || BANKING_WORDS.test(text)) continue;
    const key = `${prefix}:${intent}`;
    groups.set(key, [...(groups.get(key) ?? []), text.trim()]);
  }
  return groups;
}

/** The out-of-scope rows, split three ways; deterministic per seed. */
export function loadNegatives(o: NegativeOptions = DEFAULT_NEGATIVES, paths = { hwu64: HWU64_CSV, snips: SNIPS_CSV }): NegativeSplits {
  const random = mulberry32(o.seed);
  const out: NegativeSplits = { train: [], validation: [], test: [], groups: { train: [], validation: [], test: [] } };
  const sources = [
    { name: 'hwu64' as const, groups: readSource(paths.hwu64, 'hwu64') },
    { name: 'snips' as const, groups: readSource(paths.snips, 'snips') },
  ];
  for (const { name, groups } of sources) {
    const keys = shuffle([...groups.keys()].sort(), random);
    const heldOut = Math.max(1, Math.round(keys.length * o.heldOutShare));
    keys.forEach((key, i) => {
      const split = i < heldOut ? 'validation' : i < 2 * heldOut ? 'test' : 'train';
      const cap = split === 'train' ? o.trainPerGroup[name] : o.evalPerGroup[name];
      const texts = shuffle([...groups.get(key)!], random).slice(0, cap);
      out[split].push(...texts.map((text) => ({ text, label: OUT_OF_SCOPE, group: key })));
      out.groups[split].push(key);
    });
  }
  for (const [kind, texts] of Object.entries(generatedNegatives(o.seed))) {
    const group = `generated:${kind}`;
    const rows = shuffle(texts, random).map((text) => ({ text, label: OUT_OF_SCOPE, group }));
    const n = Math.max(1, Math.round(rows.length * o.heldOutShare));
    out.validation.push(...rows.slice(0, n));
    out.test.push(...rows.slice(n, 2 * n));
    out.train.push(...rows.slice(2 * n));
    for (const split of ['train', 'validation', 'test'] as const) out.groups[split].push(group);
  }
  return out;
}

const GREETINGS = [
  'hello',
  'hi',
  'hey',
  'hi there',
  'hello there',
  'good morning',
  'good afternoon',
  'good evening',
  'hey there',
  'hiya',
  'yo',
  'morning',
  'howdy',
  'greetings',
  'hello?',
  'hi, anyone there',
  'hey you',
];
const CLOSINGS = [
  'thanks',
  'thank you',
  'thanks a lot',
  'cheers',
  'thank you so much',
  'ok thanks',
  'great, thanks',
  'bye',
  'goodbye',
  'see you',
  'have a nice day',
  "that's all",
  "no that's it",
  'perfect',
  'awesome',
  'cool',
  'nice one',
  'much appreciated',
  'thx',
  'ty',
];
const PERSON = [
  'talk to a human',
  'can I speak to a person',
  'I want a real person',
  'agent please',
  'let me talk to someone real',
  'is this a bot',
  'are you a robot',
  'human please',
  'operator',
  'I want to speak to a human being',
  'get me a real human',
  'put me through to an actual person',
  'are you a real person',
];
const CHAT = [
  'how are you',
  "what's your name",
  'who made you',
  'tell me a joke',
  'what can you do',
  'are you there',
  "i'm bored",
  'do you like music',
  'what time is it',
  "you're useless",
  'lol',
  'haha',
  'ok',
  'okay',
  'yes',
  'no',
  'maybe',
  'hmm',
  'test',
  'testing 123',
  'what is the meaning of life',
  'do you dream',
  'sing me a song',
  "what's up",
  'i love you',
  'you are great',
  'this is stupid',
  'never mind',
  'whatever',
  'can you hear me',
  'where are you from',
  'how old are you',
  'what is 2 plus 2',
  'who won the game last night',
  'recommend a good book',
];
const FOREIGN = [
  'hola, ¿cómo estás?',
  'buenos días',
  'bonjour, comment ça va',
  'merci beaucoup',
  'guten Tag',
  'wie geht es dir',
  'danke schön',
  'grazie mille',
  'ciao, come stai',
  'obrigado',
  'bom dia',
  'goedemorgen',
  'dank je wel',
  'hej, hur mår du',
  'dzień dobry',
  '你好',
  '谢谢',
  'こんにちは',
  'ありがとう',
  'привет',
  'спасибо',
  'مرحبا',
  'شكرا',
  'नमस्ते',
  '안녕하세요',
  'merhaba',
  'γεια σου',
  'שלום',
  'xin chào',
  'sawasdee',
  '¿dónde está la estación?',
  'où est la gare',
  'wo ist der bahnhof',
  'quanto costa un caffè',
  'ich möchte ein bier',
  'je voudrais un café',
];
const EMPTYISH = [
  '?',
  '...',
  '!!!',
  '??',
  '.',
  '-',
  ':)',
  ':(',
  '😀',
  '👍',
  '🙏',
  '🤔',
  'a',
  'x',
  'k',
  'hm',
  '123',
  '0',
  '42',
  'ok.',
  '...?',
  '#',
  '*',
  '+1',
];

/** Everything the generator writes, by kind; the random parts come from `seed`. */
export function generatedNegatives(seed: number): Record<string, string[]> {
  const random = mulberry32(seed ^ 0x5bd1e995);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const decorate = (s: string) => s + pick(['', '', '!', '?', ' :)', '.', '!!']);
  const gibberish: string[] = [];
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const rows = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm'];
  for (let i = 0; i < 120; i++) {
    const style = i % 4;
    if (style === 0) {
      // Random letters in one to four "words".
      const words = 1 + Math.floor(random() * 4);
      gibberish.push(
        Array.from({ length: words }, () =>
          Array.from({ length: 2 + Math.floor(random() * 8) }, () => pick(letters.split(''))).join(''),
        ).join(' '),
      );
    } else if (style === 1) {
      // A run along one keyboard row.
      const row = pick(rows);
      const start = Math.floor(random() * (row.length - 3));
      gibberish.push(row.slice(start, start + 3 + Math.floor(random() * (row.length - start - 2))).repeat(1 + Math.floor(random() * 2)));
    } else if (style === 2) {
      // A repeated letter or syllable.
      gibberish.push(pick(letters.split('')).repeat(3 + Math.floor(random() * 8)));
    } else {
      // Digits and symbols.
      gibberish.push(Array.from({ length: 3 + Math.floor(random() * 10) }, () => pick('0123456789#@$%&*-+=/'.split(''))).join(''));
    }
  }
  const kinds: Record<string, string[]> = {
    greeting: [
      ...GREETINGS.map(decorate),
      ...GREETINGS.map((g) => g.toUpperCase()),
      ...GREETINGS.map((g) => `${g} ${pick(['how are you', 'there', 'friend', 'bot', 'again'])}`),
    ],
    closing: [...CLOSINGS.map(decorate), ...CLOSINGS.map((c) => `${pick(['ok', 'alright', 'right', 'great'])} ${c}`)],
    person: [...PERSON.map(decorate), ...PERSON.map((p) => `${pick(['please', 'can you', 'I need to', 'just'])} ${p.toLowerCase()}`)],
    chat: [...CHAT.map(decorate), ...CHAT.map((c) => `${pick(['hey', 'so', 'um', 'btw'])} ${c}`)],
    gibberish,
    foreign: [...FOREIGN, ...FOREIGN.map(decorate)],
    emptyish: [...EMPTYISH, ...EMPTYISH.map((e) => e + e)],
  };
  // Distinct texts only, so that no text lands in two splits.
  return Object.fromEntries(Object.entries(kinds).map(([kind, texts]) => [kind, [...new Set(texts)]]));
}
