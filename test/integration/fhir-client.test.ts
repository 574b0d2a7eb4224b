import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fhirSourceSchema, type FhirSourceConfig } from '../../config/config.schema.js';
import { UpstreamError } from '../../errors/errors.js';
import { problemsOf } from '../../datasources/fhir/searchset-check.js';
import { FhirClient, type FhirClientOptions } from '../../datasources/fhir/fhir-client.js';
import type { UpstreamCall } from '../../datasources/fhir/fhir-types.js';
import { makeChart, outcome, startFhirTestServer, type FhirTestServer } from '../helpers/fhir-test-server.js';

let server: FhirTestServer;
const patients = ['p1', 'p2', 'p3'];

beforeAll(async () => {
  server = await startFhirTestServer({ resources: makeChart(patients, { Observation: 45, Condition: 2 }), maxCount: 50 });
});
afterAll(() => server.close());
afterEach(() => {
  server.fault = undefined;
  server.options.linkStyle = undefined;
  server.resetLog();
});

function config(over: Partial<Record<keyof FhirSourceConfig, unknown>> = {}): FhirSourceConfig {
  return fhirSourceSchema.parse({ id: 'mercy', kind: 'fhir', name: 'Mercy', baseUrl: server.baseUrl, ...over });
}

function client(over: Partial<Record<keyof FhirSourceConfig, unknown>> = {}, opts: FhirClientOptions = {}) {
  const calls: UpstreamCall[] = [];
  const c = new FhirClient(config(over), { onCall: (call) => calls.push(call), ...opts });
  return { c, calls };
}

async function upstreamError(p: Promise<unknown>): Promise<UpstreamError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    return err as UpstreamError;
  }
  throw new Error('expected an UpstreamError');
}

describe('capabilities', () => {
  it('reads /metadata once per client', async () => {
    const { c } = client();
    const [a, b] = await Promise.all([c.getCapabilities(), c.getCapabilities()]);
    expect(a).toBe(b);
    expect(a).toMatchObject({ fhirVersion: '4.0.1', software: 'fhir-test-server 1.0', patientOrSearch: false, postSearch: true, maxCount: 50 });
    await c.getCapabilities();
    expect(server.requestsOf('metadata')).toHaveLength(1);
  });

  it('reads OR support when the server says so, and config overrides it', async () => {
    server.options.orSearch = true;
    try {
      expect((await client().c.getCapabilities()).patientOrSearch).toBe(true);
      const overridden = await client({ capabilities: { patientOrSearch: false, maxCount: 7, postSearch: false } }).c.getCapabilities();
      expect(overridden).toMatchObject({ patientOrSearch: false, maxCount: 7, postSearch: false });
    } finally {
      server.options.orSearch = undefined;
    }
  });

  it('falls back to safe defaults when /metadata fails, and asks again later', async () => {
    let now = 1_000_000;
    const { c, calls } = client({ pageSize: 25 }, { now: () => now, capabilitiesRetryMs: 10_000 });
    server.fault = (r) => (r.kind === 'metadata' ? { status: 503, body: outcome('fatal', 'transient') } : undefined);
    expect(await c.getCapabilities()).toEqual({
      patientOrSearch: false,
      postSearch: false,
      maxCount: 25,
      batch: false,
      resourceTypes: [],
      origins: { patientOrSearch: 'DEFAULT', postSearch: 'DEFAULT', maxCount: 'DEFAULT', batch: 'DEFAULT' },
    });
    expect(calls).toEqual([expect.objectContaining({ interaction: 'metadata', outcome: 'error', status: 503 })]);

    // Searches still work on the fallback, with _count = pageSize.
    const found = await c.search('Condition', [['patient', 'p1']]);
    expect(found).toHaveLength(2);
    expect(server.requestsOf('search')[0].query.get('_count')).toBe('25');

    server.fault = undefined;
    await c.getCapabilities();
    // Asked once, tried three times (two retries of the 503); not asked again yet.
    expect(server.requestsOf('metadata')).toHaveLength(3);
    now += 10_000;
    expect((await c.getCapabilities()).maxCount).toBe(50);
    expect(server.requestsOf('metadata')).toHaveLength(3 + 1);
  });
});

