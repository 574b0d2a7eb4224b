import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFixtures, resolveFixturesDir, shippedFixturesDir } from '../../sandbox/fixtures.js';
import { EHR_INFO, SSN_SYSTEM, splitFixtures } from '../../sandbox/split.js';
import { VARIATION_KINDS, type VariationKind } from '../../sandbox/cross-hospital.js';
import { alternateGivenName, CROSS_HOSPITAL_RATES } from '../../sandbox/demographic-variants.js';
import type { Patient } from '../../datasources/fhir/fhir-types.js';

describe('fixtures', () => {
  it('ships four bundles with the Apache-2.0 notice', () => {
    const dir = shippedFixturesDir();
    const notice = readFileSync(path.join(dir, 'NOTICE'), 'utf8');
    expect(notice).toContain('Apache License, Version 2.0');
    expect(notice).toContain('MITRE');
    expect(loadFixtures({ dir })).toHaveLength(4);
  });

  it('prefers CHARTGRAPH_FIXTURES, then the shared folder', () => {
    const before = process.env.CHARTGRAPH_FIXTURES;
    process.env.CHARTGRAPH_FIXTURES = shippedFixturesDir();
    try {
      expect(resolveFixturesDir()).toBe(shippedFixturesDir());
    } finally {
      if (before === undefined) delete process.env.CHARTGRAPH_FIXTURES;
      else process.env.CHARTGRAPH_FIXTURES = before;
    }
    expect(resolveFixturesDir('/some/where')).toBe('/some/where');
  });

  it('limits the number of patients', () => {
    expect(loadFixtures({ maxPatients: 2 })).toHaveLength(2);
  });
});

describe('split across the two EHRs (all fixtures)', () => {
  const split = splitFixtures();
  const patientsOf = (ehr: 'mercy' | 'stjude'): Patient[] => split.ehrs[ehr].resources.filter((r): r is Patient => r.resourceType === 'Patient');

  it('is computed once per options and is deterministic', () => {
    expect(splitFixtures()).toBe(split);
    const all = loadFixtures({ dir: split.fixturesDir });
    expect(split.truth.patients).toHaveLength(all.length);
    const again = splitFixtures({ fixturesDir: split.fixturesDir, maxPatients: 3 });
    expect(again.truth.patients.map((p) => p.ehrs.mercy?.patientId)).toEqual(split.truth.patients.slice(0, 3).map((p) => p.ehrs.mercy?.patientId));
  });

  it('puts every patient in mercy and most in St. Jude', () => {
    const n = split.truth.patients.length;
    const both = split.truth.patients.filter((p) => p.ehrIds.length === 2).length;
    expect(patientsOf('mercy')).toHaveLength(n);
    expect(patientsOf('stjude')).toHaveLength(both);
    if (existsSync(path.join(split.fixturesDir, 'README.md')) && n === 30) {
      expect(both).toBe(25); // the 30 shared fixtures: 5 only in Mercy
    }
    expect(both).toBeGreaterThan(n / 2);
  });

  it('gives distinct ids and MRNs per EHR, each in its own system', () => {
    for (const t of split.truth.patients) {
      const m = t.ehrs.mercy!;
      expect(m.patientId).toMatch(/^m[0-9a-f]{15}$/);
      expect(m.mrn).toMatch(/^M\d{7}$/);
      const s = t.ehrs.stjude;
      if (!s) continue;
      expect(s.patientId).toMatch(/^sj-[0-9a-f]{13}$/);
      expect(s.mrn).toMatch(/^SJ\d{8}$/);
      expect(s.patientId).not.toBe(m.patientId);
    }
    for (const ehr of ['mercy', 'stjude'] as const) {
      const mrns = patientsOf(ehr).map((p) => p.identifier!.filter((i) => i.system === EHR_INFO[ehr].mrnSystem).map((i) => i.value));
      expect(mrns.every((l) => l.length === 1)).toBe(true);
      expect(new Set(mrns.flat()).size).toBe(mrns.length);
      // Synthea's own MRN and id systems are gone: they would link the EHRs for free.
      expect(patientsOf(ehr).flatMap((p) => p.identifier!.map((i) => i.system))).not.toContain('http://hospital.smarthealthit.org');
      expect(patientsOf(ehr).flatMap((p) => p.identifier!.map((i) => i.system))).not.toContain('https://github.com/synthetichealth/synthea');
    }
  });

  it('keeps the SSN in mercy, drops it for some in St. Jude, and varies names and addresses', () => {
    const both = split.truth.patients.filter((p) => p.ehrs.stjude);
    expect(split.truth.patients.every((p) => p.ehrs.mercy!.hasSsn === !!p.ssn && p.ehrs.mercy!.variations.length === 0)).toBe(true);
    const dropped = both.filter((p) => p.ssn && !p.ehrs.stjude!.hasSsn);
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.length).toBeLessThan(both.length);
    expect(dropped.every((p) => p.ehrs.stjude!.variations.includes('ssn-missing'))).toBe(true);
    expect(both.some((p) => p.ehrs.stjude!.movedAddress && p.ehrs.stjude!.variations.includes('moved'))).toBe(true);
    for (const t of both.filter((p) => p.ehrs.stjude!.nickname)) {
      const m = patientsOf('mercy').find((p) => p.id === t.ehrs.mercy!.patientId)!;
      const s = patientsOf('stjude').find((p) => p.id === t.ehrs.stjude!.patientId)!;
      expect(s.name![0].given![0]).not.toBe(m.name![0].given![0]);
    }
    // Where St. Jude kept the SSN, it is the same value as in Mercy.
    for (const t of both.filter((p) => p.ehrs.stjude!.hasSsn)) {
      const s = patientsOf('stjude').find((p) => p.id === t.ehrs.stjude!.patientId)!;
      expect(s.identifier!.find((i) => i.system === SSN_SYSTEM)!.value).toBe(t.ssn);
    }
  });

  it('splits clinical items, ~10% in both, with consistent references', () => {
    let shared = 0;
    let clinical = 0;
    for (const ehr of ['mercy', 'stjude'] as const) {
      const ids = new Set(split.ehrs[ehr].resources.map((r) => `${r.resourceType}/${r.id}`));
      for (const r of split.ehrs[ehr].resources) {
        expect(r.meta?.versionId).toMatch(/^[123]$/);
        expect(r.meta?.lastUpdated).toMatch(/^2025-/);
        const text = JSON.stringify(r);
        expect(text).not.toContain('urn:uuid:');
        for (const [, ref] of text.matchAll(/"reference":"([^"]+)"/g)) expect(ids.has(ref)).toBe(true);
      }
    }
    for (const t of split.truth.patients) {
      shared += t.sharedItems;
      const m = t.ehrs.mercy!.counts;
      const s = t.ehrs.stjude?.counts ?? {};
      for (const type of Object.keys(m)) if (type !== 'Patient') clinical += m[type];
      for (const type of Object.keys(s)) if (type !== 'Patient') clinical += s[type];
    }
    const distinct = clinical - shared;
    expect(shared / distinct).toBeGreaterThan(0.05);
    expect(shared / distinct).toBeLessThan(0.2);
    const totalObs = split.truth.totals.mercy.Observation + split.truth.totals.stjude.Observation;
    const fixtureObs = loadFixtures({ dir: split.fixturesDir }).flatMap((f) => f.resources).filter((r) => r.resourceType === 'Observation').length;
    expect(totalObs).toBeGreaterThanOrEqual(fixtureObs);
    expect(split.ehrs.mercy.resources.some((r) => r.resourceType === 'Coverage')).toBe(true);
  });
});

