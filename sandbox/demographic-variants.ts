/**
 * How two hospitals' copies of one person differ, and the places a made person lives.
 * The sandbox keeps its own tables here (never the matcher's, identity/nicknames.ts), so
 * that the evaluation population is not built from the same knowledge the matcher has.
 */

/**
 * Formal given name -> the short form a registration desk may record. Looked up both
 * ways. Pairs are the common English short forms of names in `us-names.ts` and of the
 * Synthea fixtures' names.
 */
export const NICKNAMES: Readonly<Record<string, string>> = {
  Robert: 'Bob',
  William: 'Bill',
  Richard: 'Rick',
  James: 'Jim',
  John: 'Jack',
  Joseph: 'Joe',
  Thomas: 'Tom',
  Charles: 'Charlie',
  Michael: 'Mike',
  Daniel: 'Dan',
  Matthew: 'Matt',
  Peter: 'Pete',
  Jacob: 'Jake',
  Benjamin: 'Ben',
  Benedict: 'Benny',
  Antonio: 'Tony',
  Anthony: 'Anton',
  Dennis: 'Denny',
  Malcolm: 'Mal',
  Mohamed: 'Mo',
  Elisha: 'Eli',
  Christopher: 'Chris',
  David: 'Dave',
  Steven: 'Steve',
  Andrew: 'Andy',
  Joshua: 'Josh',
  Kenneth: 'Ken',
  Timothy: 'Tim',
  Ronald: 'Ron',
  Edward: 'Ed',
  Jeffrey: 'Jeff',
  Nicholas: 'Nick',
  Gregory: 'Greg',
  Alexander: 'Alex',
  Samuel: 'Sam',
  Patrick: 'Pat',
  Raymond: 'Ray',
  Gerald: 'Jerry',
  Lawrence: 'Larry',
  Frederick: 'Fred',
  Theodore: 'Ted',
  Zachary: 'Zach',
  Douglas: 'Doug',
  Leonard: 'Leo',
  Francis: 'Frank',
  Albert: 'Al',
  Philip: 'Phil',
  Margarita: 'Rita',
  Margaret: 'Peggy',
  Elizabeth: 'Liz',
  Lisbeth: 'Lisa',
  Alfreda: 'Freda',
  Katherine: 'Kate',
  Kathleen: 'Kathy',
  Catherine: 'Cathy',
  Patricia: 'Patty',
  Jennifer: 'Jen',
  Susan: 'Sue',
  Deborah: 'Debbie',
  Rebecca: 'Becky',
  Pamela: 'Pam',
  Christine: 'Chris',
  Cynthia: 'Cindy',
  Barbara: 'Barb',
  Jacqueline: 'Jackie',
  Victoria: 'Vicky',
  Samantha: 'Sam',
  Judith: 'Judy',
  Dorothy: 'Dot',
  Abigail: 'Abby',
  Alexandra: 'Sandra',
  Theresa: 'Tess',
  Valerie: 'Val',
  Josephine: 'Josie',
  Eleanor: 'Ellie',
  Veronica: 'Ronnie',
  Jessica: 'Jess',
  Stephanie: 'Steph',
  Kimberly: 'Kim',
  Natalie: 'Nat',
};

// Several formal names share a short form (Chris, Sam): the first listed wins.
const FORMAL_OF: ReadonlyMap<string, string> = new Map(
  Object.entries(NICKNAMES)
    .reverse()
    .map(([formal, nick]) => [nick, formal] as const),
);

/** The other form of a given name (formal <-> nickname), or undefined when the table has none. */
export function alternateGivenName(given: string): string | undefined {
  return NICKNAMES[given] ?? FORMAL_OF.get(given);
}

/** A Massachusetts town: its name, main ZIP and a few of its streets. */
export interface Town {
  city: string;
  postalCode: string;
}

