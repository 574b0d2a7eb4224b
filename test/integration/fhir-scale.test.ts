import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fhirSourceSchema, type FhirSourceConfig } from '../../config/config.schema.js';
import { UpstreamError } from '../../errors/errors.js';
import { FhirClient } from '../../datasources/fhir/fhir-client.js';
import type { FhirResource, UpstreamCall } from '../../datasources/fhir/fhir-types.js';
import { searchForPatients } from '../../datasources/fhir/patient-batch.js';
import { patientIdOf } from '../../datasources/fhir/patient-params.js';
import { SourceHealth } from '../../datasources/source-health.js';
import { startSandbox, type Sandbox } from '../../sandbox/index.js';
import { makeChart, startFhirTestServer, type FhirTestServer } from '../helpers/fhir-test-server.js';

// Deadlines, FHIR batch and capability probes of the FHIR client, against real HTTP peers.

const ids = Array.from({ length: 20 }, (_, i) => `p${String(i + 1).padStart(2, '0')}`);
const TYPES = ['Condition', 'Observation', 'MedicationRequest', 'Encounter', 'Immunization'];

function setup(baseUrl: string, over: Partial<Record<keyof FhirSourceConfig, unknown>> = {}) {
  const calls: UpstreamCall[] = [];
  const health = new SourceHealth();
  const source = fhirSourceSchema.parse({ id: 'ehr', kind: 'fhir', name: 'EHR', baseUrl, pageSize: 100, ...over });
  const client = new FhirClient(source, {
    onCall: (c) => {
      calls.push(c);
      health.record(c);
    },
  });
  return { client, calls, health };
}

const errorsOf = (results: (FhirResource[] | Error)[]) => results.filter((r): r is Error => r instanceof Error);

describe('deadlines', () => {
  let server: FhirTestServer;
  beforeAll(async () => {
    server = await startFhirTestServer({ resources: makeChart(ids, Object.fromEntries(TYPES.map((t) => [t, 2]))), orSearch: false, maxCount: 100 });
  });
  afterAll(() => server.close());
  afterEach(() => {
    server.fault = undefined;
    server.options.latencyMs = undefined;
    server.resetLog();
  });

  it('a slow source (each answer well under its timeout) gives no timeouts, however long the queue', async () => {
    // 13 patients x 5 types = 65 searches, 8 at a time, 200 ms each: about 1.8 s of queue in
    // all, longer than the 1 s timeout, which counts only from sending.
    const { client, calls } = setup(server.baseUrl, { timeoutMs: 1000, maxConcurrency: 8, capabilities: { batch: false } });
    await client.getCapabilities();
    server.options.latencyMs = 200;
    const patients = ids.slice(0, 13);
    const results = (await Promise.all(TYPES.map((t) => searchForPatients(client, t, patients, [])))).flat();
    expect(errorsOf(results)).toEqual([]);
    expect(server.requestsOf('search')).toHaveLength(65);
    expect(calls.filter((c) => c.outcome !== 'ok')).toEqual([]);
    expect(client.breakerState).toBe('closed');
  });

  it('a queue wait past queueTimeoutMs fails with reason QUEUE, unsent, and never counts against the source', async () => {
    const { client, calls, health } = setup(server.baseUrl, {
      maxConcurrency: 1,
      queueTimeoutMs: 100,
      timeoutMs: 5000,
      resilience: { retries: 0, breakerFailures: 1 },
      capabilities: { batch: false },
    });
    await client.getCapabilities();
    server.options.latencyMs = 400;
    const results = await searchForPatients(client, 'Condition', ['p01', 'p02', 'p03'], []);
    // The first got the one slot; the two others waited 100 ms and gave up without sending.
    expect(results.filter((r) => !(r instanceof Error))).toHaveLength(1);
    const queued = errorsOf(results) as UpstreamError[];
    expect(queued.map((e) => e.extensions)).toEqual([
      { code: 'UPSTREAM_TIMEOUT', source: 'ehr', reason: 'QUEUE' },
      { code: 'UPSTREAM_TIMEOUT', source: 'ehr', reason: 'QUEUE' },
    ]);
    expect(server.requestsOf('search')).toHaveLength(1);
    expect(calls.filter((c) => c.interaction === 'search' && c.outcome === 'timeout').map((c) => c.notSourceFault)).toEqual([true, true]);
    // breakerFailures 1: a single counted failure would have opened it.
    expect(client.breakerState).toBe('closed');
    expect(health.status('ehr').status).toBe('UP');
  });

  it('a source timeout (after sending) is the source’s fault: reason UPSTREAM, counted by the breaker and health', async () => {
    const { client, health } = setup(server.baseUrl, { timeoutMs: 150, resilience: { retries: 0, breakerFailures: 1 }, capabilities: { batch: false } });
    await client.getCapabilities();
    server.fault = (r) => (r.kind === 'search' ? { hang: true } : undefined);
    const [result] = await searchForPatients(client, 'Condition', ['p01'], []);
    expect((result as UpstreamError).extensions).toEqual({ code: 'UPSTREAM_TIMEOUT', source: 'ehr', reason: 'UPSTREAM' });
    expect(client.breakerState).toBe('open');
    expect(health.status('ehr').status).toBe('DOWN');
  });
});

