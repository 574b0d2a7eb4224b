import type { Address, ContactPoint, Extension, HumanName, Identifier } from '@medplum/fhirtypes';
import type { FhirResource, Patient } from '../datasources/fhir/fhir-types.js';
import { alternateGivenName, MA_AREA_CODES, MA_TOWNS, POPULATION_RATES, STREET_NAMES } from './demographic-variants.js';
import type { FixturePatient } from './fixtures.js';
import { hashDigits, hashUnit } from './hash.js';
import { FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES, SURNAMES } from './us-names.js';

/** Who a made hard negative resembles: by the other person's fixture `patientId`. */
export interface PersonRelation {
  kind: 'twin' | 'household' | 'lookalike';
  of: string;
}

/** The people made so far (the loaded bundles first) and every identifier value in use. */
interface Population {
  people: FixturePatient[];
  byId: Map<string, FixturePatient>;
  /** People a hard negative may resemble: not hard negatives themselves, with a name and birth date. */
  regulars: FixturePatient[];
  identifiers: Set<string>;
}

const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';
const DL_SYSTEM = 'urn:oid:2.16.840.1.113883.4.3.25';
const PASSPORT_SYSTEM = 'http://standardhealthrecord.org/fhir/StructureDefinition/passportNumber';
const MAIDEN_EXT = 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName';
/** No made birth date lies after this day (the sandbox's records are from 2025). */
export const POPULATION_REFERENCE_DATE = '2025-01-01';
/** Regular made people are born up to this many days either side of their bundle's patient. */
const BIRTH_SHIFT_DAYS = 5 * 365;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

const pick = <T>(items: readonly T[], ...key: string[]): T => items[Math.floor(hashUnit(...key) * items.length)]!;

/**
 * The people made after the loaded bundles, up to `target` in all. Each is another person
 * made from a bundle of their gender (half women, half men, whatever the bundles hold): the
 * clinical resources keep their content under new ids (every reference follows), and the
 * person gets demographics of their own from the name and town lists, deterministic by
 * hashes. About 9% are hard negatives of an earlier regular person (`POPULATION_RATES`):
 * a twin, a spouse in the household, a look-alike of the same name. Every made SSN,
 * licence and passport number is unique.
 */
export function makePopulation(loaded: readonly FixturePatient[], target: number, patientsOnly: boolean): FixturePatient[] {
  const population: Population = { people: [], byId: new Map(), regulars: [], identifiers: new Set() };
  for (const f of loaded) {
    add(population, f);
    for (const id of f.patient.identifier ?? []) if (id.value) population.identifiers.add(id.value);
  }
  const made = new Map<FixturePatient, number>();
  const byGender = new Map<string, FixturePatient[]>();
  for (const f of loaded) byGender.set(f.patient.gender ?? 'unknown', [...(byGender.get(f.patient.gender ?? 'unknown') ?? []), f]);
  const madeOfGender = new Map<string, number>();
  for (let i = 0; population.people.length < target; i++) {
    const key = `made-${i}`;
    const relation = chooseRelation(key, population);
    const anchor = relation && population.byId.get(relation.of)!.patient;
    const gender: Patient['gender'] =
      relation?.kind === 'twin'
        ? hashUnit('twin-gender', key) < 0.5 ? otherGender(anchor!.gender) : anchor!.gender
        : relation?.kind === 'household'
          ? hashUnit('spouse-gender', key) < 0.9 ? otherGender(anchor!.gender) : anchor!.gender
          : relation?.kind === 'lookalike'
            ? anchor!.gender
            : hashUnit('gender', key) < 0.5 ? 'female' : 'male';
    const pool = byGender.get(gender ?? 'unknown') ?? loaded;
    const k = madeOfGender.get(gender ?? 'unknown') ?? 0;
    madeOfGender.set(gender ?? 'unknown', k + 1);
    const source = pool[k % pool.length]!;
    const n = (made.get(source) ?? 0) + 1;
    made.set(source, n);
    add(population, makePerson(source, n, relation, gender, population, patientsOnly));
  }
  return population.people.slice(loaded.length);
}

function add(population: Population, person: FixturePatient): void {
  population.people.push(person);
  population.byId.set(person.patientId, person);
  const name = officialName(person.patient);
  if (!person.relation && person.patient.birthDate && name?.family && name.given?.[0]) population.regulars.push(person);
}

