/**
 * Numbers that identify a person when their neighbour words say what they are: customer,
 * reference, client and member numbers, account numbers, sort codes, usernames, passport and
 * national id numbers. Shorter than the 6 digits the default number rule masks on its own
 * ("customer number 48213", "account 12345"), or mixed with letters ("client ID C-4821-X").
 */
import { isCommonWord } from '../words';
import { trimSpan, type ContextMatch, type ContextRule } from './context';

// Letters and digits joined by - / . or by single spaces before a digit or a lone letter
// ("AB 12 34 56 C"), so a following word is not taken in.
const ID_VALUE = String.raw`[a-z0-9](?:[a-z0-9]|[-/._](?=[a-z0-9])|[ \t](?=\d|[a-z](?![\p{L}\p{N}]))){2,34}(?![\p{L}\p{N}])`;
const NOT_AN_ID = /^(?:(?:19|20)\d\d|\d{1,3}[.,]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}:\d\d)$/;

function acceptId(m: ContextMatch): [number, number] | null {
  const [start, end] = trimSpan(m.text, m.start, m.end);
  const value = m.text.slice(start, end);
  const digits = value.replace(/\D/g, '').length;
  const letters = value.replace(/[^a-z]/gi, '').length;
  if (NOT_AN_ID.test(value)) return null;
  if (digits >= 3 || (digits >= 2 && letters >= 2)) return [start, end];
  return null;
}

function acceptUsername(m: ContextMatch): [number, number] | null {
  const [start, end] = trimSpan(m.text, m.start, m.end);
  const value = m.text.slice(start, end);
  if (value.length < 3 || isCommonWord(value)) return null;
  if (!m.connector && !/[\d_.@-]/.test(value)) return null;
  return [start, end];
}

const CUSTOMER = String.raw`(?:customer|client|member(?:ship)?|loyalty|rewards|policy|contract|loan|mortgage|case|ticket|application|claim|complaint|booking|card[ \t]?holder|user|crn|cif)[ \t]+(?:number|no\.?|nr\.?|num|#|id|ref(?:erence)?|code|account)(?:[ \t]+number)?|customer[ \t]+reference[ \t]+number|reference(?:[ \t]+(?:number|no\.?|code))?|ref\.?(?:[ \t]+(?:no\.?|number))?|roll[ \t]+number|building[ \t]+society[ \t]+(?:number|roll[ \t]+number)|kundennummer|num[ée]ro[ \t]+(?:de[ \t]+)?client|n[úu]mero[ \t]+de[ \t]+cliente|codice[ \t]+cliente|klantnummer`;
const ACCOUNT = String.raw`(?:account|acc(?:oun)?t|acc\.?|a/c)(?:[ \t]+(?:number|no\.?|nr\.?|num|#|id|ref(?:erence)?))?|kontonummer|konto|num[ée]ro[ \t]+de[ \t]+compte|n[úu]mero[ \t]+de[ \t]+cuenta|numero[ \t]+di[ \t]+conto|rekeningnummer`;
const NATIONAL_ID = String.raw`national[ \t]+insurance(?:[ \t]+(?:number|no\.?))?|ni[ \t]+(?:number|no\.?)|nino|social[ \t]+security(?:[ \t]+(?:number|no\.?))?|ssn|sin|tax[ \t]+(?:id|number|code|file[ \t]+number|reference)|tin|utr|nif|nie|dni|cif|nir|insee|num[ée]ro[ \t]+de[ \t]+s[ée]curit[ée][ \t]+sociale|bsn|burgerservicenummer|ppsn?(?:[ \t]+(?:number|no\.?))?|pesel|codice[ \t]+fiscale|steuer-?id|steueridentifikationsnummer|personalausweis(?:nummer)?|ausweis(?:nummer)?|id[ \t]+card(?:[ \t]+(?:number|no\.?))?|id[ \t]+(?:number|no\.?)|identity[ \t]+(?:card[ \t]+)?(?:number|no\.?)|national[ \t]+id(?:entity)?(?:[ \t]+(?:card|number|no\.?))*|driving[ \t]+licen[cs]e(?:[ \t]+(?:number|no\.?))?|driver['’]?s[ \t]+licen[cs]e(?:[ \t]+(?:number|no\.?))?|licen[cs]e[ \t]+(?:number|no\.?)|personnummer|carte[ \t]+d['’]identit[ée]|documento[ \t]+de[ \t]+identidad|carta[ \t]+d['’]identit[àa]|rijbewijs|identiteitskaart|rijksregisternummer|numéro[ \t]+national`;
const PASSPORT = String.raw`passport(?:[ \t]+(?:number|no\.?|#))?|reisepass(?:nummer)?|pasaporte|passaporto|paspoort|passeport|num[ée]ro[ \t]+de[ \t]+passeport`;