/** Real Massachusetts towns with their main ZIP code (the Synthea population is Massachusetts). */
export const MA_TOWNS: readonly Town[] = [
  { city: 'Boston', postalCode: '02118' }, { city: 'Cambridge', postalCode: '02139' }, { city: 'Somerville', postalCode: '02143' },
  { city: 'Worcester', postalCode: '01609' }, { city: 'Springfield', postalCode: '01103' }, { city: 'Lowell', postalCode: '01852' },
  { city: 'Brockton', postalCode: '02301' }, { city: 'Quincy', postalCode: '02169' }, { city: 'Lynn', postalCode: '01902' },
  { city: 'New Bedford', postalCode: '02740' }, { city: 'Fall River', postalCode: '02720' }, { city: 'Newton', postalCode: '02458' },
  { city: 'Lawrence', postalCode: '01841' }, { city: 'Framingham', postalCode: '01701' }, { city: 'Haverhill', postalCode: '01830' },
  { city: 'Waltham', postalCode: '02451' }, { city: 'Malden', postalCode: '02148' }, { city: 'Medford', postalCode: '02155' },
  { city: 'Taunton', postalCode: '02780' }, { city: 'Chicopee', postalCode: '01013' }, { city: 'Weymouth', postalCode: '02188' },
  { city: 'Revere', postalCode: '02151' }, { city: 'Peabody', postalCode: '01960' }, { city: 'Methuen', postalCode: '01844' },
  { city: 'Barnstable', postalCode: '02630' }, { city: 'Pittsfield', postalCode: '01201' }, { city: 'Attleboro', postalCode: '02703' },
  { city: 'Arlington', postalCode: '02474' }, { city: 'Everett', postalCode: '02149' }, { city: 'Salem', postalCode: '01970' },
  { city: 'Westfield', postalCode: '01085' }, { city: 'Leominster', postalCode: '01453' }, { city: 'Fitchburg', postalCode: '01420' },
  { city: 'Holyoke', postalCode: '01040' }, { city: 'Beverly', postalCode: '01915' }, { city: 'Marlborough', postalCode: '01752' },
  { city: 'Woburn', postalCode: '01801' }, { city: 'Chelsea', postalCode: '02150' }, { city: 'Braintree', postalCode: '02184' },
  { city: 'Shrewsbury', postalCode: '01545' }, { city: 'Chelmsford', postalCode: '01824' }, { city: 'Andover', postalCode: '01810' },
  { city: 'Natick', postalCode: '01760' }, { city: 'Randolph', postalCode: '02368' }, { city: 'Watertown', postalCode: '02472' },
  { city: 'Lexington', postalCode: '02420' }, { city: 'Dedham', postalCode: '02026' }, { city: 'Needham', postalCode: '02492' },
  { city: 'Wellesley', postalCode: '02481' }, { city: 'Brookline', postalCode: '02445' }, { city: 'Northampton', postalCode: '01060' },
  { city: 'Amherst', postalCode: '01002' }, { city: 'Gloucester', postalCode: '01930' }, { city: 'Plymouth', postalCode: '02360' },
  { city: 'Falmouth', postalCode: '02540' }, { city: 'Milton', postalCode: '02186' }, { city: 'Norwood', postalCode: '02062' },
  { city: 'Billerica', postalCode: '01821' }, { city: 'Tewksbury', postalCode: '01876' }, { city: 'Dracut', postalCode: '01826' },
  { city: 'Franklin', postalCode: '02038' }, { city: 'Agawam', postalCode: '01001' }, { city: 'Burlington', postalCode: '01803' },
  { city: 'Stoughton', postalCode: '02072' }, { city: 'Wakefield', postalCode: '01880' }, { city: 'Reading', postalCode: '01867' },
  { city: 'Belmont', postalCode: '02478' }, { city: 'Saugus', postalCode: '01906' }, { city: 'Melrose', postalCode: '02176' },
  { city: 'Danvers', postalCode: '01923' },
];

