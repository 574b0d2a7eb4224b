import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../permissions/roles.js';
import { SSN_SYSTEM, type TruthPatient } from '../../sandbox/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// The role matrix of PRODUCT.md ("Security"), one query per role. Each field group sits
// under its own alias, so a refused non-null field nulls only its own alias and the answer
// shows, group by group, what each role gets.

const LISTS = ['conditions', 'encounters', 'medicationRequests', 'allergies', 'observations', 'diagnosticReports', 'immunizations', 'procedures'];

const QUERY = `query Matrix($id: ID!, $ssn: String!) {
  id: patient(id: $id) { id }
  demographics: patient(id: $id) { gender birthDate birthYear ageGroup addresses { state postalCode } }
  name: patient(id: $id) { name { family } }
  telecom: patient(id: $id) { telecom { value } }
  identifiers: patient(id: $id) { identifiers { system value } }
  sourceRecords: patient(id: $id) { sourceRecords { sourcePatientId } }
  ${LISTS.map((l) => `${l}: patient(id: $id) { ${l}(first: 1) { totalCount } }`).join('\n  ')}
  coverage: patient(id: $id) { coverage { status } }
  eligibility: patient(id: $id) { eligibility { status } }
  byIdentifier: patientByIdentifier(system: "${SSN_SYSTEM}", value: $ssn) { id }
  sources { id }
}`;
// Non-null roots: a refusal nulls the whole answer, so each gets a request of its own.
const ROOTS: Record<string, string> = {
  search: `query($family: String!) { searchPatients(name: $family) { totalCount } }`,
  audit: `{ auditEvents(first: 1) { totalCount } }`,
};
const GROUPS = ['id', 'demographics', 'name', 'telecom', 'identifiers', 'sourceRecords', ...LISTS, 'coverage', 'eligibility', 'byIdentifier', 'sources'];

const DENIED: Record<Role, string[]> = {
  // No role looks patients up by an identifier system it may not see: the SSN lookup is refused.
  clinician: ['coverage', 'eligibility', 'byIdentifier', 'audit'],
  care_coordinator: ['identifiers', 'observations', 'diagnosticReports', 'immunizations', 'procedures', 'byIdentifier', 'audit'],
  billing: [...LISTS, 'audit'],
  analyst: ['name', 'telecom', 'identifiers', 'sourceRecords', 'coverage', 'eligibility', 'byIdentifier', 'search', 'audit'],
  admin: [],
};

let t: TestGateway;
let patient: TruthPatient;
let unifiedId: string;
let family: string;

beforeAll(async () => {
  t = await startTestGateway();
  patient = t.sandbox.truth.patients.find((p) => p.ssn && p.ehrs.mercy?.hasSsn && p.ehrs.stjude?.hasSsn && p.ehrs.mercy.counts.Condition)!;
  const res = await t.query(`query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) { id name { family } } }`, { v: patient.ssn }, 'admin');
  unifiedId = res.data.patientByIdentifier.id;
  family = res.data.patientByIdentifier.name.family;
});
afterAll(async () => t?.close());

describe('the role matrix', () => {
  for (const role of Object.keys(DENIED) as Role[]) {
    it(`${role}: gets exactly its field groups and FORBIDDEN for the others`, async () => {
      const id = role === 'analyst' ? t.gateway.services.deid!.pseudonyms.patientId(unifiedId) : unifiedId;
      const res = await t.query(QUERY, { id, ssn: patient.ssn }, role);
      const forbidden = new Set((res.errors ?? []).filter((e) => e.extensions?.code === 'FORBIDDEN').map((e) => String(e.path![0])));
      for (const [group, query] of Object.entries(ROOTS)) {
        const r = await t.query(query, { family }, role);
        const codes = (r.errors ?? []).map((e) => e.extensions?.code);
        if (codes.includes('FORBIDDEN')) {
          forbidden.add(group);
          expect(r.data ?? null).toBeNull();
        } else {
          expect(codes).toEqual([]);
        }
      }
      expect([...forbidden].sort()).toEqual([...DENIED[role]].sort());
      // Nothing but refusals (and possibly a payer that is not configured) went wrong.
      const other = (res.errors ?? []).filter((e) => e.extensions?.code !== 'FORBIDDEN' && !['eligibility'].includes(String(e.path?.[0])));
      expect(other).toEqual([]);
      expect(res.data, role).not.toBeNull();
      for (const group of GROUPS) {
        const value = res.data[group];
        if (forbidden.has(group)) {
          // A refused field is null (and a refused non-null field nulls its alias), never data.
          const inner = value && typeof value === 'object' && group in value ? value[group] : value;
          expect(inner ?? null, `${role} ${group}`).toBeNull();
        } else {
          expect(value, `${role} ${group}`).not.toBeNull();
          // The field itself came back, not just its alias (eligibility may be null: this
          // gateway has no payer configured).
          const inner = value && typeof value === 'object' && group in value ? value[group] : value;
          if (group !== 'eligibility') expect(inner ?? null, `${role} ${group} (the field)`).not.toBeNull();
        }
      }
      const systems = (res.data.identifiers?.identifiers ?? []).map((i: any) => i.system);
      if (role === 'billing' || role === 'admin') expect(systems).toContain(SSN_SYSTEM);
      if (role === 'clinician') {
        expect(systems.length).toBeGreaterThan(0);
        expect(systems).not.toContain(SSN_SYSTEM);
      }
    });
  }

  it('SMART scopes narrow a role: user/Condition.rs alone reaches conditions but not demographics or observations', async () => {
    const token = await t.token('clinician', ['user/Condition.rs']);
    const res = await fetch(`${t.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: `query($id: ID!) { a: patient(id: $id) { id conditions(first: 1) { totalCount } } b: patient(id: $id) { gender } c: patient(id: $id) { observations { totalCount } } }`,
        variables: { id: unifiedId },
      }),
    });
    const body = (await res.json()) as any;
    expect(body.data.a.conditions.totalCount).toBeGreaterThan(0);
    expect(body.data.b).toEqual({ gender: null });
    expect(body.data.c).toBeNull();
    expect(body.errors.map((e: any) => [e.extensions.code, e.path.join('.')]).sort()).toEqual([
      ['FORBIDDEN', 'b.gender'],
      ['FORBIDDEN', 'c.observations'],
    ]);
  });

  it('SMART scopes: system/*.rs grants everything the role allows; .s alone, patient/ and query-restricted scopes grant nothing', async () => {
    const ask = async (scopes: string[]) => {
      const token = await t.token('clinician', scopes);
      const res = await fetch(`${t.gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: `query($id: ID!) { patient(id: $id) { observations(first: 1) { totalCount } } }`, variables: { id: unifiedId } }),
      });
      const body = (await res.json()) as any;
      return body.errors?.map((e: any) => e.extensions.code) ?? 'ok';
    };
    expect(await ask(['system/*.rs'])).toBe('ok');
    expect(await ask(['user/Observation.read'])).toBe('ok');
    expect(await ask(['user/Observation.s'])).toEqual(['FORBIDDEN']);
    expect(await ask(['patient/*.rs'])).toEqual(['FORBIDDEN']);
    expect(await ask(['user/Observation.rs?category=laboratory'])).toEqual(['FORBIDDEN']);
    expect(await ask(['user/Observation.write'])).toEqual(['FORBIDDEN']);
  });
});