describe('FHIR batch on the sandbox’s St. Jude (no OR lists)', () => {
  let sandbox: Sandbox;
  let patients: string[];
  beforeAll(async () => {
    sandbox = await startSandbox({ maxPatients: 30 });
    patients = sandbox.truth.patients.flatMap((p) => (p.ehrs.stjude ? [p.ehrs.stjude.patientId] : [])).slice(0, 12);
  }, 120_000);
  afterAll(() => sandbox?.close());
  afterEach(() => sandbox.ehr('stjude').resetRequests());

  const owned = (results: (FhirResource[] | Error)[]) =>
    results.map((r, i) => {
      expect(r).not.toBeInstanceOf(Error);
      const list = r as FhirResource[];
      expect(list.every((x) => patientIdOf(x) === patients[i])).toBe(true);
      return list.map((x) => x.id).sort();
    });

  it('reads batch from /metadata and sends one Bundle per maxBatchEntries, answering each patient as alone', async () => {
    const ehr = sandbox.ehr('stjude');
    const { client, calls } = setup(ehr.baseUrl, { maxBatchEntries: 5, pageSize: 10 });
    const caps = await client.getCapabilities();
    expect(caps).toMatchObject({ patientOrSearch: false, batch: true, origins: { batch: 'METADATA', patientOrSearch: 'METADATA' } });
    const viaBatch = owned(await searchForPatients(client, 'Observation', patients, []));

    const batches = ehr.requests.entries.filter((r) => r.interaction === 'batch');
    expect(batches.map((b) => b.batchEntries!.length).sort()).toEqual([2, 5, 5]);
    expect(batches.flatMap((b) => b.batchEntries!.map((e) => e.params!.find(([k]) => k === 'patient')![1])).sort()).toEqual([...patients].sort());
    // Entries ask _count = pageSize; the rest of each patient's list came from its searchset's next links.
    for (const b of batches) for (const e of b.batchEntries!) expect(e.params).toContainEqual(['_count', '10']);
    const truth = sandbox.truth.patients;
    const expectedPages = patients.reduce((n, id) => {
      const count = truth.find((p) => p.ehrs.stjude?.patientId === id)!.ehrs.stjude!.counts.Observation ?? 0;
      return n + Math.max(0, Math.ceil(count / 10) - 1);
    }, 0);
    expect(ehr.requests.entries.filter((r) => r.interaction === 'search' && r.page)).toHaveLength(expectedPages);
    expect(ehr.requests.entries.filter((r) => r.interaction === 'search' && !r.page)).toHaveLength(0);
    expect(calls.filter((c) => c.interaction === 'batch').map((c) => c.entries).sort()).toEqual([2, 5, 5]);

    // The other way: batch turned off in config, one search per patient, the same answers.
    ehr.resetRequests();
    const { client: plain } = setup(ehr.baseUrl, { capabilities: { batch: false }, pageSize: 10 });
    expect((await plain.getCapabilities()).origins.batch).toBe('CONFIG');
    const viaSearch = owned(await searchForPatients(plain, 'Observation', patients, []));
    expect(viaSearch).toEqual(viaBatch);
    expect(ehr.requests.entries.filter((r) => r.interaction === 'batch')).toHaveLength(0);
    expect(ehr.requests.entries.filter((r) => r.interaction === 'search' && !r.page)).toHaveLength(patients.length);
  });

  it('fails only the entries the source failed, and every entry when the whole batch fails', async () => {
    const ehr = sandbox.ehr('stjude');
    const { client } = setup(ehr.baseUrl, { resilience: { retries: 0 } });
    await client.getCapabilities();
    const withUnknown = [...patients.slice(0, 3), 'no-such-patient'];
    const results = await searchForPatients(client, 'Condition', withUnknown, []);
    expect(results[3]).toEqual([]);
    expect(errorsOf(results)).toEqual([]);

    await ehr.setFaults({ status: 503, path: '/' });
    try {
      const failed = await searchForPatients(client, 'Condition', patients.slice(0, 3), []);
      expect(failed).toHaveLength(3);
      for (const r of failed) expect((r as UpstreamError).extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'ehr', status: 503 });
      expect(failed[1]).toBe(failed[0]);
    } finally {
      await ehr.clearFaults();
    }
  });
});