describe('cross-hospital variations on 1,000 people (St. Jude copy against Mercy copy)', () => {
  const split = splitFixtures({ minPatients: 1000, patientsOnly: true });
  const byId = (ehr: 'mercy' | 'stjude') => new Map(split.ehrs[ehr].resources.filter((r): r is Patient => r.resourceType === 'Patient').map((p) => [p.id!, p]));
  const mercy = byId('mercy');
  const stjude = byId('stjude');
  const both = split.truth.patients.filter((t) => t.ehrs.stjude);
  const pairs = both.map((t) => ({ t, m: mercy.get(t.ehrs.mercy!.patientId)!, s: stjude.get(t.ehrs.stjude!.patientId)!, v: t.ehrs.stjude!.variations }));
  const official = (p: Patient) => p.name!.find((n) => n.use === 'official')!;
  const phone = (p: Patient) => p.telecom?.find((t) => t.system === 'phone')?.value;
  const age = (p: Patient) => 2025 - Number(p.birthDate!.slice(0, 4)) - (p.birthDate!.slice(5) > '01-01' ? 1 : 0);
  const share = (kind: VariationKind, eligible: (x: (typeof pairs)[number]) => boolean) => {
    const base = pairs.filter(eligible);
    return base.filter((x) => x.v.includes(kind)).length / base.length;
  };

  it('holds 1,000 people, about 10% in Mercy only, with patients only', () => {
    expect(split.truth.patients).toHaveLength(1000);
    expect(1 - both.length / 1000).toBeGreaterThan(0.07);
    expect(1 - both.length / 1000).toBeLessThan(0.13);
    expect(split.ehrs.mercy.resources.every((r) => r.resourceType === 'Patient')).toBe(true);
  });

  it('applies every variation at its written rate, within a tolerance', () => {
    const swappable = (p: Patient) => Number(p.birthDate!.slice(8)) <= 12 && p.birthDate!.slice(8) !== p.birthDate!.slice(5, 7);
    const within = (x: number, rate: number, tolerance: number) => {
      expect(x).toBeGreaterThan(rate - tolerance);
      expect(x).toBeLessThan(rate + tolerance);
    };
    within(share('ssn-missing', (x) => !!x.t.ssn), 0.5, 0.05);
    within(share('nickname', (x) => !!alternateGivenName(official(x.m).given![0]!)), 0.15, 0.05);
    within(share('given-typo', () => true), 0.05, 0.025);
    within(share('family-typo', () => true), 0.03, 0.02);
    const women = (x: (typeof pairs)[number]) => x.m.gender === 'female' && age(x.m) >= 18;
    within(share('married-name-maiden-kept', women) + share('married-name-maiden-dropped', women), 0.08, 0.04);
    within(share('moved', () => true), 0.2, 0.035);
    within(share('new-phone', (x) => x.v.includes('moved') && !x.v.includes('phone-missing')), 0.5, 0.15);
    within(share('phone-missing', (x) => !!phone(x.m)), 0.1, 0.03);
    within(share('day-month-swapped', () => true), 0.02, 0.012);
    within(share('day-month-swapped', (x) => swappable(x.m)), CROSS_HOSPITAL_RATES.dayMonthSwapped.rate, 0.035);
    within(share('birth-date-digit', () => true), 0.015, 0.01);
    for (const kind of VARIATION_KINDS) expect(pairs.some((x) => x.v.includes(kind)), kind).toBe(true);
    // Several fall on one record, as in real data.
    expect(pairs.filter((x) => x.v.length >= 3).length).toBeGreaterThan(10);
  });

  it('records exactly the differences it made', () => {
    for (const { m, s, v, t } of pairs) {
      const changed = new Set<string>();
      if (!!m.identifier!.find((i) => i.system === SSN_SYSTEM) !== !!s.identifier!.find((i) => i.system === SSN_SYSTEM)) changed.add('ssn');
      if (official(m).given![0] !== official(s).given![0]) changed.add('given');
      if (official(m).family !== official(s).family) changed.add('family');
      const maiden = (p: Patient) => JSON.stringify(p.name!.filter((n) => n.use === 'maiden'));
      if (maiden(m) !== maiden(s)) changed.add('maiden');
      if (JSON.stringify(m.address) !== JSON.stringify(s.address)) changed.add('address');
      if (phone(m) !== phone(s)) changed.add('phone');
      if (m.birthDate !== s.birthDate) changed.add('birthDate');
      const expected = new Set<string>();
      const touches: Record<VariationKind, string[]> = {
        'ssn-missing': ['ssn'],
        nickname: ['given'],
        'given-typo': ['given'],
        'family-typo': ['family'],
        'married-name-maiden-kept': ['family', 'maiden'],
        'married-name-maiden-dropped': ['family'],
        moved: ['address'],
        'new-phone': ['phone'],
        'phone-missing': ['phone'],
        'day-month-swapped': ['birthDate'],
        'birth-date-digit': ['birthDate'],
      };
      for (const k of v) for (const f of touches[k]) expected.add(f);
      // A second marriage: the earlier maiden name goes with the earlier family name.
      if (v.includes('married-name-maiden-dropped') && maiden(m) !== '[]') expected.add('maiden');
      expect([...changed].sort(), `${t.fixturePatientId}: ${v.join(',')}`).toEqual([...expected].sort());
      if (v.includes('married-name-maiden-kept')) expect(s.name!.find((n) => n.use === 'maiden')!.family).toBe(official(m).family);
      if (v.includes('day-month-swapped') && !v.includes('birth-date-digit')) {
        expect(s.birthDate).toBe(`${m.birthDate!.slice(0, 4)}-${m.birthDate!.slice(8)}-${m.birthDate!.slice(5, 7)}`);
      }
      if (v.includes('birth-date-digit') && !v.includes('day-month-swapped')) {
        const diff = [...m.birthDate!].filter((c, i) => c !== s.birthDate![i]).length;
        expect(diff).toBe(1);
      }
      if ((v.includes('given-typo') && !v.includes('nickname')) || v.includes('family-typo')) {
        const [a, b] = v.includes('family-typo') && !v.some((k) => k.startsWith('married')) ? [official(m).family!, official(s).family!] : [official(m).given![0]!, official(s).given![0]!];
        expect(editDistance(a.toLowerCase(), b.toLowerCase())).toBeLessThanOrEqual(2); // one slip (a transposition is two plain edits)
      }
    }
  });

  it('keeps twins, household members and look-alikes as separate people in both EHRs', () => {
    const kinds = new Map<string, number>();
    for (const t of split.truth.patients) kinds.set(t.kind, (kinds.get(t.kind) ?? 0) + 1);
    expect([...kinds.keys()].sort()).toEqual(['household', 'lookalike', 'regular', 'twin']);
    for (const t of split.truth.patients.filter((p) => p.kind !== 'regular')) {
      const anchor = split.truth.patients.find((p) => p.fixturePatientId === t.of)!;
      expect(anchor.kind).toBe('regular');
      expect(t.ehrs.mercy!.patientId).not.toBe(anchor.ehrs.mercy!.patientId);
      expect(t.ssn).not.toBe(anchor.ssn);
    }
    const twinsInBoth = split.truth.patients.filter((p) => p.kind === 'twin' && p.ehrs.stjude && split.truth.patients.find((a) => a.fixturePatientId === p.of)!.ehrs.stjude);
    expect(twinsInBoth.length).toBeGreaterThan(0);
  });
});

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length]![b.length]!;
}
