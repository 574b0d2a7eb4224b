import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FaultRule, TruthPatient } from '../../sandbox/index.js';
import { SSN_SYSTEM } from '../../sandbox/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Each way a FHIR source misbehaves, against the simulated EHRs: the gateway answers
// within its deadline with what it has, names the failure precisely, keeps retries within
// budget, stays up, and keeps its memory bounded.

const TIMEOUT_MS = 1_000;
let t: TestGateway;
let patient: TruthPatient;
let id: string;

beforeAll(async () => {
  t = await startTestGateway({
    sandbox: { maxPatients: 8 },
    sourceOptions: {
      timeoutMs: TIMEOUT_MS,
      maxResponseBytes: 4 * 1024 * 1024,
      // The budget and the breaker have their own tests (fhir-resilience); here every failure is seen alone.
      resilience: { baseDelayMs: 20, maxDelayMs: 50, breakerFailures: 1_000, retryBudgetRatio: 1 },
    },
  });
  patient = t.sandbox.truth.patients.find((p) => p.ssn && p.ehrs.mercy?.hasSsn && p.ehrs.stjude?.hasSsn && p.ehrs.mercy.counts.Condition)!;
  const res = await t.query(`query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) { id } }`, { v: patient.ssn }, 'admin');
  id = res.data.patientByIdentifier.id;
});
afterAll(async () => t?.close());
afterEach(async () => {
  for (const e of t.sandbox.ehrs) await e.clearFaults();
  t.resetCounts();
});

const Q = `query($id: ID!) { patient(id: $id) { id conditions(first: 5) { totalCount nodes { provenance { source { id } } } } } }`;

async function underFault(fault: FaultRule) {
  await t.sandbox.ehr('stjude').setFaults({ resourceTypes: ['Condition'], ...fault });
  t.resetCounts();
  const started = Date.now();
  const res = await t.query(Q, { id });
  const ms = Date.now() - started;
  const conditionRequests = t.sandbox.ehr('stjude').requests.count({ resourceType: 'Condition' });
  // Mercy's part of the answer is intact whatever stjude does.
  const mercyItems = res.data.patient.conditions.nodes.filter((n: any) => n.provenance.some((p: any) => p.source.id === 'mercy'));
  expect(mercyItems.length).toBe(Math.min(5, patient.ehrs.mercy!.counts.Condition!));
  const health = await fetch(`${t.gateway.url}/healthz`);
  expect(health.status).toBe(200);
  return { res, ms, conditionRequests, errors: (res.errors ?? []).map((e) => ({ path: e.path?.join('.'), ...e.extensions })) };
}

describe('a FHIR source that', () => {
  it('is down: UPSTREAM_UNAVAILABLE, retried twice, no more', async () => {
    const { errors, conditionRequests, ms } = await underFault({ down: 'reset' });
    expect(errors).toEqual([{ path: 'patient.conditions', code: 'UPSTREAM_UNAVAILABLE', source: 'stjude' }]);
    expect(conditionRequests).toBe(3);
    expect(ms).toBeLessThan(TIMEOUT_MS);
  });

  it('is slower than its deadline: UPSTREAM_TIMEOUT at the deadline, not retried', async () => {
    const { errors, conditionRequests, ms } = await underFault({ latencyMs: 5_000 });
    expect(errors).toEqual([{ path: 'patient.conditions', code: 'UPSTREAM_TIMEOUT', source: 'stjude', reason: 'UPSTREAM' }]);
    expect(conditionRequests).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(TIMEOUT_MS + 700);
  });

  it('answers a short 5xx burst: retried, answered in full, no error', async () => {
    const { res, errors, conditionRequests } = await underFault({ status: 502, times: 2 });
    expect(errors).toEqual([]);
    expect(conditionRequests).toBe(3);
    expect(res.data.patient.conditions.totalCount).toBeGreaterThanOrEqual(patient.ehrs.mercy!.counts.Condition!);
  });

  it('keeps failing with 5xx: UPSTREAM_UNAVAILABLE with the status, retries spent', async () => {
    const { errors, conditionRequests } = await underFault({ status: 500 });
    expect(errors).toEqual([{ path: 'patient.conditions', code: 'UPSTREAM_UNAVAILABLE', source: 'stjude', status: 500, outcome: [{ severity: 'error', code: 'exception' }] }]);
    expect(conditionRequests).toBe(3);
  });

  it('rate limits with a long Retry-After: UPSTREAM_RATE_LIMITED at once, nothing retried', async () => {
    const { errors, conditionRequests, ms } = await underFault({ rateLimit: { retryAfterSec: 120 } });
    expect(errors).toEqual([{ path: 'patient.conditions', code: 'UPSTREAM_RATE_LIMITED', source: 'stjude', status: 429, retryAfterSec: 120 }]);
    expect(conditionRequests).toBe(1);
    expect(ms).toBeLessThan(TIMEOUT_MS);
  });

  it.each([
    ['malformed JSON', 'malformed-json'],
    ['a truncated body', 'truncated'],
    ['an HTML page', 'html'],
  ] as const)('sends %s: UPSTREAM_UNAVAILABLE, not retried', async (_, corrupt) => {
    const { errors, conditionRequests } = await underFault({ corrupt });
    expect(errors).toEqual([{ path: 'patient.conditions', code: 'UPSTREAM_UNAVAILABLE', source: 'stjude', status: 200 }]);
    expect(conditionRequests).toBe(1);
  });

  it('sends an OperationOutcome instead of a Bundle: UPSTREAM_UNAVAILABLE with its code, never its text', async () => {
    const { res, errors } = await underFault({ corrupt: 'operation-outcome' });
    expect(errors).toEqual([{ path: 'patient.conditions', code: 'UPSTREAM_UNAVAILABLE', source: 'stjude', status: 200, outcome: [{ severity: 'error', code: 'too-costly' }] }]);
    expect(JSON.stringify(res.errors)).not.toContain('Search too broad');
  });

  it('sends a Bundle of 10,000 entries: all counted, one page served, memory bounded', async () => {
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 3; i++) {
      const { res, errors } = await underFault({ corrupt: { bundleEntries: 10_000 } });
      expect(errors).toEqual([]);
      const mercyConditions = patient.ehrs.mercy!.counts.Condition!;
      // Ten thousand look-alike items of one source stay ten thousand: nothing merges within a source.
      expect(res.data.patient.conditions.totalCount).toBe(mercyConditions + 10_000);
      expect(res.data.patient.conditions.nodes).toHaveLength(5);
    }
    global.gc?.();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(150 * 1024 * 1024);
  });

  it('sends an answer larger than maxResponseBytes: refused as UPSTREAM_UNAVAILABLE', async () => {
    const { errors, conditionRequests } = await underFault({ corrupt: { bundleEntries: 50_000 } });
    expect(errors).toEqual([{ path: 'patient.conditions', code: 'UPSTREAM_UNAVAILABLE', source: 'stjude', status: 200 }]);
    expect(conditionRequests).toBe(1);
  });
});
