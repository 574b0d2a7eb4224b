import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EHR_INFO, MISBEHAVING, type TruthPatient } from '../../sandbox/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Against a sandbox EHR (Mercy, which accepts OR lists) that breaks the FHIR contract the
// way buggy servers do: every chart holds exactly the patient's own well-formed items,
// each violation is one precise error (UPSTREAM_INVALID_RESPONSE with a reason and a
// count, or UPSTREAM_WARNING), a log line and a metric, and the source stays UP.

const logLines: Record<string, unknown>[] = [];
const logStream = new Writable({
  write(chunk, _enc, done) {
    for (const line of String(chunk).split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

let t: TestGateway;
let patients: TruthPatient[];
const unified = new Map<TruthPatient, string>();

beforeAll(async () => {
  t = await startTestGateway({
    sandbox: { maxPatients: 10, misbehave: 'mercy' },
    // The cache is on, to show that answers with violations are never kept in it.
    cache: { defaultTtlSeconds: 300 },
    logger: pino({ level: 'warn' }, logStream),
  });
  // Patients with observations, encounters and procedures at Mercy, so every rule shows in every chart.
  patients = t.sandbox.truth.patients.filter((p) => p.ehrs.mercy && ['Observation', 'Encounter', 'Procedure', 'Condition'].every((k) => p.ehrs.mercy!.counts[k])).slice(0, 3);
  expect(patients).toHaveLength(3);
  for (const p of patients) {
    const res = await t.query(`query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) { id } }`, {
      s: EHR_INFO.mercy.mrnSystem,
      v: p.ehrs.mercy!.mrn,
    });
    unified.set(p, res.data.patientByIdentifier.id);
  }
}, 180_000);
afterAll(async () => t?.close());
beforeEach(() => {
  t.sandbox.ehr('mercy').profile.misbehave = { ...MISBEHAVING };
  t.resetCounts();
  logLines.length = 0;
});

const FIELDS = `
  observations(first: 1000) { nodes { provenance { source { id } sourceResourceId } } }
  conditions(first: 1000) { nodes { provenance { source { id } sourceResourceId } } }
  encounters(first: 1000) { nodes { provenance { source { id } sourceResourceId } } }
  procedures(first: 1000) { nodes { provenance { source { id } sourceResourceId } } }`;

type Err = { path: string; code: string; source?: string; reason?: string; count?: number; outcome?: unknown };
function errorsOf(res: { errors?: { path?: (string | number)[]; extensions?: Record<string, any> }[] }): Err[] {
  return (res.errors ?? [])
    .map((e) => ({ path: e.path?.join('.') ?? '', ...(e.extensions as { code: string }) }) as Err)
    .sort((a, b) => `${a.path} ${a.code} ${a.reason}`.localeCompare(`${b.path} ${b.code} ${b.reason}`));
}

/** Mercy's items in one connection: exactly as many as the truth says, none of the injected ones. */
function expectOwnItems(node: any, p: TruthPatient): void {
  for (const [field, type] of [['observations', 'Observation'], ['conditions', 'Condition'], ['encounters', 'Encounter'], ['procedures', 'Procedure']] as const) {
    const mercy = node[field].nodes.flatMap((n: any) => n.provenance.filter((x: any) => x.source.id === 'mercy').map((x: any) => x.sourceResourceId));
    expect(mercy.filter((id: string) => id.startsWith('zz-'))).toEqual([]);
    expect(new Set(mercy).size, `${field} of one patient`).toBe(p.ehrs.mercy!.counts[type]);
  }
}

const ITEM_ERRORS = (path: string, scoped: boolean): Err[] =>
  [
    ...(scoped ? [{ path, code: 'UPSTREAM_INVALID_RESPONSE', source: 'mercy', reason: 'malformed', count: 1 }] : []),
    { path, code: 'UPSTREAM_INVALID_RESPONSE', source: 'mercy', reason: 'wrong-patient', count: 2 },
    ...(scoped ? [{ path, code: 'UPSTREAM_INVALID_RESPONSE', source: 'mercy', reason: 'wrong-type', count: 1 }] : []),
    { path, code: 'UPSTREAM_WARNING', source: 'mercy', outcome: [{ severity: 'warning', code: 'incomplete' }] },
  ].sort((a, b) => `${a.path} ${a.code} ${a.reason}`.localeCompare(`${b.path} ${b.code} ${b.reason}`)) as Err[];

describe('a misbehaving EHR, one patient (single-patient searches)', () => {
  it('shows only the patient’s own well-formed items, with one error per violation kind, paging violations keeping what came', async () => {
    const p = patients[0]!;
    const res = await t.query(`query($id: ID!) { patient(id: $id) { ${FIELDS} } }`, { id: unified.get(p) });
    expectOwnItems(res.data.patient, p);
    const errors = errorsOf(res);
    const at = (field: string) => errors.filter((e) => e.path === `patient.${field}`);
    for (const field of ['observations', 'conditions']) expect(at(field)).toEqual(ITEM_ERRORS(`patient.${field}`, true));
    expect(at('encounters')).toEqual(
      [...ITEM_ERRORS('patient.encounters', true), { path: 'patient.encounters', code: 'UPSTREAM_INVALID_RESPONSE', source: 'mercy', reason: 'paging-off-origin', count: 1 }].sort((a, b) =>
        `${a.path} ${a.code} ${a.reason}`.localeCompare(`${b.path} ${b.code} ${b.reason}`),
      ),
    );
    expect(at('procedures').filter((e) => e.reason === 'paging-loop')).toEqual([{ path: 'patient.procedures', code: 'UPSTREAM_INVALID_RESPONSE', source: 'mercy', reason: 'paging-loop', count: 1 }]);
    // The off-origin link was never followed: the token stays home.
    expect(t.sandbox.ehr('mercy').requests.count({ resourceType: 'Encounter', interaction: 'search' })).toBe(1);
    // No UPSTREAM_UNAVAILABLE: the source answered.
    expect(errors.some((e) => e.code === 'UPSTREAM_UNAVAILABLE')).toBe(false);
  });

  it('logs one line per violation kind and call with source and reason, counts them, and keeps the source UP', async () => {
    const p = patients[0]!;
    await t.query(`query($id: ID!) { patient(id: $id) { observations(first: 5) { totalCount } } }`, { id: unified.get(p) });
    const lines = logLines.filter((l) => l.msg === 'upstream answer broke the FHIR contract: set aside' && l.resourceType === 'Observation');
    expect(lines.map((l) => [l.source, l.reason, l.count]).sort()).toEqual([
      ['mercy', 'malformed', 1],
      ['mercy', 'wrong-patient', 2],
      ['mercy', 'wrong-type', 1],
    ]);
    expect(JSON.stringify(logLines)).not.toContain(p.ehrs.mercy!.patientId);
    const metrics = await (await fetch(`${t.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/chartgraph_upstream_invalid_responses_total\{source="mercy",resource_type="Observation",reason="wrong-patient"\} [1-9]\d*/);
    const sources = await t.query(`{ sources { id status } }`, {}, 'admin');
    expect(sources.data.sources.find((s: any) => s.id === 'mercy').status).toBe('UP');
  });

  it('answers a Patient read that returns another id as UPSTREAM_INVALID_RESPONSE read-id-mismatch, never as that patient', async () => {
    t.sandbox.ehr('mercy').profile.misbehave = { readOtherId: true };
    const p = patients[1]!;
    const res = await t.query(`query($id: ID!) { patient(id: $id) { id sourceRecords { source { id } sourcePatientId } } }`, { id: unified.get(p) });
    expect(t.sandbox.ehr('mercy').requests.count({ resourceType: 'Patient', interaction: 'read' })).toBe(1);
    expect(errorsOf(res)).toContainEqual(expect.objectContaining({ code: 'UPSTREAM_INVALID_RESPONSE', source: 'mercy', reason: 'read-id-mismatch', count: 1 }));
    expect(JSON.stringify(res.data)).not.toContain(`${p.ehrs.mercy!.patientId}-other`);
  });
});

describe('a misbehaving EHR, a dashboard (OR-list searches)', () => {
  it('hands each item to the patient it references, never to a patient not asked, with errors on the patients each may concern', async () => {
    const ids = patients.map((p) => unified.get(p));
    const res = await t.query(`query($ids: [ID!]!) { patients(ids: $ids) { ${FIELDS} } }`, { ids });
    patients.forEach((p, i) => expectOwnItems(res.data.patients[i], p));
    // One OR search per type at Mercy for the three patients.
    const searches = t.sandbox.ehr('mercy').requests.entries.filter((r) => r.resourceType === 'Observation' && r.interaction === 'search');
    expect(searches.filter((r) => !r.page)).toHaveLength(1);
    expect(searches[0]!.params.find(([k]) => k === 'patient')![1].split(',')).toHaveLength(3);
    const errors = errorsOf(res);
    for (const field of ['observations', 'conditions']) {
      const perPatient = patients.map((_, i) => errors.filter((e) => e.path === `patients.${i}.${field}`));
      // Items naming no asked patient concern the whole OR search: every patient of it hears of them.
      for (const [i, list] of perPatient.entries()) {
        expect(list).toContainEqual({ path: `patients.${i}.${field}`, code: 'UPSTREAM_INVALID_RESPONSE', source: 'mercy', reason: 'wrong-patient', count: 2 });
        expect(list).toContainEqual({ path: `patients.${i}.${field}`, code: 'UPSTREAM_WARNING', source: 'mercy', outcome: [{ severity: 'warning', code: 'incomplete' }] });
      }
      // Items of one asked patient set aside (wrong type, malformed) concern that patient only.
      const scoped = perPatient.flat().filter((e) => e.reason === 'wrong-type' || e.reason === 'malformed');
      expect(scoped.map((e) => e.reason).sort()).toEqual(['malformed', 'wrong-type']);
      expect(new Set(scoped.map((e) => e.path)).size).toBe(1);
    }
    for (const i of [0, 1, 2]) {
      expect(errors.filter((e) => e.path === `patients.${i}.encounters` && e.reason === 'paging-off-origin')).toHaveLength(1);
      expect(errors.filter((e) => e.path === `patients.${i}.procedures` && e.reason === 'paging-loop')).toHaveLength(1);
    }
  });

  it('does not cache an answer that had violations (the next request asks again and is told again); a clean one is cached', async () => {
    const ids = patients.map((p) => unified.get(p));
    const q = `query($ids: [ID!]!) { patients(ids: $ids) { observations(first: 1) { totalCount } } }`;
    await t.query(q, { ids });
    t.resetCounts();
    const again = await t.query(q, { ids });
    expect(t.sandbox.ehr('mercy').requests.count({ resourceType: 'Observation', interaction: 'search', page: false })).toBe(1);
    expect(errorsOf(again).filter((e) => e.reason === 'wrong-patient')).toHaveLength(3);

    t.sandbox.ehr('mercy').profile.misbehave = {};
    await t.query(q, { ids });
    t.resetCounts();
    const cached = await t.query(q, { ids });
    expect(t.sandbox.ehr('mercy').requests.count({ resourceType: 'Observation', interaction: 'search' })).toBe(0);
    expect(errorsOf(cached)).toEqual([]);
  });

  it('a well-behaved answer carries no such error', async () => {
    t.sandbox.ehr('mercy').profile.misbehave = {};
    const ids = patients.map((p) => unified.get(p));
    const res = await t.query(`query($ids: [ID!]!) { patients(ids: $ids) { ${FIELDS} } }`, { ids });
    patients.forEach((p, i) => expectOwnItems(res.data.patients[i], p));
    expect(errorsOf(res)).toEqual([]);
  });
});
