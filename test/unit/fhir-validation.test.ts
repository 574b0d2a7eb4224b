import { describe, expect, it } from 'vitest';
import { askedPatientIds, attributedPatientId, referencedPatientId } from '../../datasources/fhir/attribution.js';
import type { Bundle, FhirResource } from '../../datasources/fhir/fhir-types.js';
import { malformation } from '../../datasources/fhir/resource-validation.js';
import { problemErrors, problemsForPatient, problemsOf, SearchsetCheck } from '../../datasources/fhir/searchset-check.js';

const BASE = 'https://ehr.example/fhir/R4';
const r = (x: Record<string, unknown>) => x as unknown as FhirResource;
const obs = (id: string, ref: string, extra: Record<string, unknown> = {}) =>
  r({ resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] }, subject: { reference: ref }, ...extra });
const page = (resources: unknown[], extra: Partial<Bundle> = {}): Bundle => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource: resource as FhirResource })), ...extra }) as Bundle;

describe('patient references', () => {
  it('reads relative, versioned and absolute same-server forms, and nothing else', () => {
    expect(referencedPatientId('Patient/a1', BASE)).toBe('a1');
    expect(referencedPatientId('Patient/a1/_history/3', BASE)).toBe('a1');
    expect(referencedPatientId(`${BASE}/Patient/a1`, BASE)).toBe('a1');
    expect(referencedPatientId(`${BASE}/Patient/a1/_history/2`, BASE)).toBe('a1');
    expect(referencedPatientId(`${BASE}/Patient/a1`, `${BASE}/`)).toBe('a1'); // a base configured with a trailing slash
    // The same id on another server is another person.
    expect(referencedPatientId('https://other.example/fhir/R4/Patient/a1', BASE)).toBeUndefined();
    expect(referencedPatientId('https://ehr.example/fhir/R4-other/Patient/a1', BASE)).toBeUndefined();
    expect(referencedPatientId('Group/g1', BASE)).toBeUndefined();
    expect(referencedPatientId('#contained', BASE)).toBeUndefined();
    expect(referencedPatientId('urn:uuid:1234', BASE)).toBeUndefined();
    expect(referencedPatientId(undefined, BASE)).toBeUndefined();
  });

  it('uses subject, patient or beneficiary as the type has it', () => {
    expect(attributedPatientId(r({ resourceType: 'Immunization', patient: { reference: 'Patient/p2' }, subject: { reference: 'Patient/zz' } }), BASE)).toBe('p2');
    expect(attributedPatientId(r({ resourceType: 'Coverage', beneficiary: { reference: 'Patient/p3' } }), BASE)).toBe('p3');
    expect(attributedPatientId(r({ resourceType: 'Condition', subject: { identifier: { value: 'MRN1' } } }), BASE)).toBeUndefined();
    expect(attributedPatientId(r({ resourceType: 'Patient', id: 'p4' }), BASE)).toBe('p4');
  });

  it('knows which patients a search asked for, OR lists and escapes included', () => {
    expect(askedPatientIds('Observation', [['patient', 'a,b\\,c'], ['code', 'x']])).toEqual(new Set(['a', 'b,c']));
    expect(askedPatientIds('Coverage', [['beneficiary', 'Patient/a']])).toEqual(new Set(['a']));
    expect(askedPatientIds('Patient', [['_id', 'a,b']])).toEqual(new Set(['a', 'b']));
    expect(askedPatientIds('Patient', [['identifier', 'sys|v']])).toBeUndefined();
  });
});

describe('structural validation', () => {
  it('accepts a well-formed item and names the element at fault otherwise, never a value', () => {
    expect(malformation(obs('o1', 'Patient/a'))).toBeUndefined();
    expect(malformation(obs('o1', 'Patient/a', { code: undefined }))).toBe('Observation.code');
    expect(malformation(obs('o1', 'Patient/a', { code: { coding: [] } }))).toBe('Observation.code');
    expect(malformation(obs('o1', 'Patient/a', { effectiveDateTime: '2020-13-45' }))).toBe('Observation.effectiveDateTime');
    expect(malformation(obs('o1', 'Patient/a', { valueQuantity: { value: '5' } }))).toBe('Observation.valueQuantity');
    expect(malformation(obs('o1', 'Patient/a', { category: 'lab' }))).toBe('Observation.category');
    expect(malformation(obs('../x', 'Patient/a'))).toBe('Observation.id');
    expect(malformation(r({ resourceType: 'MedicationRequest', id: 'm', status: 'active', intent: 'order', subject: { reference: 'Patient/a' } }))).toBe('MedicationRequest.medication[x]');
    expect(malformation(r({ resourceType: 'Patient', id: 'p', birthDate: '1980-02-30T00:00' }))).toBe('Patient.birthDate');
    expect(malformation(r({ resourceType: 'Patient', id: 'p', birthDate: '1980-02' }))).toBeUndefined();
  });
});

