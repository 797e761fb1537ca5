/**
 * Secrets that only their neighbour words give away: passwords, PINs, CVV codes, one-time codes
 * and answers to security questions. Each needs a trigger word and a value of the right shape,
 * so "I forgot my PIN" and "how do I reset my password" stay as they are.
 */
import { NUMBER_WORD_RUN } from '../patterns';
import { COMMON_WORDS, isCommonWord } from '../words';
import { extendToClauseEnd, trimSpan, type ContextMatch, type ContextRule } from './context';

const NOT_ALNUM = String.raw`(?![\p{L}\p{N}])`;
const TOKEN_START = String.raw`(?<![\p{L}\p{N}])`;

// ---- Passwords

const QUOTED = String.raw`"[^"\n]{1,80}"|“[^”\n]{1,80}”|'[^'\n]{1,80}'|‘[^’\n]{1,80}’|«[^»\n]{1,80}»`;
const BARE = String.raw`[^\s"“”«»]{1,80}`;

/** A bare word that reads as ordinary English ("expired", "changing", "too") is not a password. */
function looksLikeWord(token: string): boolean {
  const word = token.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
  if (word.length < 3 || isCommonWord(word)) return true;
  return /^\p{Ll}+$/u.test(word) && /(?:ing|ed|ly|able|less)$/.test(word) && word.length > 5;
}

