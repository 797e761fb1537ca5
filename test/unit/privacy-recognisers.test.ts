/**
 * Each recogniser on the forms customers write, and on the look-alikes it must leave alone.
 * The placeholder names the category: `[PIN]` is the pin recogniser's.
 */
import { describe, expect, it } from 'vitest';
import { maskPersonalData } from '../../src/privacy/mask';

const mask = (text: string): string => maskPersonalData(text).text;

/** Each case: input, then the masked text expected. */
type Case = [string, string];

function masks(title: string, cases: Case[]): void {
  describe(title, () => {
    it.each(cases)('%s', (input, expected) => {
      expect(mask(input)).toBe(expected);
    });
  });
}

masks('cards: Luhn, any separator, glued, in words', [
  ['4532.0151.1283.0366', '[CARD]'],
  ['5425  2334  3010  9903', '[CARD]'],
  ['4532 - 0151 - 1283 - 0366 pls', '[CARD] pls'],
  ['card no 4 5 3 2 0 1 5 1 1 2 8 3 0 3 6 6', 'card no [CARD]'],
  ['four five three two zero one five one one two eight three zero three six six', '[CARD]'],
  ['fourfivethreetwozeroonefiveoneonetwoeightthreezerothreesixsix', '[CARD]'],
  ['oh seven seven double oh nine oh oh one two three', '[NUMBER]'],
]);

masks('IBANs (ibantools): any case and separators, length by country', [
  ['GB82 WEST 1234 5698 7654 32', '[IBAN]'],
  ['gb82.west.1234.5698.7654.32 ok', '[IBAN] ok'],
  ['iban: de89-3704-0044-0532-0130-00', 'iban: [IBAN]'],
  ['NL91 ABNA 0417 1643 00 and then', '[IBAN] and then'],
]);

masks('emails, plain and written to dodge filters', [
  ['jane.doe+bank@example.co.uk', '[EMAIL]'],
  ['john dot smith at gmail dot com', '[EMAIL]'],
  ['john.smith(at)gmail.com', '[EMAIL]'],
  ['j [at] mail [dot] example [dot] org', '[EMAIL]'],
  ['JOHN AT GMAIL DOT COM', '[EMAIL]'],
  ['my email is jsmith at outlook.com', 'my email is [EMAIL]'],
  ['I paid at amazon.com yesterday', 'I paid at amazon.com yesterday'],
  ['meet at the ATM', 'meet at the ATM'],
]);

masks('phone numbers (libphonenumber-js) and slash forms', [
  ['call 030/1234567', 'call [PHONE]'],
  ['+44 7700 900123', '[PHONE]'],
  ['0044 20 7946 0958', '[PHONE]'],
  ['(415) 555-2671', '[PHONE]'],
  ['ring (020 7946 0958)', 'ring ([PHONE])'],
]);

masks('the default: any 6+ digit run that is not an amount, a date or a time', [
  ['ref 123456', 'ref [CUSTOMER_REF]'],
  ['it is 1234567 now', 'it is [NUMBER] now'],
  ['12 34 56 78', '[NUMBER]'],
  ['ID12345678X', '[NUMBER]'],
  ['L01X00T47', '[NUMBER]'],
  ['AB12CD34', '[ID]'],
  ['£1,250.00 and 1.000,50 EUR and $3400 and 12 500 000,00 €', '£1,250.00 and 1.000,50 EUR and $3400 and 12 500 000,00 €'],
  ['15/03/2024 10:30, 2023-2024, 3.5%, v2.3.14, rate 1.17245', '15/03/2024 10:30, 2023-2024, 3.5%, v2.3.14, rate 1.17245'],
  ['card ending 1234, PIN blocked', 'card ending 1234, PIN blocked'],
]);

masks('national ids', [
  ['NI: AB 12 34 56 C', 'NI: [NATIONAL_ID]'],
  ['ssn 078-05-1120', 'ssn [NATIONAL_ID]'],
  ['DNI 12345678Z', 'DNI [NATIONAL_ID]'],
  ['NIE X-1234567-L', 'NIE [NATIONAL_ID]'],
  ['CF RSSMRA85T10A562S', 'CF [NATIONAL_ID]'],
  ['passport number C01X00T47', 'passport number [PASSPORT]'],
  ['my PPSN is 1234567TA', 'my PPSN is [NATIONAL_ID]'],
]);

