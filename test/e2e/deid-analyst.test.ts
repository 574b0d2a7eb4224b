import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ageGroup } from '../../deid/safe-harbor.js';
import { SSN_SYSTEM, type TruthPatient } from '../../sandbox/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// The analyst role over real HTTP, on real fixture patients: what a clinician sees, and the
// de-identified form the analyst gets of the very same record.

const FIXTURES = path.resolve('../shared/fixtures/synthea-r4');
function fixturePatient(truth: TruthPatient): { birthDate: string; postalCode?: string; state?: string; family: string } {
  const file = readdirSync(FIXTURES).find((f) => f === truth.fixtureFile || f.endsWith(truth.fixtureFile))!;
  const bundle = JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8'));
  const p = bundle.entry.find((e: any) => e.resource.resourceType === 'Patient').resource;
  return { birthDate: p.birthDate, postalCode: p.address?.[0]?.postalCode, state: p.address?.[0]?.state, family: p.name[0].family };
}

let t: TestGateway;
let patient: TruthPatient;
let unifiedId: string;
let pseudonym: string;

const FULL = `
  id gender birthDate birthYear ageGroup
  addresses { line city state postalCode country }
  conditions(first: 1000) { totalCount nodes { id onset recordedDate abatement code { coding { system code } } provenance { source { id } sourceResourceId fetchedAt } } }
  encounters(first: 1000) { nodes { id period { start end } serviceProvider } }
  medicationRequests(first: 1000) { nodes { id authoredOn dosageInstructions } }
  observations(first: 5) { nodes { id effective issued valueString } }
`;

beforeAll(async () => {
  t = await startTestGateway();
  patient = t.sandbox.truth.patients.find((p) => p.ssn && p.ehrs.mercy?.hasSsn && p.ehrs.stjude?.hasSsn && p.ehrs.mercy.counts.Condition)!;
  const res = await t.query(`query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) { id } }`, { v: patient.ssn }, 'admin');
  unifiedId = res.data.patientByIdentifier.id;
  pseudonym = t.gateway.services.deid!.pseudonyms.patientId(unifiedId);
});
afterAll(async () => t?.close());