/** A password-like token: letters with digits or symbols, mixed case inside, or very long. */
function looksLikePassword(token: string): boolean {
  return /[\d_!#$%&*@^~+=?]/.test(token) || /\p{Ll}\p{Lu}/u.test(token) || token.length >= 16;
}

function acceptPassword(m: ContextMatch): [number, number] | null {
  const value = m.text.slice(m.start, m.end);
  if (/^["“'‘«]/.test(value)) return [m.start, m.end];
  const [start, end] = trimSpan(m.text, m.start, m.end);
  const token = m.text.slice(start, end);
  if (!token || looksLikeWord(token)) return null;
  // "password hunter2", "i used n0tmyrealpw last time": without "is" or ":" only a token that
  // looks like a password counts.
  if ((m.gapped || (m.after && !m.connector)) && !looksLikePassword(value.trim())) return null;
  // Symbols at its end are part of it ("letmein!!"); so is a second word with a digit or symbol
  // ("Summer 2024!").
  const rawEnd = m.end;
  const more = /^[ \t]+(?=\S*[\d\W_])([^\s,;]{1,40})/u.exec(m.text.slice(rawEnd, rawEnd + 42));
  return [start, more && !looksLikeWord(more[1]!) ? rawEnd + more[0].length : Math.max(end, rawEnd)];
}

const PASSWORD_WORD = String.raw`password|passwort|passwd|pass[ \t]?word|pass[ \t]?phrase|pwd|pw|kennwort|mot[ \t]+de[ \t]+passe|contraseña|contrasena|clave[ \t]+de[ \t]+acceso`;

// ---- PINs, CVV, one-time codes

const DATE_LIKE = /^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$/;
// A count or an amount, not a code: "pin blocked after 3 tries", "1500 euros".
const UNIT_AFTER =
  /^[ \t]*(?:times|attempts|tries|goes|days|weeks|months|years|hours|minutes|mins|seconds|secs|atms?|branches|%|pounds|euros?|dollars|quid|gbp|eur|usd|p|x|digits|characters|chars|numbers|letters|people|transactions|payments)(?![\p{L}])/iu;
const LAST_DIGITS =
  /(?:ending|ends|end)(?:[ \t]+(?:in|with))?[ \t:]*$|last[ \t]+(?:4|four|3|three)(?:[ \t]+(?:digits|numbers))?(?:[ \t]+(?:are|is|of))?[ \t:]*$|\*{2,}[ \t]*$/i;
const digitsValue = (min: number, max: number): string =>
  String.raw`\d(?:[ \t.-]?\d){${min - 1},${max - 1}}(?!\d)|${NUMBER_WORD_RUN(min - 1, max)}${NOT_ALNUM}`;

function acceptCode(minDigits: number): (m: ContextMatch) => [number, number] | null {
  return (m) => {
    const value = m.text.slice(m.start, m.end);
    if (DATE_LIKE.test(value)) return null;
    if (/\p{L}/u.test(value) && !/\d/.test(value) && value.split(/[\s,-]+/).length < minDigits) return null;
    if (UNIT_AFTER.test(m.text.slice(m.end, m.end + 16))) return null;
    if (/\p{Sc}[ \t]?$/u.test(m.text.slice(Math.max(0, m.start - 2), m.start))) return null;
    // The last digits of a card are shown openly: "card ending 1234 ... pin".
    if (LAST_DIGITS.test(m.text.slice(Math.max(0, m.start - 32), m.start))) return null;
    return trimSpan(m.text, m.start, m.end);
  };
}

// Words before a bare "code" that make it something else: "error code 4012", "promo code".
const NOT_A_SECRET_CODE =
  /(?:error|promo|promotional|discount|voucher|coupon|gift|referral|bank|branch|swift|bic|sort|zip|post|postal|area|country|dialling|dialing|tax|mcc|merchant|iso|reason|status|response|reference|currency|qr|bar|product|tracking|invite|invitation|source|dress|morse|access)[ \t]+$/i;

function acceptBareCode(m: ContextMatch): [number, number] | null {
  if (!/[:=]|\b(?:is|was)\b/i.test(m.connector)) return null;
  if (NOT_A_SECRET_CODE.test(m.text.slice(Math.max(0, m.triggerStart - 30), m.triggerStart))) return null;
  return acceptCode(4)(m);
}

// ---- Security answers

const SECURITY_QUESTION = [
  String.raw`(?:mother|mum|mom|father|dad)['’]?s[ \t]+(?:maiden|middle|first)[ \t]+name`,
  String.raw`maiden[ \t]+name(?:[ \t]+of[ \t]+(?:my|your)[ \t]+(?:mother|mum|mom))?`,
  String.raw`(?:name[ \t]+of[ \t]+(?:my|your)[ \t]+)?(?:first|childhood)[ \t]+(?:pet|dog|cat|car|school|teacher|job|boss|employer|street|love|concert|album|best[ \t]+friend|friend|nickname|hero|home|house|crush|phone)(?:['’]?s[ \t]+(?:name|make|model))?`,
  String.raw`(?:dog|cat|pet)(?:['’]?s)?[ \t]+name`,
  String.raw`(?:city|town|place|village|hospital|country)[ \t]+(?:where[ \t]+)?(?:i|you)[ \t]+(?:was|were)[ \t]+born`,
  String.raw`(?:place|city|town)[ \t]+of[ \t]+birth|birth[ \t]?place`,
  String.raw`favou?rite[ \t]+(?:colou?r|food|teacher|book|film|movie|team|football[ \t]+team|band|song|singer|city|place|animal|sport|holiday|subject|artist|author|drink|restaurant|car|actor|actress|player|game|fruit|number|word|dish|meal|musician|tv[ \t]+show|show)`,
  String.raw`security[ \t]+(?:question|answer|word)(?:['’]?s[ \t]+answer)?`,
  String.raw`answer[ \t]+to[ \t]+(?:my|the)[ \t]+(?:security|secret)[ \t]+question`,
  String.raw`memorable[ \t]+(?:word|name|place|date|information|info|answer|phrase|data)`,
  String.raw`secret[ \t]+(?:answer|word|question|phrase)`,
  String.raw`(?:street|road|town|city)[ \t]+(?:i|you)[ \t]+grew[ \t]+up[ \t]+(?:on|in)`,
  String.raw`(?:name[ \t]+of[ \t]+(?:my|your)[ \t]+)?(?:primary|high|secondary|elementary|first)[ \t]+school`,
  String.raw`answer(?=[ \t]*(?:is|was|:|=))`,
].join('|');

const ANSWER_CONNECTOR = String.raw`(?:[ \t]{0,4}(?:answer|response|reply|is|was|=|:|,|-|—|would[ \t]+be|will[ \t]+be|['’]s)(?![\p{L}])){0,3}[ \t]{0,4}(?:(?:a|an|the|my|our)[ \t]+)?(?:(?:[\p{L}]{1,20}[ \t]+){0,2}(?:called|named)[ \t]+)?`;
const ANSWER_VALUE = String.raw`["“'‘«]?[\p{L}\p{N}][\p{L}\p{N}\p{M}'’.-]{0,40}`;

function acceptAnswer(m: ContextMatch): [number, number] | null {
  const [start, end] = trimSpan(m.text, m.start, m.end);
  const first = m.text.slice(start, end);
  const quoted = /^["“'‘«]/.test(m.text.slice(m.start, m.end));
  if (!first || (!quoted && isCommonWord(first))) return null;
  // Without "is", ":" or the like, only a capitalised or quoted answer ("maiden name Smith").
  if (m.after && !m.connector && !quoted && !/^\p{Lu}/u.test(first)) return null;
  const last = extendToClauseEnd(m.text, end, 3, (word) => isCommonWord(word) || COMMON_WORDS.has(word.toLowerCase()));
  return [start, last];
}

const BEFORE_GAP = String.raw`(?:[ \t,]+[^\s\d\p{Sc}]{1,24}){0,4}[ \t,]*`;

export const secretRules: ContextRule[] = [
  {
    category: 'password',
    keywords: ['password', 'passwort', 'passwd', 'pass', 'passphrase', 'pwd', 'pw', 'kennwort', 'mot', 'contraseña', 'contrasena', 'clave'],
    trigger: PASSWORD_WORD,
    value: `${QUOTED}|${BARE}`,
    gap: 5,
    gapValue: String.raw`${QUOTED}|(?=[^\s]*[\d_!#$%&*@^~+=?])[^\s"“”«»]{3,80}`,
    repeat: 1,
    accept: acceptPassword,
    before: String.raw`${TOKEN_START}(?<v>${QUOTED}|(?=[^\s]*[\d_!#$%&*@^~+=?])[^\s"“”]{3,64})${BEFORE_GAP}`,
    beforeHint: /[\d_!#$%&*@^~+=?"“'‘]/,
  },
  {
    // "my pass Qwerty!23", "reset it to zxcvbnm12": only a token that looks like a password.
    category: 'password',
    keywords: [
      'pass',
      ...['reset', 'change', 'changed', 'set', 'update', 'updated'].flatMap((verb) =>
        ['it', 'this', 'that', 'mine'].map((what) => `${verb} ${what}`),
      ),
    ],
    trigger: String.raw`pass|(?:reset|changed?|set|updated?)[ \t]+(?:it|this|that|mine)[ \t]+to`,
    value: BARE,
    accept: (m) => {
      if (
        /^pass$/i.test(m.trigger) &&
        !/(?:banking|login|my|the|app|online|account)[ \t]+$/i.test(m.text.slice(Math.max(0, m.triggerStart - 12), m.triggerStart))
      ) {
        return null;
      }
      return looksLikePassword(m.text.slice(m.start, m.end).trim()) ? acceptPassword({ ...m, gapped: true }) : null;
    },
  },
  {
    category: 'pin',
    keywords: ['pin', 'p.i.n', 'personal identification', 'geheimzahl', 'code pin', 'código pin', 'codigo pin', 'codice pin', 'pincode'],
    trigger: String.raw`pin(?:[ \t-]?(?:number|code|no\.?))?|p\.i\.n\.?|personal[ \t]+identification[ \t]+number|geheimzahl|code[ \t]+pin|c[óo]digo[ \t]+pin|codice[ \t]+pin|pincode`,
    value: digitsValue(4, 8),
    gap: 5,
    repeat: 2,
    accept: acceptCode(4),
    before: String.raw`${TOKEN_START}(?<v>\d(?:[ \t]?\d){3,7})${BEFORE_GAP}`,
    beforeHint: /\d/,
  },
  {
    category: 'cvv',
    keywords: [
      ...'cvv cvv2 cvc cvc2 cv2 cvn csc cid security'.split(' '),
      ...['card verification', 'last 3', 'last three', '3 digits', 'three digits', '3 numbers', 'three numbers'],
      ...['3', 'three', '4', 'four'].flatMap((n) => [`${n} digit`, `${n}-digit`]),
      ...['digits on', 'numbers on', 'code on', 'number on'],
    ],
    trigger: String.raw`cvv2?|cvc2?|cv2|cvn|csc|cid|card[ \t]+verification(?:[ \t]+(?:value|code|number))?|security[ \t]+(?:code|number|digits)|(?:3|three|4|four)[ \t-]digit[ \t]+(?:security[ \t]+)?(?:code|number)|(?:last[ \t]+)?(?:3|three)[ \t]+(?:digits|numbers)(?:[ \t]+on[ \t]+the[ \t]+back)?|(?:digits|numbers|code|number)[ \t]+on[ \t]+the[ \t]+(?:back|reverse)(?:[ \t]+of[ \t]+(?:the|my)[ \t]+card)?`,
    value: digitsValue(3, 8),
    gap: 5,
    accept: acceptCode(3),
    before: String.raw`${TOKEN_START}(?<v>\d{3,4})${BEFORE_GAP}`,
    beforeHint: /\d/,
  },
  {
    category: 'otp',
    keywords: [
      ...'otp onetime tan mtan passcode'.split(' '),
      ...['one time', 'one-time', '6 digit', '6-digit', 'six digit', 'six-digit'],
      ...'verification confirmation authentication authorisation authorization auth login log-in signin sms text 2fa mfa activation reset secret transaction approval'
        .split(' ')
        .map((word) => `${word} code`),
      ...['sign in code', 'sign-in code'],
      ...['you', 'they', 'u', 'the', 'your', 'i', 'we'].map((who) => `code ${who}`),
    ],
    trigger: String.raw`otp|one[ \t-]?time[ \t]+(?:pass[ \t]?code|password|code|pin|passcode)|(?:verification|confirmation|authentication|authorisation|authorization|auth|login|log-?in|sign[ \t-]?in|signin|sms|text|2fa|mfa|activation|reset|secret|transaction|approval|6[ \t-]digit|six[ \t-]digit)[ \t]+code|m?tan|passcode|code[ \t]+(?:you|they|u|the[ \t]+bank|your[ \t]+app|the[ \t]+app)[ \t]+(?:just[ \t]+)?(?:sent|texted|gave|emailed)(?:[ \t]+me)?|code[ \t]+(?:i|we)[ \t]+(?:just[ \t]+)?(?:got|received|was[ \t]+sent|were[ \t]+sent)`,
    value: String.raw`(?:[a-z]{1,3}-)?\d(?:[ \t-]?\d){3,9}(?!\d)|(?=[a-z]{0,9}\d)[a-z0-9]{4,10}${NOT_ALNUM}|${NUMBER_WORD_RUN(4, 10)}${NOT_ALNUM}`,
    gap: 5,
    accept: acceptCode(4),
    beforeHint: /\d/,
    before: String.raw`${TOKEN_START}(?<v>\d{4,8})[ \t]+(?:is|was)[ \t]+(?:my|the)[ \t]+(?:(?:verification|one-time|sms|security|login)[ \t]+)?`,
  },
  {
    // A bare "code": only with "is", ":" or "=" and not after "error", "promo" and the like.
    category: 'otp',
    keywords: ['code'],
    trigger: 'code',
    fallback: true,
    value: String.raw`(?:[a-z]{1,3}-)?\d(?:[ \t-]?\d){3,9}(?!\d)|${NUMBER_WORD_RUN(4, 10)}${NOT_ALNUM}`,
    accept: acceptBareCode,
  },
  {
    category: 'security_answer',
    keywords: [
      ...'mother mum mom father dad maiden first childhood dog cat pet birthplace favourite favorite security answer memorable secret'.split(
        ' ',
      ),
      ...['name of', 'primary school', 'high school', 'secondary school', 'elementary school'],
      ...['city', 'town', 'place', 'village', 'hospital', 'country', 'street', 'road'].flatMap((w) => [
        `${w} where`,
        `${w} i`,
        `${w} you`,
        `${w} of`,
      ]),
    ],
    trigger: SECURITY_QUESTION,
    connector: ANSWER_CONNECTOR,
    value: ANSWER_VALUE,
    accept: acceptAnswer,
    before: String.raw`${TOKEN_START}(?<v>[\p{Lu}][\p{L}'’-]{1,30})[ \t]+(?:is|was)[ \t]+(?:my|the)[ \t]+`,
    beforeHint: /(?:is|was)[ \t]+(?:my|the)[ \t]+$/i,
  },
];