function makePerson(
  source: FixturePatient,
  n: number,
  relation: PersonRelation | undefined,
  gender: Patient['gender'],
  population: Population,
  patientsOnly: boolean,
): FixturePatient {
  const resources = rewriteIds(patientsOnly ? [source.patient] : source.resources, source.resources, n);
  const patient = resources.find((r): r is Patient => r.resourceType === 'Patient')!;
  const id = patient.id!;
  const anchor = relation && population.byId.get(relation.of)!.patient;
  const anchorName = anchor && officialName(anchor);
  patient.gender = gender;

  const given = relation?.kind === 'lookalike' ? anchorName!.given![0]! : chooseGiven(id, gender, anchorName?.given?.[0]);
  const family = relation ? anchorName!.family! : pick(SURNAMES, 'family', id);
  const prefix = officialName(source.patient)?.prefix?.length ? [gender === 'male' ? 'Mr.' : 'Ms.'] : undefined;
  patient.name = [{ use: 'official', family, given: [given], ...(prefix && { prefix }) } satisfies HumanName];
  delete patient.text; // Synthea's narrative names the bundle's person

  patient.birthDate = chooseBirthDate(id, source.patient.birthDate!, relation, anchor);
  const deceased = patient.deceasedDateTime?.slice(0, 10);
  if (deceased && deceased <= patient.birthDate) delete patient.deceasedDateTime;
  if (relation?.kind === 'twin') {
    delete patient.multipleBirthInteger;
    patient.multipleBirthBoolean = true;
  }

  const sharesHome = relation?.kind === 'twin' || relation?.kind === 'household';
  patient.address = sharesHome ? structuredClone(anchor!.address ?? []) : [madeAddress(id)];
  patient.telecom = sharesHome ? structuredClone(anchor!.telecom ?? []) : [{ system: 'phone', value: madePhone('phone', id), use: 'home' } satisfies ContactPoint];
  patient.identifier = (patient.identifier ?? []).map((ident) => remakeIdentifier(ident, id, population.identifiers));
  patient.extension = (patient.extension ?? []).map((ext): Extension => (ext.url === MAIDEN_EXT ? { url: MAIDEN_EXT, valueString: pick(SURNAMES, 'mother', id) } : ext));

  return { file: `${source.file.replace(/\.json$/, '')}-v${n}.json`, patientId: id, patient, resources, ...(relation && { relation }) };
}

/** Deep copies with every resource id of the bundle given the suffix `-v<n>`, wherever it appears. */
function rewriteIds(copy: readonly FhirResource[], bundle: readonly FhirResource[], n: number): FhirResource[] {
  const { ids, others } = bundleIds(bundle);
  let text = JSON.stringify(copy).replace(UUID, (m) => (ids.has(m) ? `${m}-v${n}` : m));
  // Synthea's ids are UUIDs; any that is not still gets its suffix (the slower way).
  for (const id of others) text = text.split(`"${id}"`).join(`"${id}-v${n}"`);
  return JSON.parse(text) as FhirResource[];
}

const idsOfBundle = new WeakMap<readonly FhirResource[], { ids: ReadonlySet<string>; others: readonly string[] }>();

/** A bundle's resource ids, and those that are not UUIDs; once per bundle (10,000 people reuse 30). */
function bundleIds(bundle: readonly FhirResource[]): { ids: ReadonlySet<string>; others: readonly string[] } {
  let hit = idsOfBundle.get(bundle);
  if (!hit) {
    const ids = new Set(bundle.flatMap((r) => (r.id ? [r.id] : [])));
    hit = { ids, others: [...ids].filter((id) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) };
    idsOfBundle.set(bundle, hit);
  }
  return hit;
}

function chooseRelation(id: string, population: Population): PersonRelation | undefined {
  const u = hashUnit('population-kind', id);
  const { twin, household, lookalike } = POPULATION_RATES;
  const kind = u < twin ? 'twin' : u < twin + household ? 'household' : u < twin + household + lookalike ? 'lookalike' : undefined;
  if (!kind) return undefined;
  // Hard negatives resemble a regular person, so that no chain of look-alikes forms.
  if (population.regulars.length === 0) return undefined;
  return { kind, of: pick(population.regulars, 'anchor', id).patientId };
}