describe('an analyst reading a real fixture patient', () => {
  it('gets the pseudonymous id, the birth year, the age band and a 3-digit ZIP, and nothing identifying', async () => {
    const fixture = fixturePatient(patient);
    const res = await t.query(`query($id: ID!) { patient(id: $id) { ${FULL} } }`, { id: pseudonym }, 'analyst');
    expect(res.errors).toBeUndefined();
    const p = res.data.patient;
    expect(p.id).toBe(pseudonym);
    expect(p.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.birthDate).toBe(fixture.birthDate.slice(0, 4));
    expect(p.birthYear).toBe(Number(fixture.birthDate.slice(0, 4)));
    expect(p.ageGroup).toBe(ageGroup(fixture.birthDate, new Date()));
    expect(p.addresses.length).toBeGreaterThan(0);
    for (const a of p.addresses) {
      expect(a.line).toEqual([]);
      expect(a.city).toBeNull();
      expect(a.postalCode === null || /^\d{3}$/.test(a.postalCode)).toBe(true);
    }
    // The whole answer holds no name, SSN, MRN, unified id or source record id.
    const text = JSON.stringify(res.data);
    for (const secret of [unifiedId, patient.ssn!, patient.ehrs.mercy!.mrn, patient.ehrs.stjude!.mrn, patient.ehrs.mercy!.patientId, fixture.family]) {
      expect(text).not.toContain(secret);
    }
  });

  it('gets every clinical date as a year, item ids as pseudonyms, and no free text or upstream ids', async () => {
    const [clin, anal] = await Promise.all([
      t.query(`query($id: ID!) { patient(id: $id) { ${FULL} } }`, { id: unifiedId }, 'clinician'),
      t.query(`query($id: ID!) { patient(id: $id) { ${FULL} } }`, { id: pseudonym }, 'analyst'),
    ]);
    expect(clin.errors).toBeUndefined();
    expect(anal.errors).toBeUndefined();
    const c = clin.data.patient;
    const a = anal.data.patient;
    const pseudo = t.gateway.services.deid!.pseudonyms;

    // Same address, reduced: state kept, ZIP to its first 3 digits (these are Massachusetts ZIPs, none restricted).
    expect(c.addresses.length).toBeGreaterThan(0);
    expect(a.addresses).toEqual(
      c.addresses.map((x: any) => ({ line: [], city: null, state: x.state, postalCode: x.postalCode?.slice(0, 3) ?? null, country: x.country })),
    );
    expect(c.addresses[0].postalCode).toMatch(/^\d{5}/);
    expect(a.birthDate).toBe(c.birthDate.slice(0, 4));
    expect(a.gender).toBe(c.gender);

    expect(a.conditions.totalCount).toBe(c.conditions.totalCount);
    expect(a.conditions.totalCount).toBeGreaterThan(0);
    c.conditions.nodes.forEach((cn: any, i: number) => {
      const an = a.conditions.nodes[i];
      expect(an.id).toBe(pseudo.resourceId(cn.id));
      expect(an.onset).toBe(cn.onset?.slice(0, 4) ?? null);
      expect(an.recordedDate).toBe(cn.recordedDate?.slice(0, 4) ?? null);
      expect(an.abatement).toBe(cn.abatement?.slice(0, 4) ?? null);
      expect(an.code).toEqual(cn.code);
      expect(an.provenance.map((x: any) => x.source.id)).toEqual(cn.provenance.map((x: any) => x.source.id));
      expect(an.provenance.every((x: any) => x.sourceResourceId === '' && /^\d{4}$/.test(x.fetchedAt))).toBe(true);
      expect(cn.provenance.every((x: any) => x.sourceResourceId !== '')).toBe(true);
    });

    expect(a.encounters.nodes.length).toBe(c.encounters.nodes.length);
    expect(a.encounters.nodes.every((n: any) => n.serviceProvider === null)).toBe(true);
    expect(a.encounters.nodes.every((n: any) => /^\d{4}$/.test(n.period.start))).toBe(true);
    expect(a.medicationRequests.nodes.every((n: any) => n.dosageInstructions.length === 0 && (n.authoredOn === null || /^\d{4}$/.test(n.authoredOn)))).toBe(true);
  });

  it('gets the same pseudonyms on every query, and a pseudonym of the wrong key names nobody', async () => {
    const q = `query($ids: [ID!]!) { patients(ids: $ids) { id conditions(first: 3) { nodes { id } } } }`;
    const first = await t.query(q, { ids: [pseudonym] }, 'analyst');
    const second = await t.query(q, { ids: [pseudonym] }, 'analyst');
    expect(first.errors).toBeUndefined();
    expect(second.data).toEqual(first.data);
    const other = await t.query(q, { ids: ['A'.repeat(43), pseudonym] }, 'analyst');
    expect(other.errors).toBeUndefined();
    expect(other.data.patients[0]).toBeNull();
    expect(other.data.patients[1].id).toBe(pseudonym);
  });

  it('cannot use unified ids, identifiers or name searches, and cannot see names, identifiers or contact data', async () => {
    const byUnified = await t.query(`query($id: ID!) { patient(id: $id) { id } }`, { id: unifiedId }, 'analyst');
    expect(byUnified.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(byUnified.errors)).not.toContain(unifiedId);

    const bySsn = await t.query(`query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) { id } }`, { v: patient.ssn }, 'analyst');
    expect(bySsn.data.patientByIdentifier).toBeNull();
    expect(bySsn.errors?.map((e) => [e.extensions?.code, e.path?.join('.')])).toEqual([['FORBIDDEN', 'patientByIdentifier']]);

    const named = await t.query(
      `query($id: ID!) { a: patient(id: $id) { name { family } } b: patient(id: $id) { telecom { value } } c: patient(id: $id) { sourceRecords { sourcePatientId } } }`,
      { id: pseudonym },
      'analyst',
    );
    expect(named.data).toEqual({ a: { name: null }, b: null, c: null });
    expect(named.errors?.map((e) => [e.extensions?.code, e.path?.join('.')]).sort()).toEqual([
      ['FORBIDDEN', 'a.name'],
      ['FORBIDDEN', 'b.telecom'],
      ['FORBIDDEN', 'c.sourceRecords'],
    ]);
  });

  it('has date filters cut to the year, so a day-precise `since` cannot pin an event down', async () => {
    const c = await t.query(`query($id: ID!) { patient(id: $id) { encounters(first: 1000) { nodes { period { start } } } } }`, { id: unifiedId }, 'clinician');
    const starts: string[] = c.data.patient.encounters.nodes.map((n: any) => n.period.start).sort();
    const year = starts.at(-1)!.slice(0, 4);
    const fromYear = starts.filter((s) => s >= year).length;
    // At day precision, `since` the last day of that year would leave out nearly all of them.
    const q = `query($id: ID!) { patient(id: $id) { encounters(first: 1000, since: "${year}-12-31") { totalCount } } }`;
    const a = await t.query(q, { id: pseudonym }, 'analyst');
    expect(a.errors).toBeUndefined();
    expect(a.data.patient.encounters.totalCount).toBe(fromYear);
    const clinician = await t.query(q, { id: unifiedId }, 'clinician');
    expect(clinician.data.patient.encounters.totalCount).toBe(starts.filter((s) => s.slice(0, 10) >= `${year}-12-31`).length);
  });
});