describe('search paging', () => {
  it.each(['relative', 'absolute'] as const)('follows %s next links exactly as given', async (style) => {
    server.options.linkStyle = style;
    const { c, calls } = client({ pageSize: 20 });
    const found = await c.search('Observation', [['patient', 'p2']]);
    expect(found).toHaveLength(45);
    expect(new Set(found.map((r) => r.id)).size).toBe(45);
    const searches = server.requestsOf('search', 'Observation');
    expect(searches).toHaveLength(3);
    expect(searches.map((r) => r.query.get('_offset'))).toEqual([null, '20', '40']);
    expect(searches.every((r) => r.query.get('_count') === '20' && r.query.get('patient') === 'p2')).toBe(true);
    const search = calls.find((x) => x.interaction === 'search');
    expect(search).toMatchObject({ sourceId: 'mercy', resourceType: 'Observation', pages: 3, status: 200, outcome: 'ok' });
    // No URLs or values in the call record.
    expect(JSON.stringify(calls)).not.toContain('p2');
    expect(JSON.stringify(calls)).not.toContain('127.0.0.1');
  });

  it('asks for _count = min(pageSize, maxCount)', async () => {
    const { c } = client({ pageSize: 500 });
    expect(await c.search('Observation', [['patient', 'p1']])).toHaveLength(45);
    expect(server.requestsOf('search').map((r) => r.query.get('_count'))).toEqual(['50']);
  });

  it('keeps only entries with search.mode match (or none)', async () => {
    server.fault = (r) =>
      r.kind === 'search'
        ? {
            body: {
              resourceType: 'Bundle',
              type: 'searchset',
              entry: [
                { resource: { resourceType: 'Condition', id: 'a', subject: { reference: 'Patient/p1' } }, search: { mode: 'match' } },
                { resource: { resourceType: 'Condition', id: 'b', subject: { reference: 'Patient/p1' } } },
                { resource: { resourceType: 'Patient', id: 'inc' }, search: { mode: 'include' } },
                { resource: { resourceType: 'OperationOutcome', issue: [] }, search: { mode: 'outcome' } },
              ],
            },
          }
        : undefined;
    const found = await client().c.search('Condition', []);
    expect(found.map((r) => r.id)).toEqual(['a', 'b']);
    // The outcome entry is not an item, but its warning is kept for the client.
    expect(problemsOf(found)).toEqual([{ reason: 'warning', count: 1, outcome: [] }]);
  });

  it('stops at the page guard and keeps the pages read, with a page-limit problem (never cached: see loaders)', async () => {
    const { c, calls } = client({ pageSize: 10 }, { maxPagesPerPatient: 2 });
    const found = await c.search('Observation', [['patient', 'p1']]);
    expect(found).toHaveLength(20);
    expect(problemsOf(found)).toEqual([{ reason: 'page-limit', count: 1 }]);
    expect(server.requestsOf('search')).toHaveLength(2);
    expect(calls.at(-1)).toMatchObject({ interaction: 'search', outcome: 'invalid', pages: 2, violations: [{ reason: 'page-limit', count: 1 }] });
  });

  it('refuses next links to another origin, keeping the page it came with', async () => {
    server.fault = (r) =>
      r.kind === 'search'
        ? {
            body: {
              resourceType: 'Bundle',
              type: 'searchset',
              link: [{ relation: 'next', url: 'http://evil.example/fhir/Observation?page=2' }],
              entry: [{ resource: { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' } } }],
            },
          }
        : undefined;
    const found = await client().c.search('Observation', []);
    expect(found.map((r) => r.id)).toEqual(['o1']);
    expect(problemsOf(found)).toEqual([{ reason: 'paging-off-origin', count: 1 }]);
    expect(server.requestsOf('search')).toHaveLength(1);
  });
});

describe('read', () => {
  it('returns the resource, or null on 404 and 410', async () => {
    const { c } = client();
    expect(await c.read('Patient', 'p1')).toMatchObject({ resourceType: 'Patient', id: 'p1' });
    expect(await c.read('Patient', 'nobody')).toBeNull();
    server.fault = (r) => (r.kind === 'read' ? { status: 410, body: outcome('error', 'deleted') } : undefined);
    expect(await c.read('Patient', 'p1')).toBeNull();
    // Not a FHIR id: never sent.
    expect(await c.read('Patient', '..')).toBeNull();
    expect(server.requestsOf('read')).toHaveLength(3);
  });
});

describe('failures', () => {
  it('times out within the source deadline', async () => {
    server.fault = (r) => (r.kind === 'search' ? { hang: true } : undefined);
    const { c, calls } = client({ timeoutMs: 300 });
    await c.getCapabilities();
    const started = Date.now();
    const err = await upstreamError(c.search('Condition', []));
    const took = Date.now() - started;
    expect(err.code).toBe('UPSTREAM_TIMEOUT');
    expect(err.extensions.source).toBe('mercy');
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1_000);
    expect(calls.at(-1)).toMatchObject({ interaction: 'search', outcome: 'timeout', pages: 0 });
  });

  it('counts the timeout per exchange from sending, and tells the caller signal apart', async () => {
    server.options.linkStyle = 'relative';
    // Three pages of 150 ms each under a 400 ms timeout: each exchange is within it.
    server.fault = (r) => (r.kind === 'search' ? { latencyMs: 150 } : undefined);
    const { c, calls } = client({ timeoutMs: 400, pageSize: 10 });
    await c.getCapabilities();
    const started = performance.now();
    const found = await c.search('Observation', [['patient', 'p1']]);
    const pages = server.requestsOf('search').length;
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(found).toHaveLength((server.options.resources ?? []).filter((r) => r.resourceType === 'Observation' && JSON.stringify(r).includes('Patient/p1"')).length);
    // The whole search took longer than one timeout, and was not cut off.
    expect(performance.now() - started).toBeGreaterThan(400);

    // One exchange slower than the timeout: the source's fault, reason UPSTREAM.
    server.fault = (r) => (r.kind === 'search' ? { latencyMs: 600 } : undefined);
    const slow = await upstreamError(c.search('Condition', [['patient', 'p2']]));
    expect(slow.extensions).toMatchObject({ code: 'UPSTREAM_TIMEOUT', source: 'mercy', reason: 'UPSTREAM' });
    expect(calls.at(-1)).toMatchObject({ interaction: 'search', outcome: 'timeout' });
    expect(calls.at(-1)!.notSourceFault).toBeUndefined();

    // Our own signal: REQUEST_DEADLINE, never held against the source.
    server.fault = (r) => (r.kind === 'search' ? { hang: true } : undefined);
    const aborter = new AbortController();
    const pending = c.search('Condition', [], { signal: aborter.signal });
    setTimeout(() => aborter.abort(), 50);
    expect((await upstreamError(pending)).extensions).toMatchObject({ code: 'UPSTREAM_TIMEOUT', reason: 'REQUEST_DEADLINE' });
  });

  it.each([500, 503, 400, 403])('maps HTTP %i to UPSTREAM_UNAVAILABLE with the outcome summary only', async (status) => {
    server.fault = (r) => (r.kind === 'search' ? { status, body: outcome('error', 'exception') } : undefined);
    const { c, calls } = client();
    const err = await upstreamError(c.search('Condition', [['patient', 'p1']]));
    expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(err.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'mercy', status, outcome: [{ severity: 'error', code: 'exception' }] });
    expect(JSON.stringify(err.extensions) + err.message).not.toMatch(/Jane|MRN/);
    expect(calls.at(-1)).toMatchObject({ interaction: 'search', outcome: 'error', status });
  });

  it('maps a network error to UPSTREAM_UNAVAILABLE', async () => {
    const dead = await startFhirTestServer();
    const baseUrl = dead.baseUrl;
    await dead.close();
    const c = new FhirClient(fhirSourceSchema.parse({ id: 'gone', kind: 'fhir', name: 'Gone', baseUrl }));
    const err = await upstreamError(c.search('Condition', []));
    expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(err.extensions.source).toBe('gone');
    expect(err.reason).toBe('network error: ECONNREFUSED');
  });

  it('maps 429 to UPSTREAM_RATE_LIMITED with Retry-After', async () => {
    server.fault = (r) => (r.kind === 'search' ? { status: 429, headers: { 'retry-after': '12' }, body: outcome('error', 'throttled') } : undefined);
    const { c, calls } = client();
    const err = await upstreamError(c.search('Condition', []));
    expect(err.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(err.extensions).toMatchObject({ source: 'mercy', status: 429, retryAfterSec: 12 });
    expect(calls.at(-1)).toMatchObject({ outcome: 'rate_limited', status: 429 });
  });

  it('treats an OperationOutcome instead of a Bundle as unavailable', async () => {
    server.fault = (r) => (r.kind === 'search' ? { status: 200, body: outcome('error', 'not-supported') } : undefined);
    const err = await upstreamError(client().c.search('Condition', []));
    expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(err.extensions).toMatchObject({ status: 200, outcome: [{ severity: 'error', code: 'not-supported' }] });
  });

  it('treats malformed JSON and non-JSON content as unavailable', async () => {
    server.fault = (r) => (r.kind === 'search' ? { status: 200, body: '{"resourceType":"Bundle",' } : undefined);
    const bad = await upstreamError(client().c.search('Condition', []));
    expect(bad.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(bad.reason).toBe('malformed JSON or not a FHIR resource');

    server.fault = (r) => (r.kind === 'search' ? { status: 200, headers: { 'content-type': 'text/html' }, body: '<html>login</html>' } : undefined);
    const html = await upstreamError(client().c.search('Condition', []));
    expect(html.reason).toBe('answer is not JSON');
  });

  it('fails a page in the middle as a whole', async () => {
    server.options.linkStyle = 'absolute';
    server.fault = (r) => (r.kind === 'search' && r.query.get('_offset') === '20' ? { status: 502, body: '' } : undefined);
    const err = await upstreamError(client({ pageSize: 20 }).c.search('Observation', [['patient', 'p3']]));
    expect(err.extensions.status).toBe(502);
    // Page one, then page two tried three times (two retries of the 502).
    expect(server.requestsOf('search')).toHaveLength(1 + 3);
  });

  it('sends the configured static bearer token', async () => {
    server.options.bearerToken = 'static-secret';
    try {
      expect(await client({ auth: { type: 'bearer', token: 'static-secret' } }).c.search('Condition', [['patient', 'p1']])).toHaveLength(2);
      const err = await upstreamError(client({ auth: { type: 'bearer', token: 'wrong' } }).c.search('Condition', []));
      expect(err.extensions.status).toBe(401);
      expect(err.message).not.toContain('wrong');
    } finally {
      server.options.bearerToken = undefined;
    }
  });
});

describe('concurrency cap', () => {
  it('never has more than maxConcurrency exchanges in flight', async () => {
    const { c } = client({ maxConcurrency: 3 });
    await c.getCapabilities();
    server.resetLog();
    server.fault = (r) => (r.kind === 'search' ? { latencyMs: 40 } : undefined);
    // Twelve different searches (identical ones would share one call: single flight).
    await Promise.all(Array.from({ length: 12 }, (_, i) => c.search('Condition', [['patient', `p${i + 1}`]])));
    expect(server.requestsOf('search')).toHaveLength(12);
    expect(server.maxInFlight).toBe(3);
  });
});
