import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Deadlines over the real gateway and sandbox: a hanging source costs a request one
// timeout, not one per stage (identifier search, Patient read, lists); our own deadline and
// queue waits are never held against the source.

const TIMEOUT_MS = 800;
const MRN_SYSTEM = 'http://mercy.example/fhir/mrn';

const ONE = `query($mrn: String!) {
  patientByIdentifier(system: "${MRN_SYSTEM}", value: $mrn) {
    id name { text } birthDate
    conditions { totalCount }
    observations(first: 1) { totalCount }
    encounters(first: 1) { totalCount }
  }
}`;

describe('a hanging source', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ sourceOptions: { timeoutMs: TIMEOUT_MS, resilience: { retries: 0 } } });
  }, 120_000);
  afterAll(() => t?.close());

  it('costs a one-patient query one timeout: after it, no stage sends to that source again', async () => {
    const person = t.sandbox.truth.patients.find((p) => p.ehrs.mercy && p.ehrs.stjude)!;
    // First with both sources up, so the patient is linked to its St. Jude record: the
    // second query then needs St. Jude at every stage.
    const first = await t.query(ONE, { mrn: person.ehrs.mercy!.mrn });
    expect(first.errors).toBeUndefined();
    await t.gateway.services.index.linksForUnified([first.data.patientByIdentifier.id]);

    await t.sandbox.ehr('stjude').setFaults({ hang: true });
    try {
      t.resetCounts();
      const res = await t.query(ONE, { mrn: person.ehrs.mercy!.mrn });
      expect(res.data.patientByIdentifier.id).toBe(first.data.patientByIdentifier.id);
      const stjudeErrors = res.errors!.filter((e) => e.extensions!.source === 'stjude');
      expect(stjudeErrors.length).toBeGreaterThan(0);
      expect(new Set(stjudeErrors.map((e) => e.extensions!.code))).toEqual(new Set(['UPSTREAM_TIMEOUT']));

      // Every request St. Jude saw was sent before the first of them could time out: the
      // later stages failed at once (EARLIER_TIMEOUT) instead of waiting for their own.
      const seen = t.sandbox.ehr('stjude').requests.entries.filter((r) => r.interaction !== 'capabilities');
      expect(seen.length).toBeGreaterThan(0);
      const times = seen.map((r) => r.time);
      expect(Math.max(...times) - Math.min(...times)).toBeLessThan(TIMEOUT_MS);
      // Exactly the calls that were sent timed out at the source; the rest never left.
      const stjudeCalls = t.calls.filter((c) => c.sourceId === 'stjude' && c.interaction !== 'metadata');
      const timedOut = stjudeCalls.filter((c) => c.outcome === 'timeout' && !c.notSourceFault);
      expect(timedOut.length).toBe(seen.length);
      expect(stjudeErrors.some((e) => e.extensions!.reason === 'UPSTREAM')).toBe(true);
      // Mercy's part is whole.
      expect(res.data.patientByIdentifier.conditions.totalCount).toBeGreaterThanOrEqual(person.ehrs.mercy!.counts.Condition ?? 0);
    } finally {
      await t.sandbox.ehr('stjude').clearFaults();
    }
  }, 60_000);
});

describe('the request deadline', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      config: (sources) => ({
        server: { port: 0, logLevel: 'silent' },
        cache: { url: 'pglite:memory:', defaultTtlSeconds: 0, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 0 },
        auth: { mode: 'dev' },
        // The request's own deadline runs out long before the source's timeout.
        limits: { requestDeadlineMs: 600 },
        sources: (sources as Record<string, unknown>[]).map((s) => ({ ...s, timeoutMs: 30_000, resilience: { retries: 0, breakerFailures: 1 } })),
      }),
    });
  }, 120_000);
  afterAll(() => t?.close());

  it('ends every stage at once with REQUEST_DEADLINE, and is not held against the source', async () => {
    const person = t.sandbox.truth.patients.find((p) => p.ehrs.mercy && p.ehrs.stjude)!;
    await t.sandbox.ehr('stjude').setFaults({ hang: true });
    try {
      const res = await t.query(ONE, { mrn: person.ehrs.mercy!.mrn });
      const stjude = res.errors!.filter((e) => e.extensions!.source === 'stjude');
      expect(stjude.length).toBeGreaterThan(0);
      for (const e of stjude) expect({ ...e.extensions, message: e.message }).toMatchObject({ code: 'UPSTREAM_TIMEOUT', reason: 'REQUEST_DEADLINE' });
      // breakerFailures is 1: one counted failure would have opened it.
      const sources = await t.query('{ sources { id status breaker } }');
      expect(sources.data.sources.find((s: { id: string }) => s.id === 'stjude')).toMatchObject({ breaker: 'CLOSED' });
      expect(sources.data.sources.find((s: { id: string }) => s.id === 'stjude').status).not.toBe('DOWN');
    } finally {
      await t.sandbox.ehr('stjude').clearFaults();
    }
  }, 60_000);
});
