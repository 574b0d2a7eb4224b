import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimulatedMember } from '../../sandbox/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Coverage and payer eligibility over real HTTP: two simulated EHRs serving Coverage, the
// simulated payer gateway with two trading partners (Acme, Medicaid), the gateway on PGlite.

const DEADLINE_MS = 1_500;
let t: TestGateway;
/** Unified patient per payer member id, found through Mercy's MRNs. */
const patientOf = new Map<string, { id: string; family: string }>();
let allIds: string[] = [];

beforeAll(async () => {
  t = await startTestGateway({
    payers: true,
    config: (sources) => ({
      server: { port: 0, logLevel: 'silent' },
      cache: { url: 'pglite:memory:', defaultTtlSeconds: 0 },
      auth: { mode: 'dev' },
      sources: sources.map((s) => ((s as { kind: string }).kind === 'eligibility' ? { ...(s as object), deadlineMs: DEADLINE_MS, timeoutMs: 2_000 } : s)),
    }),
  });
  const patients = t.sandbox.truth.patients.filter((p) => p.ehrs.mercy);
  const q = patients.map((p, i) => `p${i}: patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: "${p.ehrs.mercy!.mrn}") { id name { family } birthDate }`);
  const res = await t.query(`{ ${q.join('\n')} }`, undefined, 'admin');
  expect(res.errors).toBeUndefined();
  const found = patients.map((_, i) => res.data[`p${i}`] as { id: string; name: { family: string }; birthDate: string });
  allIds = found.map((p) => p.id);
  for (const m of t.sandbox.payer.members) {
    const hit = found.find((p) => p.name.family === m.lastName && p.birthDate.replaceAll('-', '') === m.dateOfBirth);
    if (hit) patientOf.set(m.memberId, { id: hit.id, family: hit.name.family });
  }
}, 60_000);
afterAll(async () => t?.close());
beforeEach(async () => {
  t.sandbox.payer.answerOtherMember = false;
  await t.sandbox.payer.clearFaults();
  t.sandbox.payer.latencyMs = 0;
  t.resetCounts();
});

const memberWhere = (pred: (m: SimulatedMember) => boolean): SimulatedMember & { patientId: string } => {
  const m = t.sandbox.payer.members.find((x) => pred(x) && patientOf.has(x.memberId));
  expect(m, 'the sandbox has such a member').toBeDefined();
  return { ...m!, patientId: patientOf.get(m!.memberId)!.id };
};
const payerCalls = () => t.sandbox.payer.requests.count({ method: 'POST' });

const ELIGIBILITY = `
  status active planName groupNumber coverageLevelCode coverageStart coverageEnd memberId stale coverageId dateOfService
  payer { id name }
  rejection { code description followupAction followupActionCode }
  serviceTypes {
    serviceTypeCode active
    inNetwork { covered copay coinsurancePercent deductible { total remaining } familyDeductible { total remaining } outOfPocketMaximum { total remaining } }
    outOfNetwork { covered copay coinsurancePercent deductible { total remaining } }
  }`;

describe('Patient.coverage', () => {
  it('lists the EHR coverage with member id, payer, period, the matched eligibility source and every provenance', async () => {
    const m = memberWhere((x) => x.tradingPartnerServiceId === '62308');
    const truth = t.sandbox.truth.patients.filter((p) => p.ehrs.mercy && patientOf.get(m.memberId));
    expect(truth.length).toBeGreaterThan(0);
    const res = await t.query(
      `query($id: ID!) { patient(id: $id) { coverage { id status memberId relationship payors { display } period { start } eligibilitySource { id } provenance { source { id } sourceResourceId } } } }`,
      { id: m.patientId },
      'billing',
    );
    expect(res.errors).toBeUndefined();
    const coverage = res.data.patient.coverage;
    expect(coverage).toHaveLength(1);
    expect(coverage[0]).toMatchObject({
      status: 'active',
      memberId: m.memberId,
      relationship: 'self',
      payors: [{ display: 'Acme Health Plan' }],
      period: { start: `${m.eligibilityBegin.slice(0, 4)}-${m.eligibilityBegin.slice(4, 6)}-${m.eligibilityBegin.slice(6)}` },
      eligibilitySource: { id: 'acme-payer' },
    });
    expect(coverage[0].id).toBe(`${coverage[0].provenance[0].source.id}/Coverage/${coverage[0].provenance[0].sourceResourceId}`);
    // One Coverage search per EHR that holds the patient; mercy answers by OR-list, St. Jude per patient.
    expect(t.sandbox.ehrs.reduce((n, e) => n + e.requests.count({ resourceType: 'Coverage' }), 0)).toBeGreaterThanOrEqual(1);
  });

  it('is visible to billing, care coordinators and admins only', async () => {
    const m = memberWhere(() => true);
    const q = `query($id: ID!) { patient(id: $id) { id coverage { memberId } } }`;
    for (const role of ['billing', 'care_coordinator', 'admin'] as const) {
      const res = await t.query(q, { id: m.patientId }, role);
      expect(res.errors, role).toBeUndefined();
      expect(res.data.patient.coverage[0].memberId).toBe(m.memberId);
    }
    const clinician = await t.query(q, { id: m.patientId }, 'clinician');
    expect(clinician.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['patient.coverage', 'FORBIDDEN']]);
    const eligibility = await t.query(`{ eligibility(input: { payerId: "acme-payer", memberId: "W1" }) { status } }`, undefined, 'clinician');
    expect(eligibility.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(payerCalls()).toBe(0);
  });
});