describe('SearchsetCheck', () => {
  it('keeps only asked patients’ well-formed items of the asked type, scoping each problem', () => {
    const check = new SearchsetCheck('Observation', [['patient', 'a,b']], BASE);
    check.visit(new URL(`${BASE}/Observation?patient=a,b`));
    check.takePage(
      page([
        obs('1', 'Patient/a'),
        obs('2', `${BASE}/Patient/b/_history/1`),
        obs('3', 'Patient/zz-other'),
        obs('4', 'https://other.example/fhir/Patient/a'),
        r({ resourceType: 'Condition', id: '5', subject: { reference: 'Patient/b' } }),
        obs('6', 'Patient/a', { code: undefined }),
      ]),
    );
    const kept = check.finish();
    expect(kept.map((x) => x.id)).toEqual(['1', '2']);
    const problems = problemsOf(kept);
    expect(problems).toEqual([
      { reason: 'wrong-patient', count: 1 },
      { reason: 'wrong-patient', count: 1 },
      { reason: 'wrong-type', count: 1, detail: 'Condition', patientId: 'b' },
      { reason: 'malformed', count: 1, detail: 'Observation.code', patientId: 'a' },
    ]);
    expect(problemsForPatient(problems, 'a').map((p) => p.reason)).toEqual(['wrong-patient', 'wrong-patient', 'malformed']);
    expect(problemErrors('mercy', problemsForPatient(problems, 'b')).map((e) => e.extensions)).toEqual([
      { reason: 'wrong-patient', count: 2, code: 'UPSTREAM_INVALID_RESPONSE', source: 'mercy' },
      { reason: 'wrong-type', count: 1, code: 'UPSTREAM_INVALID_RESPONSE', source: 'mercy' },
    ]);
  });

  it('stops paging off the origin, on a loop and at the page limit, keeping what came before', () => {
    const first = new URL(`${BASE}/Observation?patient=a`);
    const run = (next: string, pages = 1, max = 10) => {
      const check = new SearchsetCheck('Observation', [['patient', 'a']], BASE);
      check.visit(first);
      const bundle = page([obs('1', 'Patient/a')], { link: [{ relation: 'next', url: next }] });
      check.takePage(bundle);
      const url = check.nextUrl(bundle, pages, max);
      return { url: url?.href, kept: check.finish(), problems: check.problems };
    };
    expect(run('Observation?page=2').url).toBe(`${BASE}/Observation?page=2`);
    expect(run('https://evil.example/fhir/R4/Observation?page=2')).toMatchObject({ url: undefined, problems: [{ reason: 'paging-off-origin', count: 1 }] });
    expect(run(first.href)).toMatchObject({ url: undefined, problems: [{ reason: 'paging-loop', count: 1 }] });
    expect(run('Observation?page=2', 10, 10)).toMatchObject({ url: undefined, problems: [{ reason: 'page-limit', count: 1 }] });
    expect(run(first.href).kept.map((x) => x.id)).toEqual(['1']);
  });

  it('turns outcome entries into a warning naming severity and code only', () => {
    const check = new SearchsetCheck('Observation', [], BASE);
    check.takePage({
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [{ resource: r({ resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'incomplete', diagnostics: 'Results truncated for Jane Doe' }] }), search: { mode: 'outcome' } }],
    } as Bundle);
    const errors = problemErrors('mercy', check.problems);
    expect(errors.map((e) => e.extensions)).toEqual([{ source: 'mercy', outcome: [{ severity: 'warning', code: 'incomplete' }], code: 'UPSTREAM_WARNING' }]);
    expect(JSON.stringify(errors.map((e) => [e.message, e.extensions]))).not.toContain('Jane');
  });
});
