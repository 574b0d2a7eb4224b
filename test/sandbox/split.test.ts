import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFixtures, resolveFixturesDir, shippedFixturesDir } from '../../sandbox/fixtures.js';
import { EHR_INFO, SSN_SYSTEM, splitFixtures } from '../../sandbox/split.js';
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

  it('keeps the SSN in mercy, drops it for about a third in St. Jude, and varies names and addresses', () => {
    const both = split.truth.patients.filter((p) => p.ehrs.stjude);
    expect(split.truth.patients.every((p) => p.ehrs.mercy!.hasSsn === !!p.ssn)).toBe(true);
    const dropped = both.filter((p) => p.ssn && !p.ehrs.stjude!.hasSsn).length;
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThanOrEqual(both.length / 2);
    const nick = both.filter((p) => p.ehrs.stjude!.nickname);
    expect(nick.length).toBeGreaterThan(0);
    expect(both.some((p) => p.ehrs.stjude!.movedAddress)).toBe(true);
    for (const t of nick) {
      const m = patientsOf('mercy').find((p) => p.id === t.ehrs.mercy!.patientId)!;
      const s = patientsOf('stjude').find((p) => p.id === t.ehrs.stjude!.patientId)!;
      expect(s.name![0].given![0]).not.toBe(m.name![0].given![0]);
      expect(s.name![0].family).toBe(m.name![0].family);
      expect(s.birthDate).toBe(m.birthDate);
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
