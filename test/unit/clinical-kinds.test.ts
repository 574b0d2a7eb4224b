import type * as fhir from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { splitFixtures } from '../../sandbox/split.js';
import { codeKey, KINDS } from '../../resolvers/clinical-kinds.js';

// `date` and `identity` read the source resource (they run on every resource fetched; the
// mapping runs only for the items a page serves). Here they are held to what they stood for
// when they read the mapped item: the same date, and the same identity once serialised.

type Item = Record<string, any>;
const day = (d: string | null | undefined) => d?.slice(0, 10) ?? null;
const key = (c: Item | null | undefined) =>
  ((c?.coding ?? []) as Item[])
    .map((x) => `${x.system ?? ''}|${x.code ?? ''}`)
    .sort()
    .join(',');

/** The definitions over mapped items, as they were. */
const ON_ITEMS: Record<keyof typeof KINDS, { date(i: Item): unknown; identity(i: Item): unknown[] }> = {
  Condition: { date: (i) => i.onset ?? i.recordedDate, identity: (i) => [key(i.code), day(i.onset), day(i.abatement)] },
  Observation: {
    date: (i) => i.effective ?? i.issued,
    identity: (i) => [
      key(i.code),
      i.effective,
      i.valueQuantity?.normalized?.value ?? i.valueQuantity?.value,
      i.valueQuantity?.normalized?.unit ?? i.valueQuantity?.code ?? i.valueQuantity?.unit,
      key(i.valueCodeableConcept),
      i.valueString,
      i.components.map((c: Item) => [key(c.code), c.valueQuantity?.normalized?.value ?? c.valueQuantity?.value, key(c.valueCodeableConcept)]),
    ],
  },
  MedicationRequest: { date: (i) => i.authoredOn, identity: (i) => [key(i.medication), i.authoredOn, i.status] },
  AllergyIntolerance: { date: (i) => i.recordedDate, identity: (i) => [key(i.code), i.clinicalStatus, day(i.recordedDate)] },
  Immunization: { date: (i) => i.occurrence, identity: (i) => [key(i.vaccineCode), day(i.occurrence)] },
  Procedure: { date: (i) => i.performed?.start, identity: (i) => [key(i.code), i.performed?.start] },
  Encounter: { date: (i) => i.period?.start, identity: (i) => [i.class, i.type.map(key).sort(), i.period?.start] },
  DiagnosticReport: { date: (i) => i.effective ?? i.issued, identity: (i) => [key(i.code), i.effective] },
};

const coding = (system: string | undefined, code: string | undefined) => ({ ...(system && { system }), ...(code && { code }) });