/** Street names found in most Massachusetts towns. */
export const STREET_NAMES: readonly string[] = [
  'Main St', 'Washington St', 'Elm St', 'Oak St', 'Pine St', 'Maple Ave', 'Church St', 'High St', 'School St', 'Pleasant St',
  'Park Ave', 'Center St', 'Summer St', 'Union St', 'Water St', 'Highland Ave', 'Prospect St', 'Spring St', 'Chestnut St', 'Walnut St',
  'Central St', 'Winter St', 'Cedar St', 'Mill St', 'North St', 'South St', 'Franklin St', 'Lincoln St', 'Myrtle St', 'Cottage St',
  'Forest St', 'Grove St', 'Hillside Ave', 'Lake St', 'Liberty St', 'Adams St', 'Cherry St', 'Bridge St', 'Salem St', 'Beacon St',
];

/** Massachusetts area codes, for made phone numbers. */
export const MA_AREA_CODES: readonly string[] = ['617', '508', '781', '978', '413', '774', '339', '351'];

/**
 * How often the second hospital's (St. Jude's) copy of a person differs from the first's,
 * fixed before any matcher was run on the set and never to be tuned to one. Each rate is
 * the share of the records where the variation can happen (the condition in `when`).
 * Several variations may fall on one record, independently, as in real registries.
 */
export const CROSS_HOSPITAL_RATES = {
  /**
   * SSN not recorded. US hospitals stopped requiring it at registration (identity-theft
   * guidance); the issue measured "about half" missing at the second hospital.
   */
  ssnMissing: { rate: 0.5, when: 'the person has an SSN' },
  /** Registered under the short form of the given name (or the formal one). */
  nickname: { rate: 0.15, when: 'the given name has a short or formal form in NICKNAMES' },
  /**
   * One keying slip in the given name: a substitution, a transposition of neighbours, a
   * dropped or a doubled letter. Name typos are the commonest duplicate cause in MPI
   * audits; given names, keyed fast and often spelled by ear, more than family names.
   */
  givenTypo: { rate: 0.05, when: 'the given name has 3 or more letters' },
  /** One keying slip in the family name (read from an ID or insurance card more often). */
  familyTypo: { rate: 0.03, when: 'the family name has 3 or more letters' },
  /**
   * Took a spouse's family name since the first hospital registered her. Of the married
   * records, half keep the old name as `use: maiden`, half drop it (desks rarely ask).
   */
  marriedName: { rate: 0.08, when: 'a woman aged 18 or more' },
  marriedKeepsMaiden: { rate: 0.5, when: 'a married-name record' },
  /** Moved between visits: a new address (about 1 in 8 Americans moves each year). */
  moved: { rate: 0.2, when: 'always' },
  /** Movers who also changed their phone number. */
  moverNewPhone: { rate: 0.5, when: 'a moved record' },
  /**
   * Day and month keyed the other way round (a European form, a misheard date). A date
   * can only be swapped when the day is 12 or less and differs from the month, which is
   * 132 of 365.25 dates (36%); 2% of all records, so 5.5% of the swappable ones.
   */
  dayMonthSwapped: { rate: 0.02 / (132 / 365.25), when: 'day <= 12 and day != month' },
  /** One digit of the birth date keyed wrong (a date that still exists, in the past). */
  birthDateDigit: { rate: 0.015, when: 'always' },
  /** No phone recorded. */
  phoneMissing: { rate: 0.1, when: 'the first hospital has a phone' },
  /** Held by the first hospital only (kept from the earlier sandbox). */
  onlyFirstHospital: { rate: 0.1, when: 'always' },
} as const;

/**
 * How often a made person is one of the hard negatives a registry holds: different
 * people whose records look alike. Both hospitals hold them as separate people.
 */
export const POPULATION_RATES = {
  /** A twin of an earlier person: same family name, birth date, address and phone. US twin births are ~3%. */
  twin: 0.02,
  /** A spouse of an earlier person: same family name, address and phone; another birth date. */
  household: 0.05,
  /** Same given and family name as an earlier person, another birth date and address (common names). */
  lookalike: 0.02,
} as const;