function otherGender(g: Patient['gender']): Patient['gender'] {
  return g === 'male' ? 'female' : g === 'female' ? 'male' : g;
}

/** A given name by gender, other than `avoid` and its nickname forms (a twin, a spouse). */
function chooseGiven(id: string, gender: Patient['gender'], avoid?: string): string {
  const names = gender === 'male' ? MALE_GIVEN_NAMES : gender === 'female' ? FEMALE_GIVEN_NAMES : [...FEMALE_GIVEN_NAMES, ...MALE_GIVEN_NAMES];
  for (let i = 0; ; i++) {
    const g = pick(names, 'given', id, String(i));
    if (!avoid || (g !== avoid && alternateGivenName(g) !== avoid && alternateGivenName(avoid) !== g)) return g;
  }
}

function chooseBirthDate(id: string, sourceBirth: string, relation: PersonRelation | undefined, anchor: Patient | undefined): string {
  if (relation?.kind === 'twin') return anchor!.birthDate!;
  if (relation?.kind === 'household') {
    // A spouse: 1 to 10 years apart, either way, never born after the reference date.
    const days = 365 + Math.floor(hashUnit('spouse-age', id) * 9 * 365);
    const later = addDays(anchor!.birthDate!, days);
    return hashUnit('spouse-older', id) < 0.5 || later > POPULATION_REFERENCE_DATE ? addDays(anchor!.birthDate!, -days) : later;
  }
  const base = relation?.kind === 'lookalike' ? anchor!.birthDate! : sourceBirth;
  // A look-alike is born 1 to 5 years before or after the person of the same name.
  const days = relation?.kind === 'lookalike'
    ? (365 + Math.floor(hashUnit('birth-shift', id) * 4 * 365)) * (hashUnit('birth-sign', id) < 0.5 ? -1 : 1)
    : Math.round((hashUnit('birth-shift', id) * 2 - 1) * BIRTH_SHIFT_DAYS);
  const shifted = addDays(base, days);
  return shifted >= POPULATION_REFERENCE_DATE ? addDays(base, -Math.abs(days)) : shifted;
}

/** `date` (YYYY-MM-DD) plus `days`. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.slice(0, 10).split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** A home address in a real Massachusetts town; keyed by `parts` so that movers get another. */
export function madeAddress(...parts: string[]): Address {
  const town = pick(MA_TOWNS, 'town', ...parts);
  const number = 1 + Math.floor(hashUnit('street-number', ...parts) * 998);
  const unit = hashUnit('unit', ...parts) < 0.15 ? ` Apt ${1 + Math.floor(hashUnit('unit-no', ...parts) * 30)}` : '';
  return {
    use: 'home',
    line: [`${number} ${pick(STREET_NAMES, 'street', ...parts)}${unit}`],
    city: town.city,
    state: 'Massachusetts',
    postalCode: town.postalCode,
    country: 'US',
  };
}

/** A phone number with a Massachusetts area code, `617-555-0123` style. */
export function madePhone(...parts: string[]): string {
  const exchange = 200 + Math.floor(hashUnit('exchange', ...parts) * 800);
  return `${pick(MA_AREA_CODES, 'area', ...parts)}-${exchange}-${hashDigits(4, 'line', ...parts)}`;
}

/** A new, unique SSN (`9xx-xx-xxxx`, never issued, as Synthea's), licence or passport number. */
function remakeIdentifier(ident: Identifier, id: string, used: Set<string>): Identifier {
  const make = ident.system === SSN_SYSTEM
    ? (i: number) => { const d = hashDigits(8, 'ssn', id, String(i)); return `9${d.slice(0, 2)}-${d.slice(2, 4)}-${d.slice(4)}`; }
    : ident.system === DL_SYSTEM
      ? (i: number) => `S99${hashDigits(6, 'licence', id, String(i))}`
      : ident.system === PASSPORT_SYSTEM
        ? (i: number) => `X${hashDigits(8, 'passport', id, String(i))}X`
        : undefined;
  if (!make) return ident;
  for (let i = 0; ; i++) {
    const value = make(i);
    if (!used.has(value)) {
      used.add(value);
      return { ...ident, value };
    }
  }
}

function officialName(p: Patient): HumanName | undefined {
  return p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
}