describe('capability probes where /metadata is silent', () => {
  let orSilent: FhirTestServer;
  let plainSilent: FhirTestServer;
  beforeAll(async () => {
    const resources = makeChart(ids, { Condition: 2, Observation: 3 });
    [orSilent, plainSilent] = await Promise.all([
      startFhirTestServer({ resources, orSearch: true, bareMetadata: true, maxCount: 50 }),
      startFhirTestServer({ resources, orSearch: false, bareMetadata: true, maxCount: 50 }),
    ]);
  });
  afterAll(() => Promise.all([orSilent.close(), plainSilent.close()]));
  afterEach(() => {
    orSilent.resetLog();
    plainSilent.resetLog();
  });

  it('finds OR lists with three count-only searches, once, then needs one search where it needed one per patient', async () => {
    const { client, calls } = setup(orSilent.baseUrl);
    expect((await client.getCapabilities()).origins).toMatchObject({ patientOrSearch: 'DEFAULT', maxCount: 'DEFAULT' });
    const eight = ids.slice(0, 8);
    const results = await searchForPatients(client, 'Condition', eight, []);
    results.forEach((r, i) => expect((r as FhirResource[]).map((x) => patientIdOf(x))).toEqual([eight[i], eight[i]]));
    const searches = orSilent.requestsOf('search', 'Condition');
    expect(searches.map((r) => [r.query.get('patient'), r.query.get('_summary')])).toEqual([
      [`${eight[0]},${eight[1]}`, 'count'],
      [eight[0], 'count'],
      [eight[1], 'count'],
      [eight.join(','), null],
    ]);
    expect(calls.filter((c) => c.interaction === 'probe')).toHaveLength(3);
    expect(await client.getCapabilities()).toMatchObject({ patientOrSearch: true, origins: { patientOrSearch: 'PROBE' } });

    // Learned for good: the next dashboard probes nothing. 20 patients x 3 Observations = 60
    // over a silent cap of 50: the oversized _count's reply shows the cap.
    orSilent.resetLog();
    await searchForPatients(client, 'Observation', ids, []);
    const obs = orSilent.requestsOf('search', 'Observation');
    expect(obs.map((r) => r.query.get('_summary'))).toEqual([null, null]);
    expect(obs[0]!.query.get('_count')).toBe('1000');
    expect(await client.getCapabilities()).toMatchObject({ maxCount: 50, origins: { maxCount: 'PROBE' } });
  });

  it('learns "no OR" from a refused OR probe and "no batch" from a refused batch, then searches per patient', async () => {
    const { client } = setup(plainSilent.baseUrl);
    const results = await searchForPatients(client, 'Condition', ids.slice(0, 4), []);
    expect(errorsOf(results)).toEqual([]);
    expect(await client.getCapabilities()).toMatchObject({
      patientOrSearch: false,
      batch: false,
      origins: { patientOrSearch: 'PROBE', batch: 'PROBE' },
    });
    const probes = plainSilent.requests.filter((r) => r.query.get('_summary') === 'count' || r.method === 'POST');
    expect(probes.map((r) => `${r.method} ${r.kind}`)).toEqual(['GET search', 'GET search', 'GET search', 'POST other']);
    expect(plainSilent.requestsOf('search', 'Condition').filter((r) => r.query.get('_summary') === null)).toHaveLength(4);
  });

  it('does not probe what config says, or when probing is off', async () => {
    const { client } = setup(orSilent.baseUrl, { capabilities: { probe: false } });
    await searchForPatients(client, 'Condition', ids.slice(0, 4), []);
    expect(orSilent.requests.filter((r) => r.query.get('_summary') === 'count' || r.method === 'POST')).toEqual([]);
    expect(orSilent.requestsOf('search', 'Condition')).toHaveLength(4);
    expect((await client.getCapabilities()).origins.patientOrSearch).toBe('DEFAULT');
  });
});