masks('context rules: secrets only their neighbour words give away', [
  ['my pin is 4821', 'my pin is [PIN]'],
  ['PIN: four eight two one', 'PIN: [PIN]'],
  ['is 1234 a safe pin', 'is [PIN] a safe pin'],
  ['my pin is either 2873 or 6590', 'my pin is either [PIN] or [PIN]'],
  ['I forgot my pin', 'I forgot my pin'],
  ['pin blocked after 3 tries', 'pin blocked after 3 tries'],
  ['the cvv is 123', 'the cvv is [CVV]'],
  ['3 digits on the back: 417', '3 digits on the back: [CVV]'],
  ['verification code 4471', 'verification code [OTP]'],
  ['the code you sent me is 8830', 'the code you sent me is [OTP]'],
  ['error code 4012', 'error code 4012'],
  ['my password is hunter2', 'my password is [PASSWORD]'],
  ['password: "correct horse"', 'password: [PASSWORD]'],
  ['hunter2 is my password', '[PASSWORD] is my password'],
  ['how do I reset my password', 'how do I reset my password'],
  ['my password is not working', 'my password is not working'],
  ["my mother's maiden name is Thompson", "my mother's maiden name is [SECURITY_ANSWER]"],
  ['first pet was a dog called Rex', 'first pet was a dog called [SECURITY_ANSWER]'],
  ['sort code 12-34-56', 'sort code [SORT_CODE]'],
  ['customer number 48213', 'customer number [CUSTOMER_REF]'],
  ['account 12345', 'account [ACCOUNT]'],
  ['account for 3 years', 'account for 3 years'],
  ['username jdoe_1984', 'username [USERNAME]'],
]);

masks('dates of birth and card expiry', [
  ['born on 3rd March 1985', 'born on [DOB]'],
  ['DOB: 03/03/85', 'DOB: [DOB]'],
  ['date of birth 1985-03-03', 'date of birth [DOB]'],
  ['14.02.1990 is my date of birth', '[DOB] is my date of birth'],
  ['born in 1985', 'born in [DOB]'],
  ['exp 05/27', 'exp [CARD_EXPIRY]'],
  ['valid thru May 2027', 'valid thru [CARD_EXPIRY]'],
  ['the card says 07/31 on the front', 'the card says [CARD_EXPIRY] on the front'],
  ['paid on 15/03/2024', 'paid on 15/03/2024'],
  ['my card expires next month', 'my card expires next month'],
]);

masks('names, from what introduces them', [
  ["My name is Sarah O'Connor", 'My name is [NAME]'],
  ['my name is sarah oconnor and I need help', 'my name is [NAME] and I need help'],
  ["I'm Tom", "I'm [NAME]"],
  ['this is Anna de Vries', 'this is [NAME]'],
  ['name on card: J. SMITH', 'name on card: [NAME]'],
  ['Mrs Patel here', 'Mrs [NAME] here'],
  ['Kind regards,\nJane Doe', 'Kind regards,\n[NAME]'],
  ['sent £50 to Callum McIntyre', 'sent £50 to [NAME]'],
  ["I'm Unable to log in", "I'm Unable to log in"],
  ['I AM LOCKED OUT', 'I AM LOCKED OUT'],
  ['payment to Amazon, transfer to Western Union', 'payment to Amazon, transfer to Western Union'],
  ['under Section 75', 'under Section 75'],
]);

masks('addresses and postcodes', [
  ['I live at 221B Baker Street, London NW1 6XE', 'I live at [ADDRESS]'],
  ['my address is 7 Elm Road and my card is lost', 'my address is [ADDRESS] and my card is lost'],
  ['send the card to Flat 3, 22 Acacia Avenue', 'send the card to [ADDRESS]'],
  ['Hauptstraße 5, 10115 Berlin', '[ADDRESS]'],
  ['12 rue de la Paix, 75002 Paris', '[ADDRESS]'],
  ['Calle Mayor 5, 28013 Madrid', '[ADDRESS]'],
  ['Via Roma 10, 00184 Roma', '[ADDRESS]'],
  ['Springfield, IL 62704', '[ADDRESS]'],
  ['postcode SW1A 1AA', 'postcode [POSTCODE]'],
  ['eircode D02 X285', 'eircode [POSTCODE]'],
  ['I moved to France last year', 'I moved to France last year'],
  ['how do I update my address', 'how do I update my address'],
  ['paid via PayPal 3 times', 'paid via PayPal 3 times'],
]);

describe('categories are reported, never values', () => {
  it('counts each category masked', () => {
    const result = maskPersonalData('pin 4821, card 4532 0151 1283 0366, born 1985, jo@example.com');
    expect(result.counts).toEqual({ pin: 1, card: 1, dob: 1, email: 1 });
    expect(JSON.stringify(result.counts)).not.toMatch(/4821|4532|1985|example/);
  });
});