describe('Patient.eligibility', () => {
  it('checks the patient’s coverage with the payer: active, plan, group, dates and per service type cost sharing', async () => {
    const m = memberWhere((x) => x.active && x.plan === 'gold-ppo' && x.coverageLevelCode === 'FAM');
    const res = await t.query(
      `query($id: ID!) { patient(id: $id) { eligibility(serviceTypeCodes: ["98", "30"], dateOfService: "2025-06-02") { ${ELIGIBILITY} } } }`,
      { id: m.patientId },
      'billing',
    );
    expect(res.errors).toBeUndefined();
    const e = res.data.patient.eligibility;
    expect(e).toMatchObject({
      status: 'ACTIVE',
      active: true,
      planName: 'Acme Gold PPO',
      groupNumber: m.groupNumber,
      coverageLevelCode: 'FAM',
      coverageStart: '2025-01-01',
      coverageEnd: '2025-12-31',
      memberId: m.memberId,
      stale: false,
      dateOfService: '2025-06-02',
      payer: { id: 'acme-payer', name: 'Acme Health Plan' },
      rejection: null,
    });
    expect(e.coverageId).toMatch(/\/Coverage\//);
    expect(e.serviceTypes.map((s: any) => s.serviceTypeCode)).toEqual(['30', '98', '86', '88', 'MH', 'UC'].filter((c) => ['30', '98'].includes(c)));
    const met = (total: number, share: number) => total - Math.round((total * share) / 10) * 10;
    const office = e.serviceTypes.find((s: any) => s.serviceTypeCode === '98');
    expect(office).toEqual({
      serviceTypeCode: '98',
      active: true,
      inNetwork: {
        covered: true,
        copay: 25,
        coinsurancePercent: 20,
        deductible: { total: 1500, remaining: met(1500, m.metShare) },
        familyDeductible: { total: 3000, remaining: met(3000, m.metShare / 2) },
        outOfPocketMaximum: { total: 5000, remaining: met(5000, m.metShare) },
      },
      outOfNetwork: { covered: true, copay: null, coinsurancePercent: 40, deductible: { total: 3000, remaining: 3000 } },
    });
    expect(payerCalls()).toBe(1);
  });

  it('reports inactive coverage as INACTIVE, not as an error', async () => {
    const m = memberWhere((x) => !x.active);
    const res = await t.query(`query($id: ID!) { patient(id: $id) { eligibility { status active coverageEnd } } }`, { id: m.patientId }, 'care_coordinator');
    expect(res.errors).toBeUndefined();
    const year = new Date().getUTCFullYear() - 1;
    expect(res.data.patient.eligibility).toEqual({ status: 'INACTIVE', active: false, coverageEnd: `${year}-12-31` });
  });

  it('is null without an error for a patient whose coverage names no configured payer, and refuses an unknown payerId', async () => {
    // An Acme member, asked about Medicaid: no coverage of theirs names that payer.
    const m = memberWhere((x) => x.tradingPartnerServiceId !== 'SKMCD');
    const res = await t.query(`query($id: ID!) { patient(id: $id) { eligibility(payerId: "state-medicaid") { status } } }`, { id: m.patientId }, 'billing');
    expect(res.errors).toBeUndefined();
    expect(res.data.patient.eligibility).toBeNull();
    // What the caller sent is not echoed: a payer id field can carry anything.
    const bad = await t.query(`query($id: ID!) { patient(id: $id) { eligibility(payerId: "SSN-123-45-6789") { status } } }`, { id: m.patientId }, 'billing');
    expect(bad.errors?.map((e) => [e.message, e.extensions])).toEqual([
      ['`payerId` names no configured payer eligibility source', { code: 'BAD_USER_INPUT', argument: 'payerId' }],
    ]);
  });

  it('serves a 50-patient dashboard with one payer call per distinct member, under each payer’s concurrency cap, then from the cache', async () => {
    t.sandbox.payer.latencyMs = 50;
    const ids = Array.from({ length: 50 }, (_, i) => allIds[i % allIds.length]!);
    const q = `query($ids: [ID!]!) { patients(ids: $ids) { id eligibility(serviceTypeCodes: ["UC"]) { status memberId } } }`;
    const res = await t.query(q, { ids }, 'billing');
    expect(res.errors).toBeUndefined();
    const members = new Set(res.data.patients.map((p: any) => p.eligibility?.memberId).filter(Boolean));
    const insured = new Set([...patientOf.keys()].filter((id) => allIds.includes(patientOf.get(id)!.id)));
    expect(members).toEqual(insured);
    expect(payerCalls()).toBe(insured.size);
    const acme = t.sandbox.payer.members.filter((m) => insured.has(m.memberId) && m.tradingPartnerServiceId === '62308').length;
    // In parallel, never past the cap (how close to it a busy machine gets varies).
    expect(acme).toBeGreaterThan(4);
    expect(t.sandbox.payer.maxInFlight('62308')).toBeGreaterThan(1);
    expect(t.sandbox.payer.maxInFlight('62308')).toBeLessThanOrEqual(4);
    expect(t.sandbox.payer.maxInFlight('SKMCD')).toBeLessThanOrEqual(4);

    t.resetCounts();
    const again = await t.query(q, { ids }, 'billing');
    expect(again.data).toEqual(res.data);
    expect(payerCalls()).toBe(0);
  });

  it('leaves the clinical part intact when the payer is down: eligibility null with an error naming the payer', async () => {
    const m = memberWhere((x) => x.tradingPartnerServiceId === '62308');
    await t.sandbox.payer.setFaults({ status: 503 });
    const q = `query($id: ID!) { patient(id: $id) { name { family } conditions(first: 1000) { totalCount } eligibility(serviceTypeCodes: ["MH"]) { status } } }`;
    const down = await t.query(q, { id: m.patientId }, 'admin');
    await t.sandbox.payer.clearFaults();
    const up = await t.query(q, { id: m.patientId }, 'admin');
    expect(up.errors).toBeUndefined();
    expect(down.data.patient.name).toEqual(up.data.patient.name);
    expect(down.data.patient.conditions).toEqual(up.data.patient.conditions);
    expect(down.data.patient.eligibility).toBeNull();
    expect(down.errors?.map((e) => [e.path?.join('.'), e.extensions?.code, e.extensions?.source, e.extensions?.status])).toEqual([
      ['patient.eligibility', 'UPSTREAM_UNAVAILABLE', 'acme-payer', 503],
    ]);
    expect(JSON.stringify(down.errors)).not.toContain(m.memberId);
    expect(up.data.patient.eligibility).toEqual({ status: m.active ? 'ACTIVE' : 'INACTIVE' });
  });

  it('does not hold the answer past its own deadline when the payer hangs', async () => {
    const m = memberWhere((x) => x.tradingPartnerServiceId === '62308');
    await t.sandbox.payer.setFaults({ hang: true });
    const started = performance.now();
    const res = await t.query(
      `query($id: ID!) { patient(id: $id) { name { family } eligibility(serviceTypeCodes: ["88"]) { status } } }`,
      { id: m.patientId },
      'admin',
    );
    const ms = performance.now() - started;
    expect(ms).toBeLessThan(DEADLINE_MS + 1_000);
    expect(res.data.patient.name.family).toBe(patientOf.get(m.memberId)!.family);
    expect(res.data.patient.eligibility).toBeNull();
    expect(res.errors?.map((e) => [e.path?.join('.'), e.extensions?.code, e.extensions?.source])).toEqual([['patient.eligibility', 'UPSTREAM_TIMEOUT', 'acme-payer']]);
  });
});

describe('Query.eligibility', () => {
  it('refuses a 271 about another member than asked: UPSTREAM_INVALID_RESPONSE payer-member-mismatch, nothing of it shown, and the answer is not cached', async () => {
    const m = memberWhere((x) => x.tradingPartnerServiceId === '62308' && x.active);
    const dob = `${m.dateOfBirth.slice(0, 4)}-${m.dateOfBirth.slice(4, 6)}-${m.dateOfBirth.slice(6)}`;
    const q = `query($input: EligibilityInput!) { eligibility(input: $input) { status memberId } }`;
    // A service type no other test asks, so the answer cached at the end is this test's alone.
    const input = { payerId: 'acme-payer', memberId: m.memberId, firstName: m.firstName, lastName: m.lastName, birthDate: dob, serviceTypeCodes: ['47'] };
    t.sandbox.payer.answerOtherMember = true;
    const res = await t.query(q, { input }, 'billing');
    expect(res.data?.eligibility ?? null).toBeNull();
    expect(res.errors?.map((e) => e.extensions)).toEqual([{ code: 'UPSTREAM_INVALID_RESPONSE', source: 'acme-payer', reason: 'payer-member-mismatch', count: 1 }]);
    expect(JSON.stringify(res)).not.toContain(`${m.memberId}X`);
    expect(t.calls.filter((c) => c.sourceId === 'acme-payer').map((c) => [c.outcome, c.violations])).toEqual([['invalid', [{ reason: 'payer-member-mismatch', count: 1 }]]]);
    // The payer itself is fine: the next, correct answer is shown (nothing wrong was cached).
    t.sandbox.payer.answerOtherMember = false;
    const ok = await t.query(q, { input }, 'billing');
    expect(ok.errors).toBeUndefined();
    expect(ok.data.eligibility).toEqual({ status: 'ACTIVE', memberId: m.memberId });
  });

  it('checks a member by details, and answers payer rejections as typed results, not errors', async () => {
    const m = memberWhere((x) => x.tradingPartnerServiceId === '62308' && x.active);
    const dob = `${m.dateOfBirth.slice(0, 4)}-${m.dateOfBirth.slice(4, 6)}-${m.dateOfBirth.slice(6)}`;
    const q = `query($input: EligibilityInput!) { eligibility(input: $input) { status active memberId coverageId rejection { code description followupAction followupActionCode transient } } }`;
    const base = { payerId: 'acme-payer', memberId: m.memberId, firstName: m.firstName, lastName: m.lastName, birthDate: dob, serviceTypeCodes: ['30'] };
    const ok = await t.query(q, { input: base }, 'billing');
    expect(ok.errors).toBeUndefined();
    expect(ok.data.eligibility).toEqual({ status: 'ACTIVE', active: true, memberId: m.memberId, coverageId: null, rejection: null });

    const rejected = [];
    for (const input of [{ ...base, memberId: 'X!' }, { ...base, memberId: 'W000000000' }, { ...base, birthDate: '1901-01-01' }]) {
      const res = await t.query(q, { input }, 'billing');
      rejected.push(res.errors ?? res.data.eligibility);
    }
    // 'X!' never reaches the payer: chartgraph refuses it as input.
    expect((rejected[0] as any[]).map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expect(rejected.slice(1)).toEqual([
      { status: 'REJECTED', active: null, memberId: null, coverageId: null, rejection: { code: '75', description: 'Subscriber/Insured Not Found', followupAction: 'Please Correct and Resubmit', followupActionCode: 'C', transient: false } },
      {
        status: 'REJECTED',
        active: null,
        memberId: null,
        coverageId: null,
        rejection: { code: '71', description: 'Patient Birth Date Does Not Match That for the Patient on the Database', followupAction: 'Please Correct and Resubmit', followupActionCode: 'C', transient: false },
      },
    ]);
    const invalid = await t.query(q, { input: { ...base, memberId: 'AB' } }, 'billing');
    expect(invalid.data.eligibility.rejection.code).toBe('72');
    expect(payerCalls()).toBe(4);
  });

  it('turns a rate-limited payer into UPSTREAM_RATE_LIMITED with Retry-After', async () => {
    await t.sandbox.payer.setFaults({ rateLimit: { retryAfterSec: 30 } });
    const res = await t.query(`{ eligibility(input: { payerId: "acme-payer", memberId: "W123123123", lastName: "Doe", birthDate: "1980-01-01" }) { status } }`, undefined, 'billing');
    expect(res.data.eligibility).toBeNull();
    expect(res.errors?.map((e) => e.extensions)).toEqual([{ code: 'UPSTREAM_RATE_LIMITED', source: 'acme-payer', status: 429, retryAfterSec: 30 }]);
  });
});