export const identifierRules: ContextRule[] = [
  {
    category: 'sort_code',
    keywords: ['sort', 'sort-code', 'sortcode', 's/c', 'bank code', 'routing', 'aba', 'bsb', 'blz', 'bankleitzahl', 'transit number'],
    trigger: String.raw`sort[ \t-]?code|s/c|bank[ \t]+code|routing(?:[ \t]+(?:number|no\.?))?|aba|bsb|blz|bankleitzahl|transit[ \t]+number`,
    value: String.raw`\d\d[ \t.-]{0,3}\d\d[ \t.-]{0,3}\d\d(?:\d{2,3})?(?!\d)`,
    accept: (m) => trimSpan(m.text, m.start, m.end),
  },
  {
    category: 'passport',
    keywords: ['passport', 'reisepass', 'reisepassnummer', 'pasaporte', 'passaporto', 'paspoort', 'passeport', 'numéro de', 'numero de'],
    trigger: PASSPORT,
    value: ID_VALUE,
    accept: acceptId,
  },
  {
    category: 'national_id',
    keywords: (
      'national nino social ssn sin tax tin utr nif nie dni cif nir insee bsn burgerservicenummer pps ppsn pesel steuer steuerid ' +
      'steueridentifikationsnummer personalausweis personalausweisnummer ausweis ausweisnummer identity driver drivers personnummer ' +
      'rijbewijs identiteitskaart rijksregisternummer'
    )
      .split(' ')
      .concat([
        'ni number',
        'ni no',
        'id card',
        'id number',
        'id no',
        'driving licence',
        'driving license',
        'licence number',
        'license number',
      ])
      .concat([
        'licence no',
        'license no',
        'numéro de',
        'numero de',
        'numéro national',
        'codice fiscale',
        'carte d',
        'documento de',
        'carta d',
      ]),
    trigger: NATIONAL_ID,
    value: ID_VALUE,
    accept: acceptId,
  },
  {
    category: 'username',
    keywords: [
      'user name',
      'user-name',
      'username',
      'user id',
      'user-id',
      'userid',
      'login',
      'log in',
      'log-in',
      'login id',
      'customer login',
      'member login',
    ],
    trigger: String.raw`user[ \t-]?name|user[ \t-]?id|login(?:[ \t]+(?:id|name))?|log[ \t-]?in[ \t]+(?:id|name)|customer[ \t]+login|member[ \t]+login`,
    value: String.raw`[^\s"“”,;]{1,64}`,
    accept: acceptUsername,
  },
  {
    category: 'customer_ref',
    keywords: (
      'customer client member membership loyalty rewards policy contract loan mortgage case ticket application claim complaint booking ' +
      'cardholder user crn cif reference ref kundennummer klantnummer'
    )
      .split(' ')
      .concat(['card holder', 'roll number', 'building society', 'numéro client', 'numero client', 'numéro de', 'numero de', 'número de'])
      .concat(['codice cliente']),
    trigger: CUSTOMER,
    value: ID_VALUE,
    accept: acceptId,
  },
  {
    category: 'account',
    keywords: [
      'account',
      'acct',
      'acc',
      'a/c',
      'kontonummer',
      'konto',
      'numéro de',
      'numero de',
      'número de',
      'numero di',
      'rekeningnummer',
    ],
    trigger: ACCOUNT,
    value: ID_VALUE,
    accept: acceptId,
  },
];