/** Resources with the fields the definitions read missing, doubled, empty or odd. */
const EDGE: fhir.Resource[] = [
  { resourceType: 'Condition', id: 'c1', subject: {} } as fhir.Condition,
  { resourceType: 'Condition', id: 'c2', code: { coding: [coding('b', '2'), coding('a', '1'), coding(undefined, '3')] }, onsetPeriod: { start: '2020-01-02T10:00:00Z' }, abatementPeriod: {}, recordedDate: '2019' } as fhir.Condition,
  { resourceType: 'Condition', id: 'c3', code: { text: 'only text' }, onsetDateTime: '2020', abatementDateTime: '2021-05-06' } as fhir.Condition,
  { resourceType: 'Observation', id: 'o1', status: 'final', code: {} } as fhir.Observation,
  { resourceType: 'Observation', id: 'o2', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] }, effectiveInstant: '2020-01-01T00:00:00Z', valueQuantity: { value: 99, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' } } as fhir.Observation,
  { resourceType: 'Observation', id: 'o3', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] }, effectivePeriod: { start: '2020-01-01' }, valueQuantity: { value: 5.5, unit: 'mmol/L' } } as fhir.Observation,
  { resourceType: 'Observation', id: 'o4', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] }, issued: '2020-02-02T00:00:00Z', valueQuantity: { unit: 'mg/dL' } } as fhir.Observation,
  { resourceType: 'Observation', id: 'o5', status: 'final', code: { coding: [{ code: 'x' }] }, valueQuantity: { value: 1, code: 'kg', system: 'urn:other' }, valueString: '' } as fhir.Observation,
  { resourceType: 'Observation', id: 'o6', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] }, valueCodeableConcept: { coding: [coding('s', 'v')] }, component: [{ code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, unit: 'mm[Hg]', code: 'mm[Hg]' } }, { code: {}, valueCodeableConcept: { coding: [coding('s', 'w')] } }] } as fhir.Observation,
  { resourceType: 'MedicationRequest', id: 'm1', status: 'active', intent: 'order', subject: {}, medicationReference: { display: 'by name only' } } as fhir.MedicationRequest,
  { resourceType: 'MedicationRequest', id: 'm2', status: 'active', intent: 'order', subject: {}, medicationCodeableConcept: { text: 'no codes' }, authoredOn: '2020-01-01' } as fhir.MedicationRequest,
  { resourceType: 'MedicationRequest', id: 'm3', intent: 'order', subject: {}, medicationCodeableConcept: { coding: [coding('rx', '1'), coding('rx', '0')] } } as unknown as fhir.MedicationRequest,
  { resourceType: 'AllergyIntolerance', id: 'a1', patient: {} } as fhir.AllergyIntolerance,
  { resourceType: 'AllergyIntolerance', id: 'a2', patient: {}, clinicalStatus: { text: 'active-ish' }, recordedDate: '2020-03-04T05:06:07Z', code: { coding: [coding('s', 'p')] } } as fhir.AllergyIntolerance,
  { resourceType: 'Immunization', id: 'i1', status: 'completed', vaccineCode: {}, patient: {}, occurrenceString: 'last spring' } as fhir.Immunization,
  { resourceType: 'Immunization', id: 'i2', status: 'completed', vaccineCode: { coding: [coding('cvx', '08')] }, patient: {}, occurrenceDateTime: '2020-01-01T10:00:00Z' } as fhir.Immunization,
  { resourceType: 'Procedure', id: 'p1', status: 'completed', subject: {} } as fhir.Procedure,
  { resourceType: 'Procedure', id: 'p2', status: 'completed', subject: {}, performedDateTime: '2020-01-01', code: { coding: [coding('sct', '1')] } } as fhir.Procedure,
  { resourceType: 'Procedure', id: 'p3', status: 'completed', subject: {}, performedPeriod: { end: '2020-01-01' } } as fhir.Procedure,
  { resourceType: 'Procedure', id: 'p4', status: 'completed', subject: {}, performedDateTime: '' } as fhir.Procedure,
  { resourceType: 'Encounter', id: 'e1', status: 'finished', class: {} } as fhir.Encounter,
  { resourceType: 'Encounter', id: 'e2', status: 'finished', class: { code: 'AMB' }, type: [{ coding: [coding('b', '2')] }, { coding: [coding('a', '1'), coding('a', '0')] }, {}], period: { end: '2020' } } as fhir.Encounter,
  { resourceType: 'Encounter', id: 'e3', status: 'finished', class: { code: 'IMP' }, period: { start: '2020-01-01T00:00:00Z' } } as fhir.Encounter,
  { resourceType: 'DiagnosticReport', id: 'd1', status: 'final', code: {} } as fhir.DiagnosticReport,
  { resourceType: 'DiagnosticReport', id: 'd2', status: 'final', code: { coding: [coding('l', '1')] }, effectivePeriod: { start: '2020-01-01' }, issued: '2020-01-02T00:00:00Z' } as fhir.DiagnosticReport,
  { resourceType: 'DiagnosticReport', id: 'd3', status: 'final', code: { coding: [coding('l', '1')] }, issued: '2020-01-02T00:00:00Z' } as fhir.DiagnosticReport,
];

function check(resources: readonly fhir.Resource[]): number {
  let n = 0;
  for (const r of resources) {
    const type = r.resourceType as keyof typeof KINDS;
    const kind = KINDS[type];
    if (!kind) continue;
    const item = kind.map(r) as Item;
    const reference = ON_ITEMS[type];
    expect(JSON.stringify(kind.identity(r)), `${type}/${r.id} identity`).toBe(JSON.stringify(reference.identity(item)));
    expect(kind.date(r) ?? null, `${type}/${r.id} date`).toBe(reference.date(item) ?? null);
    n++;
  }
  return n;
}

describe('clinical kinds: date and identity from the source resource', () => {
  it('agree with the mapped items on every clinical resource of the fixtures', () => {
    const split = splitFixtures();
    const checked = check([...split.ehrs.mercy.resources, ...split.ehrs.stjude.resources]);
    expect(checked).toBeGreaterThan(1000);
  });

  it('agree with the mapped items where fields are missing, doubled, empty or odd', () => {
    expect(check(EDGE)).toBe(EDGE.length);
  });

  it('key codes whatever their order, mapped or not', () => {
    const c = { coding: [coding('b', '2'), coding('a', '1')] };
    expect(codeKey(c)).toBe('a|1,b|2');
    expect(codeKey({ coding: [{ system: null, code: 'x' }] })).toBe('|x');
    expect(codeKey(undefined)).toBe('');
  });
});
