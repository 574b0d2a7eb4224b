import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fhirSourceSchema } from '../../config/config.schema.js';
import { FhirClient } from '../../datasources/fhir/fhir-client.js';
import type { UpstreamCall } from '../../datasources/fhir/fhir-types.js';
import { UpstreamError } from '../../errors/errors.js';
import { startSandbox, type Sandbox } from '../../sandbox/index.js';

// Retries, the retry budget and the circuit breaker, against a simulated EHR over HTTP.

let sandbox: Sandbox;
let patientId: string;
beforeAll(async () => {
  sandbox = await startSandbox({ maxPatients: 2 });
  patientId = sandbox.truth.patients.find((p) => p.ehrs.stjude)!.ehrs.stjude!.patientId;
});
afterAll(async () => sandbox?.close());
afterEach(async () => {
  await sandbox.ehr('stjude').clearFaults();
  sandbox.ehr('stjude').resetRequests();
});

function client(resilience: Record<string, number> = {}, timeoutMs = 5_000) {
  const calls: UpstreamCall[] = [];
  const source = fhirSourceSchema.parse({
    id: 'stjude',
    kind: 'fhir',
    name: 'St. Jude',
    baseUrl: sandbox.ehr('stjude').baseUrl,
    timeoutMs,
    resilience: { baseDelayMs: 10, maxDelayMs: 20, ...resilience },
  });
  // Jitter pinned to the top of the range, so waits are predictable.
  return { c: new FhirClient(source, { onCall: (x) => calls.push(x), random: () => 1 }), calls };
}

const searches = () => sandbox.ehr('stjude').requests.count({ interaction: 'search' });
const conditions = (c: FhirClient) => c.search('Condition', [['patient', patientId]]);
const fail = (p: Promise<unknown>) => p.then(() => Promise.reject(new Error('expected a failure')), (e: UpstreamError) => e);

describe('retries', () => {
  it('retries a 5xx burst and succeeds, counting the retries', async () => {
    const { c, calls } = client();
    const expected = await conditions(c);
    sandbox.ehr('stjude').resetRequests();
    await sandbox.ehr('stjude').setFaults({ status: 503, resourceTypes: ['Condition'], times: 2 });
    const found = await conditions(c);
    expect(found).toEqual(expected);
    expect(searches()).toBe(3);
    expect(calls.at(-1)).toMatchObject({ interaction: 'search', outcome: 'ok', retries: 2 });
  });

  it('retries a dropped connection', async () => {
    const { c } = client();
    await c.getCapabilities();
    await sandbox.ehr('stjude').setFaults({ down: 'reset', resourceTypes: ['Condition'], times: 1 });
    await conditions(c);
    expect(sandbox.ehr('stjude').requests.count({ resourceType: 'Condition' })).toBe(2);
  });

  it('gives up after the configured retries with the last status', async () => {
    const { c, calls } = client({ retries: 1 });
    await c.getCapabilities();
    await sandbox.ehr('stjude').setFaults({ status: 500, resourceTypes: ['Condition'] });
    const err = await fail(conditions(c));
    expect(err.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'stjude', status: 500 });
    expect(searches()).toBe(2);
    expect(calls.at(-1)).toMatchObject({ outcome: 'error', retries: 1 });
  });

  it('waits for a short Retry-After and then succeeds', async () => {
    const { c } = client();
    await c.getCapabilities();
    await sandbox.ehr('stjude').setFaults({ rateLimit: { retryAfterSec: 1 }, resourceTypes: ['Condition'], times: 1 });
    const started = Date.now();
    await conditions(c);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(searches()).toBe(2);
  });

  it('does not wait for a Retry-After longer than allowed: RATE_LIMITED at once', async () => {
    const { c } = client({ maxRetryAfterSec: 2 });
    await c.getCapabilities();
    await sandbox.ehr('stjude').setFaults({ rateLimit: { retryAfterSec: 30 }, resourceTypes: ['Condition'] });
    const err = await fail(conditions(c));
    expect(err.extensions).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', source: 'stjude', retryAfterSec: 30 });
    expect(searches()).toBe(1);
  });

  it('never retries past the deadline: a hung source costs one request', async () => {
    const { c } = client({}, 300);
    await c.getCapabilities();
    await sandbox.ehr('stjude').setFaults({ hang: true, resourceTypes: ['Condition'] });
    const err = await fail(conditions(c));
    expect(err.extensions.code).toBe('UPSTREAM_TIMEOUT');
    expect(searches()).toBe(1);
  });

  it('keeps retries within the budget during a 5xx storm', async () => {
    // Breaker out of the way: only the budget limits retries here.
    const { c } = client({ retries: 2, breakerFailures: 1_000 });
    await c.getCapabilities();
    await sandbox.ehr('stjude').setFaults({ status: 503, resourceTypes: ['Condition'] });
    for (let i = 0; i < 20; i++) await fail(conditions(c));
    // 20 first tries; retries capped at max(5, 20% of recent exchanges).
    const total = searches();
    expect(total).toBeGreaterThan(20);
    expect(total).toBeLessThanOrEqual(20 + Math.max(5, Math.ceil(0.2 * total)));
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, fails fast without calling, and closes after a good trial', async () => {
    const { c } = client({ retries: 0, breakerFailures: 3, breakerHalfOpenMs: 300 });
    await c.getCapabilities();
    await sandbox.ehr('stjude').setFaults({ status: 503, resourceTypes: ['Condition'] });
    for (let i = 0; i < 3; i++) await fail(conditions(c));
    expect(c.breakerState).toBe('open');
    expect(searches()).toBe(3);

    const fast = await fail(conditions(c));
    expect(fast.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'stjude' });
    expect(searches()).toBe(3); // no request reached the source

    await sandbox.ehr('stjude').clearFaults();
    await new Promise((r) => setTimeout(r, 350));
    await conditions(c);
    expect(c.breakerState).toBe('closed');
    expect(searches()).toBe(4);
  });
});

describe('single flight', () => {
  it('shares one upstream search between identical calls in flight, across callers', async () => {
    const { c, calls } = client();
    await c.getCapabilities();
    await sandbox.ehr('stjude').setFaults({ latencyMs: 150, resourceTypes: ['Condition'] });
    const [a, b, other] = await Promise.all([conditions(c), conditions(c), c.search('Condition', [['patient', `${patientId}-x`]])]);
    expect(b).toEqual(a);
    expect(other).toEqual([]);
    expect(searches()).toBe(2); // the shared search and the different one
    expect(calls.filter((x) => x.interaction === 'search').map((x) => !!x.shared).sort()).toEqual([false, false, true]);
  });

  it('keeps the shared search going when the caller that started it leaves', async () => {
    const { c } = client();
    await c.getCapabilities();
    await sandbox.ehr('stjude').setFaults({ latencyMs: 150, resourceTypes: ['Condition'] });
    await sandbox.ehr('stjude').clearFaults();
    const expected = await conditions(c);
    sandbox.ehr('stjude').resetRequests();
    await sandbox.ehr('stjude').setFaults({ latencyMs: 150, resourceTypes: ['Condition'] });
    const leaving = new AbortController();
    const first = c.search('Condition', [['patient', patientId]], { signal: leaving.signal });
    const second = conditions(c);
    leaving.abort();
    await expect(first).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_TIMEOUT', source: 'stjude' } });
    expect(await second).toEqual(expected);
    expect(searches()).toBe(1);
  });
});
