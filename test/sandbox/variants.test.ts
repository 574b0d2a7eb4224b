import { describe, expect, it } from 'vitest';
import type { Patient } from '../../datasources/fhir/fhir-types.js';
import { MA_TOWNS, POPULATION_RATES } from '../../sandbox/demographic-variants.js';
import { loadFixtures, type FixturePatient } from '../../sandbox/fixtures.js';
import { splitFixtures } from '../../sandbox/split.js';
import { FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES, SURNAMES } from '../../sandbox/us-names.js';

const SSN = 'http://hl7.org/fhir/sid/us-ssn';
const ssnOf = (p: Patient) => p.identifier?.find((i) => i.system === SSN)?.value;
const nameOf = (p: Patient) => p.name!.find((n) => n.use === 'official') ?? p.name![0]!;
const given = (p: Patient) => nameOf(p).given![0]!;
const family = (p: Patient) => nameOf(p).family!;
const phone = (p: Patient) => p.telecom?.find((t) => t.system === 'phone')?.value;
const line = (p: Patient) => p.address?.[0]?.line?.join(' ');

describe('fixture variants for benchmarks', () => {
  it('makes distinct people from the bundles when more patients are asked for than there are', () => {
    const base = loadFixtures({ maxPatients: 3 });
    const grown = loadFixtures({ maxPatients: 3, minPatients: 7 });
    expect(grown).toHaveLength(7);
    expect(grown.slice(0, 3)).toEqual(base);
    const ids = new Set(grown.flatMap((p) => p.resources.map((r) => `${r.resourceType}/${r.id}`)));
    expect(ids.size).toBe(grown.reduce((n, p) => n + p.resources.length, 0)); // no id repeats
    expect(new Set(grown.map((p) => ssnOf(p.patient))).size).toBe(7);
    // References follow the new ids; the clinical content is the bundle's.
    const variant = grown[3]!;
    const source = base.find((f) => variant.patientId === `${f.patientId}-v1`)!;
    expect(variant.patient.birthDate).not.toBe(source.patient.birthDate);
    expect(variant.resources).toHaveLength(source.resources.length);
    const refs = JSON.stringify(variant.resources.filter((r) => r.resourceType !== 'Patient'));
    expect(refs).toContain(variant.patientId);
    expect(refs).not.toContain(`"urn:uuid:${source.patientId}"`);
    const codes = (f: FixturePatient) => f.resources.filter((r) => r.resourceType === 'Condition').map((r) => JSON.stringify((r as { code?: unknown }).code));
    expect(codes(variant)).toEqual(codes(source));
    // Synthea's narrative names the bundle's person: a made person has none.
    expect(variant.patient.text).toBeUndefined();
  });

  it('keeps the fixture people as they are and carries only the Patient with patientsOnly', () => {
    const all = loadFixtures();
    const grown = loadFixtures({ minPatients: all.length + 40, patientsOnly: true });
    expect(grown.slice(0, all.length)).toEqual(all);
    for (const p of grown.slice(all.length)) expect(p.resources.map((r) => r.resourceType)).toEqual(['Patient']);
  });

  describe('a population of 1,000', () => {
    const fixtures = loadFixtures();
    const people = loadFixtures({ minPatients: 1000, patientsOnly: true });
    const made = people.slice(fixtures.length);
    const byId = new Map(people.map((p) => [p.patientId, p.patient]));
    const of = (kind: string) => made.filter((p) => p.relation?.kind === kind);

    it('gives every person their own name, birth date, SSN, licence and passport', () => {
      expect(people).toHaveLength(1000);
      const identities = people.map((p) => `${given(p.patient)}|${family(p.patient)}|${p.patient.birthDate}`);
      expect(new Set(identities).size).toBe(1000);
      for (const system of [SSN, 'urn:oid:2.16.840.1.113883.4.3.25', 'http://standardhealthrecord.org/fhir/StructureDefinition/passportNumber']) {
        const values = people.map((p) => p.patient.identifier?.find((i) => i.system === system)?.value).filter(Boolean);
        expect(new Set(values).size).toBe(values.length);
      }
      for (const p of made) expect(ssnOf(p.patient)).toMatch(/^9\d\d-\d\d-\d{4}$/);
    });

    it('draws names from the lists by gender, addresses from real Massachusetts towns, and shifts birth dates by days', () => {
      const regular = made.filter((p) => !p.relation);
      for (const p of regular) {
        expect(p.patient.gender === 'male' ? MALE_GIVEN_NAMES : FEMALE_GIVEN_NAMES).toContain(given(p.patient));
        expect(SURNAMES).toContain(family(p.patient));
        const a = p.patient.address![0]!;
        expect(MA_TOWNS).toContainEqual({ city: a.city, postalCode: a.postalCode });
        expect(phone(p.patient)).toMatch(/^\d{3}-[2-9]\d\d-\d{4}$/);
        expect(p.patient.birthDate! < '2025-01-01').toBe(true);
      }
      // Not only the year: most made people have another month-day than their bundle's person.
      const sourceOf = (p: FixturePatient) => fixtures.find((f) => p.patientId.startsWith(f.patientId))!;
      const otherDay = regular.filter((p) => p.patient.birthDate!.slice(5) !== sourceOf(p).patient.birthDate!.slice(5));
      expect(otherDay.length / regular.length).toBeGreaterThan(0.9);
      expect(new Set(regular.map((p) => family(p.patient))).size).toBeGreaterThan(200);
      // Half women, half men, whatever the bundles hold; each made from a bundle of their gender.
      const women = regular.filter((p) => p.patient.gender === 'female').length / regular.length;
      expect(women).toBeGreaterThan(0.45);
      expect(women).toBeLessThan(0.55);
      expect(regular.every((p) => sourceOf(p).patient.gender === p.patient.gender)).toBe(true);
    });

    it('makes twins, household members and look-alikes at the written rates, each a distinct person', () => {
      for (const [kind, rate] of Object.entries(POPULATION_RATES)) {
        expect(of(kind).length / made.length, kind).toBeGreaterThan(rate * 0.5);
        expect(of(kind).length / made.length, kind).toBeLessThan(rate * 1.6);
      }
      for (const p of made.filter((x) => x.relation)) {
        const anchor = byId.get(p.relation!.of)!;
        expect(people.find((x) => x.patientId === p.relation!.of)!.relation).toBeUndefined();
        expect(ssnOf(p.patient)).not.toBe(ssnOf(anchor));
        expect(p.patientId).not.toBe(p.relation!.of);
      }
      for (const p of of('twin')) {
        const anchor = byId.get(p.relation!.of)!;
        expect([family(p.patient), p.patient.birthDate, line(p.patient), phone(p.patient)]).toEqual([family(anchor), anchor.birthDate, line(anchor), phone(anchor)]);
        expect(given(p.patient)).not.toBe(given(anchor));
        expect(p.patient.multipleBirthBoolean).toBe(true);
      }
      expect(of('twin').some((p) => p.patient.gender !== byId.get(p.relation!.of)!.gender)).toBe(true);
      expect(of('twin').some((p) => p.patient.gender === byId.get(p.relation!.of)!.gender)).toBe(true);
      for (const p of of('household')) {
        const anchor = byId.get(p.relation!.of)!;
        expect([family(p.patient), line(p.patient), phone(p.patient)]).toEqual([family(anchor), line(anchor), phone(anchor)]);
        expect(given(p.patient)).not.toBe(given(anchor));
        expect(p.patient.birthDate).not.toBe(anchor.birthDate);
      }
      for (const p of of('lookalike')) {
        const anchor = byId.get(p.relation!.of)!;
        expect([given(p.patient), family(p.patient)]).toEqual([given(anchor), family(anchor)]);
        expect(p.patient.birthDate).not.toBe(anchor.birthDate);
        expect(line(p.patient)).not.toBe(line(anchor));
      }
    });
  });

  it('splits variants across the EHRs like any patient', () => {
    const split = splitFixtures({ maxPatients: 3, minPatients: 6 });
    expect(split.truth.patients).toHaveLength(6);
    expect(split.truth.patients.slice(0, 3).every((p) => p.kind === 'regular' && p.of === undefined)).toBe(true);
  });
});
