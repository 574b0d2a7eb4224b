import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { startSandbox, type Sandbox, type SimulatedEhr } from '../../sandbox/index.js';
import { fetchJson } from './helpers.js';

let sb: Sandbox;
let ehr: SimulatedEhr;
let pid: string;

beforeAll(async () => {
  sb = await startSandbox({ maxPatients: 2 });
  ehr = sb.ehr('stjude');
  pid = sb.truth.patients.find((t) => t.ehrs.stjude)!.ehrs.stjude!.patientId;
});
afterEach(async () => {
  await ehr.clearFaults();
  ehr.profile.latencyMs = 0;
  ehr.resetRequests();
});
afterAll(() => sb?.close());

const obsUrl = () => `${ehr.baseUrl}/Observation?patient=${pid}&_count=1`;
const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t = performance.now();
  const v = await f();
  return [v, performance.now() - t];
};

describe('fault injection', () => {
  it('adds fixed latency from the profile and from faults', async () => {
    expect((await fetchJson(obsUrl())).status).toBe(200);
    ehr.profile.latencyMs = 60;
    const [a, slow] = await timed(() => fetchJson(obsUrl()));
    expect(a.status).toBe(200);
    expect(slow).toBeGreaterThanOrEqual(58);
    await ehr.setFaults({ latencyMs: 80, resourceTypes: ['Observation'] });
    const [, slower] = await timed(() => fetchJson(obsUrl()));
    expect(slower).toBeGreaterThanOrEqual(138);
    // The fault is filtered by type: Condition only has the profile's latency.
    const [, cond] = await timed(() => fetchJson(`${ehr.baseUrl}/Condition?patient=${pid}`));
    expect(cond).toBeLessThan(130);
  });

  it('forces a status with an OperationOutcome, for the next N requests only', async () => {
    await ehr.setFaults({ status: 500, times: 2 });
    const a = await fetchJson<OperationOutcome>(obsUrl());
    expect([a.status, a.body.resourceType, a.body.issue[0].code]).toEqual([500, 'OperationOutcome', 'exception']);
    expect((await fetchJson(obsUrl())).status).toBe(500);
    expect((await fetchJson(obsUrl())).status).toBe(200);
    expect(ehr.requests.entries.map((r) => [r.status, r.fault])).toEqual([
      [500, 'status'],
      [500, 'status'],
      [200, undefined],
    ]);
  });

  it('answers 429 with Retry-After, only on matching paths', async () => {
    await ehr.setFaults({ rateLimit: { retryAfterSec: 7 }, path: '/Observation' });
    const a = await fetchJson<OperationOutcome>(obsUrl());
    expect([a.status, a.headers.get('retry-after'), a.body.issue[0].code]).toEqual([429, '7', 'throttled']);
    expect((await fetchJson(`${ehr.baseUrl}/Condition?patient=${pid}`)).status).toBe(200);
    expect((await fetchJson(`${ehr.baseUrl}/metadata`)).status).toBe(200);
  });

  it('hangs until the client aborts, and records the request unanswered', async () => {
    await ehr.setFaults({ hang: true, resourceTypes: ['Observation'] });
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 150);
    const [err, ms] = await timed(() => fetch(obsUrl(), { signal: ac.signal }).then(() => undefined, (e: Error) => e));
    clearTimeout(t);
    expect(err?.name).toBe('AbortError');
    expect(ms).toBeGreaterThanOrEqual(140);
    expect(ehr.requests.entries.map((r) => [r.resourceType, r.status, r.fault])).toEqual([['Observation', 0, 'hang']]);
    // Other types still answer while Observation hangs.
    expect((await fetchJson(`${ehr.baseUrl}/Condition?patient=${pid}`)).status).toBe(200);
  });

  it('goes down: 503, connection reset, connection refused; and comes back', async () => {
    await ehr.setFaults({ down: '503' });
    expect((await fetchJson(obsUrl())).status).toBe(503);

    await ehr.setFaults({ down: true });
    const reset = await fetch(obsUrl()).then(() => undefined, (e: Error & { cause?: { code?: string } }) => e);
    expect(reset).toBeInstanceOf(Error);

    await ehr.setFaults({ down: 'refuse' });
    const refused = await fetch(obsUrl()).then(() => undefined, (e: Error & { cause?: { code?: string } }) => e);
    expect(refused?.cause?.code).toBe('ECONNREFUSED');

    await ehr.clearFaults();
    const back = await fetchJson<Bundle>(obsUrl());
    expect(back.status).toBe(200);
    expect(ehr.baseUrl).toContain(String(new URL(ehr.baseUrl).port));
  });

  it('combines rules: latencies add, the first action wins', async () => {
    await ehr.setFaults([{ latencyMs: 50 }, { status: 503, resourceTypes: ['Condition'] }, { status: 500 }]);
    const [a, ms] = await timed(() => fetchJson(`${ehr.baseUrl}/Condition?patient=${pid}`));
    expect(a.status).toBe(503);
    expect(ms).toBeGreaterThanOrEqual(48);
    expect((await fetchJson(obsUrl())).status).toBe(500);
  });
});
