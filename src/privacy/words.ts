/**
 * Word lists the context recognisers use to tell a value from ordinary words: "my password is
 * hunter2" has a value, "my password is not working" has none; "I'm Sarah" names someone, "I'm
 * Unable to log in" (title case) does not. Lower case; checked against a token's lower-case form.
 */

const words = (list: string): ReadonlySet<string> => new Set(list.trim().split(/\s+/));

/** Function words, frequent verbs, adjectives and banking words: never a name or a secret by themselves. */
export const COMMON_WORDS = words(`
a about above absolutely abroad accept accepted access account accounts actually add added address after again against ago
agree all allowed almost alone already also always am amount an and another answer any anymore anyone anything app apple
apply approved are aren't around arrive arrived as ask asked asking at atm auto automatic available away back bad balance
bank banking be because become been before being below best better between big bill bit blocked both broken bug business
but buy by call called calling can can't cancel cancelled cannot card cards case cash catch change changed changing charge
charged charges check checked cheque choose clear close closed code come coming company compromised concerned confirm
confused contact contactless continue correct cost could couldn't country credit currency current currently customer daily
date day days dear debit declined definitely delete denied deposit did didn't different difficult digits direct disabled
do does doesn't doing don't done double down due during each early easy either else email empty enabled end ending enough
enter entered error even ever every everything exactly example exchange expired extra fail failed fails failing fair fake
far fee fees few find fine first fix fixed for forgot forgotten found fraud free frozen from frustrated full funds further
get gets getting give given go goes going gone good got great had happen happened happening happy hard has hasn't have
haven't having he hello help helpful her here hey hi high him his hold home hope how however i i'd i'll i'm i've id if
immediately important in incorrect information instead interested international into invalid is isn't issue it it's its
just keep kind know last late later least left less let like likely limit little live lock locked log logged login long
look looking lost lot made mail main make making many may maybe me mean message might mine minute minutes missing mistake
mobile money month monthly more morning most much must my myself name need needed needs never new next nice night no none
nor normal not nothing notice now number of off ok okay old on once one online only open or order other our out over own
paid password pay payment payments pending people perhaps person phone pin place please plus possible pounds present pretty
probably problem process processing quick quite rate rather really reason received recent recently refund refused
registered rejected remember remove request required reset right safe same saved say says secure security see seems sent
service set setting settings several shall she short should show shown simple since single so some someone something
sometimes soon sorry still stolen stop stopped strong stuck such support supposed sure suspended system take taken talk
team tell than thank thanks that that's the their them then there there's these they they're thing think this those
though through time times to today together told too top transaction transfer transferred travel travelling tried trouble
true try trying two unable under understand unfortunately unknown unlock until up update updated upset urgent us use used
useful user using usual usually valid verify very via wait waiting want wanted wants was wasn't way we we're weak week
weeks well went were weren't what what's when where whether which while who why will with within without won't work
worked working works worried would wouldn't wrong yes yesterday yet you you're your yours
spelt spelled misspelled misspelt printed shown displayed listed written showing appearing mentioned missing
`);

/** Capitalised words that follow "I'm", "This is" or a sign-off without being a name. */
export const NOT_NAMES = words(`
mr mrs ms miss mx dr prof sir madam dame lady lord herr frau mme mlle monsieur madame señor señora sr sra srta sig signor
signora dhr mevr
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august september
october november december christmas easter british english scottish welsh irish american canadian australian french
german spanish italian dutch belgian polish portuguese swiss austrian indian chinese japanese european new customer
brazilian mexican argentinian argentine colombian chilean peruvian venezuelan cuban nigerian ghanaian kenyan african
egyptian moroccan algerian tunisian turkish greek russian ukrainian romanian bulgarian hungarian czech slovak croatian
serbian slovenian bosnian albanian lithuanian latvian estonian finnish swedish norwegian danish icelandic israeli
iranian iraqi syrian lebanese jordanian saudi emirati pakistani bangladeshi nepali thai vietnamese filipino indonesian
malaysian singaporean korean taiwanese kiwi asian arab muslim jewish catholic hindu
client member visa mastercard amex maestro paypal revolut monzo starling barclays hsbc lloyds natwest santander halifax
nationwide tsb apple google amazon netflix spotify uber ebay western union wise klarna stripe sepa swift bacs chaps
faster payments bank team support service manager admin ceo student retired unemployed self employed ok okay fine sorry
samsung galaxy pixel iphone ipad android chrome firefox safari ios windows mac microsoft xbox playstation steam airbnb
booking expedia ryanair easyjet trainline tfl deliveroo uber eats tesco sainsbury asda morrisons aldi lidl boots argos
currys ikea virgin media sky bt vodafone ee o2 three coinbase binance transferwise zelle venmo cash app ltd limited plc
inc gmbh group services energy gas electric water insurance council hmrc dvla nhs gov post office royal mail dhl ups
fedex hermes evri direct debit standing order card account section act consumer credit financial ombudsman
afraid glad happy unable sure still also really very so not just currently already again here there abroad away back
home outside inside trying looking writing calling contacting wondering hoping having getting going waiting travelling
moving using concerned worried confused annoyed frustrated upset disappointed interested
`);

/** Words that end a value: conjunctions, and the start of a new clause. */
export const CLAUSE_WORDS = words(`
and but or so because since as if when while though although please thanks thank can could would will should i i'm
i've i'll it it's is was are were which who that what how why my your our the a an to for from with on in at by of
`);

/** True when `token` (any case, trailing punctuation ignored) is an ordinary word rather than a value. */
export function isCommonWord(token: string): boolean {
  const word = token.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
  return COMMON_WORDS.has(word) || CLAUSE_WORDS.has(word);
}
