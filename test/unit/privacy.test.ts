/**
 * maskPersonalData: personal data in the tidy formats is masked by category; look-alikes are not.
 * (Recognisers one by one: privacy-recognisers.test.ts; the corpus: privacy-corpus.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { isValidIban, maskPersonalData, passesLuhn, type MaskResult } from '../../src/privacy/mask';

type Counts = MaskResult['counts'];

describe('maskPersonalData masks personal data', () => {
  it.each<[string, string, string, Counts]>([
    // Cards (Luhn-valid test numbers)
    ['a Visa number in groups of four', '4111 1111 1111 1111', '[CARD]', { card: 1 }],
    ['a card number with dashes', '4111-1111-1111-1111', '[CARD]', { card: 1 }],
    ['a compact 15-digit Amex', '378282246310005', '[CARD]', { card: 1 }],
    ['an Amex grouped 4-6-5', '3782 822463 10005', '[CARD]', { card: 1 }],
    ['a 13-digit Visa', '4222222222222', '[CARD]', { card: 1 }],
    [
      'a card in a sentence, comma after it',
      'My card 5555 5555 5555 4444, please block it.',
      'My card [CARD], please block it.',
      { card: 1 },
    ],
    ['two cards', 'Use 4111111111111111 not 6011-0009-9013-9424!', 'Use [CARD] not [CARD]!', { card: 2 }],
    // The expiry run on with a dash is masked with the card (the category is still card).
    ['a card followed by a dashed expiry', 'card 4111 1111 1111 1111-05', 'card [CARD]', { card: 1 }],
    // IBANs
    ['a UK IBAN in groups', 'GB82 WEST 1234 5698 7654 32', '[IBAN]', { iban: 1 }],
    ['a compact German IBAN', 'DE89370400440532013000', '[IBAN]', { iban: 1 }],
    ['a lower-case IBAN', 'send to gb82west12345698765432 today', 'send to [IBAN] today', { iban: 1 }],
    ['an IBAN in parentheses', '(IBAN: DE89 3704 0044 0532 0130 00).', '(IBAN: [IBAN]).', { iban: 1 }],
    ['a grouped IBAN followed by a four-letter word', 'BE68 5390 0754 7034 from here', '[IBAN] from here', { iban: 1 }],
    ['IBANs with letters in the account part', 'NL91ABNA0417164300 and FR1420041010050500013M02606', '[IBAN] and [IBAN]', { iban: 2 }],
    // Emails
    ['an email with plus and subdomains', 'jane.doe+bank@example.co.uk', '[EMAIL]', { email: 1 }],
    ['an email in angle brackets, full stop after it', 'Write to <j.smith@bank.io>.', 'Write to <[EMAIL]>.', { email: 1 }],
    ['an email with non-ASCII letters', 'josé@correo.es', '[EMAIL]', { email: 1 }],
    ['an email holding digits (before the phone pass)', 'mail 07700900123@sms.example.com', 'mail [EMAIL]', { email: 1 }],
    // Phones
    ['an international UK number', '+44 20 7946 0958', '[PHONE]', { phone: 1 }],
    ['a US number with country code and area code', 'Call +1 (415) 555-2671 now', 'Call [PHONE] now', { phone: 1 }],
    ['a 00-prefixed international number', '0044 20 7946 0958', '[PHONE]', { phone: 1 }],
    ['an ungrouped international number', '+442079460958', '[PHONE]', { phone: 1 }],
    ['a (0) trunk prefix', '+44 (0)20 7946 0958', '[PHONE]', { phone: 1 }],
    ['a UK landline', 'ring 020 7946 0958.', 'ring [PHONE].', { phone: 1 }],
    ['a US number with area code in parentheses', '(415) 555-2671', '[PHONE]', { phone: 1 }],
    ['a UK mobile', 'my mobile is 07700 900123', 'my mobile is [PHONE]', { phone: 1 }],
    ['a dotted US number', '415.555.2671', '[PHONE]', { phone: 1 }],
    ['a French number in pairs', '01 23 45 67 89', '[PHONE]', { phone: 1 }],
    ['a dotted French number (not a date)', '01.02.03.04.05', '[PHONE]', { phone: 1 }],
    ['a phone inside parentheses', '(020 7946 0958)', '([PHONE])', { phone: 1 }],
    // Account-number-like runs
    ['an 8-digit account number', 'account 12345678', 'account [ACCOUNT]', { account: 1 }],
    ['a 7-digit account number without context', 'to 1234567 please', 'to [NUMBER] please', { number: 1 }],
    ['a sort code with an account number', '12-34-56 12345678', '[NUMBER]', { number: 1 }],
    [
      'a sort code and account number apart',
      'sort code 12-34-56, account 12345678',
      'sort code [SORT_CODE], account [ACCOUNT]',
      { sort_code: 1, account: 1 },
    ],
    ['a spaced 12-digit number', '1234 5678 9012', '[NUMBER]', { number: 1 }],
    ['a 16-digit run that fails Luhn', '4111 1111 1111 1112', '[NUMBER]', { number: 1 }],
    ['a bare national phone number', '02079460958', '[PHONE]', { phone: 1 }],
    ['digits after a colon', 'account:12345678', 'account:[ACCOUNT]', { account: 1 }],
    ['a 6-digit order number (the default masks 6+ digits)', 'order 123456', 'order [NUMBER]', { number: 1 }],
    // A wrong check digit is still someone's account.
    ['a mistyped IBAN', 'GB82 WEST 1234 5698 7654 33', '[IBAN]', { iban: 1 }],
    ['an IP address', '192.168.100.200', '[IP_ADDRESS]', { ip_address: 1 }],
    ['a PIN after its word', 'PIN 0000', 'PIN [PIN]', { pin: 1 }],
    ['a 6-digit verification code', 'my code is 482913', 'my code is [OTP]', { otp: 1 }],
  ])('%s', (_, input, expected, counts) => {
    expect(maskPersonalData(input)).toEqual({ text: expected, masked: true, counts });
  });
});

describe('maskPersonalData leaves look-alikes and words without values alone', () => {
  it.each([
    ['an ISO date', 'on 2024-03-15'],
    ['a day/month/year date', 'on 15/03/2024'],
    ['a dotted date', 'on 15.03.2024'],
    ['a written date', 'on March 15, 2024'],
    ['a date and time', 'on 2024-03-15 10:30'],
    ['a dotted date starting with 0, then a time', '05.03.2024 10:30'],
    ['an ISO timestamp', '2024-03-15T10:30:00Z'],
    ['a date inside a file name', 'statement-2024-03-15.pdf'],
    ['a pound amount', 'I paid £1,250.00'],
    ['a dollar amount', 'worth $1,000,000'],
    ['a euro amount with space thousands and decimal comma', 'I paid 1 250,50 €'],
    ['an 8-digit euro amount', '12 500 000,00 €'],
    ['a currency code and amount', 'EUR 3400'],
    ['a time', 'at 10:30'],
    ['the last four digits of a card', 'card ending 1234'],
    ['a small count', 'it took 3 days'],
    ['a year', 'since 2024'],
    ['a year range', 'statements for 2023-2024'],
    ['a percentage', 'rate 3.5%'],
    ['a version number', 'app version 4.12.1'],
    ['a percentage with decimals', 'APR 19.9%'],
    ['words about a PIN without one', 'I forgot my pin'],
    ['words about a password without one', 'how do I reset my password'],
    ['an amount with comma thousands', 'a limit of 1,000,000'],
    ['text with no numbers at all', 'Why was my card declined? 🙁'],
    ['markup, Unicode and odd whitespace', '<b>بطاقتي</b>\n\t  ok '],
    ['the empty string', ''],
  ])('keeps %s', (_, input) => {
    const result = maskPersonalData(input);
    expect(result).toEqual({ text: input, masked: false, counts: {} });
  });
});

describe('maskPersonalData next to look-alikes', () => {
  it.each<[string, string, string, Counts]>([
    [
      'an account after an amount and a date',
      'paid £50 on 2024-03-15 from 12345678',
      'paid £50 on 2024-03-15 from [NUMBER]',
      { number: 1 },
    ],
    ['a number right after a date', 'on 2024-03-15 12345678', 'on 2024-03-15 [NUMBER]', { number: 1 }],
    ['a number right before a date', '12345678 2024-03-15', '[NUMBER] 2024-03-15', { number: 1 }],
    ['a number glued to a date by a dash (masked with it)', '12345678-2024-03-15', '[NUMBER]', { number: 1 }],
    ['a phone number in pairs of digits that start like a date', '01-02-03-04-05', '[PHONE]', { phone: 1 }],
    ['a number right after a time', 'at 10:30 12345678', 'at 10:30 [NUMBER]', { number: 1 }],
    ['a number right after comma thousands', 'paid 1,250 12345678', 'paid 1,250 [NUMBER]', { number: 1 }],
    [
      'a card next to its short expiry and a card-ending',
      'card 4111 1111 1111 1111 exp 05/27, old one ending 1234',
      'card [CARD] exp [CARD_EXPIRY], old one ending 1234',
      { card: 1, card_expiry: 1 },
    ],
    ['markup, emoji and whitespace kept around a card', '<b>💳 4111 1111 1111 1111</b>\n\tmerci', '<b>💳 [CARD]</b>\n\tmerci', { card: 1 }],
    [
      'one of each kind, counted',
      'Hi, I am jo@example.com, +44 7700 900123 or 020 7946 0958. Card 4111111111111111, IBAN GB82WEST12345698765432, acc 87654321, £1,250.00 on 15/03/2024.',
      'Hi, I am [EMAIL], [PHONE] or [PHONE]. Card [CARD], IBAN [IBAN], acc [ACCOUNT], £1,250.00 on 15/03/2024.',
      { email: 1, phone: 2, card: 1, iban: 1, account: 1 },
    ],
  ])('%s', (_, input, expected, counts) => {
    expect(maskPersonalData(input)).toEqual({ text: expected, masked: true, counts });
  });
});

describe('checksums', () => {
  it.each([
    ['4111111111111111', true],
    ['378282246310005', true],
    ['79927398713', true],
    ['4111111111111112', false],
    ['1234567812345678', false],
  ])('Luhn of %s is %s', (digits, valid) => {
    expect(passesLuhn(digits)).toBe(valid);
  });

  it.each([
    ['GB82 WEST 1234 5698 7654 32', true],
    ['de89370400440532013000', true],
    ['NO9386011117947', true],
    ['GB82 WEST 1234 5698 7654 33', false],
    ['GB28 WEST 1234 5698 7654 32', false],
    ['DE8937040044', false],
  ])('mod-97 of %s is %s', (iban, valid) => {
    expect(isValidIban(iban)).toBe(valid);
  });
});
