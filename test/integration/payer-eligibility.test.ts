import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eligibilitySourceSchema, type EligibilitySourceConfig } from '../../config/config.schema.js';
import type { UpstreamCall } from '../../datasources/fhir/fhir-types.js';
import { EligibilityClient } from '../../datasources/payer/eligibility-client.js';
import { MemoryEligibilityCache, nextMidnight, PrismaEligibilityCache } from '../../datasources/payer/eligibility-cache.js';
import { createEligibilityLoaders, EligibilityService } from '../../datasources/payer/eligibility-service.js';
import type { EligibilityInquiry } from '../../datasources/payer/eligibility-types.js';
import { UpstreamError } from '../../errors/errors.js';
import { SANDBOX_PAYER_TOKEN, SimulatedPayer } from '../../sandbox/payer-server.js';
import type { SimulatedMember } from '../../sandbox/payer-members.js';
import { createTestDatabase } from '../helpers/databases.js';

// The payer datasource against the simulated clearinghouse over real HTTP: the 270 it sends,
// typed errors, the concurrency cap, and the cache with stale-if-error (exact payer call counts).

const member = (i: number, extra: Partial<SimulatedMember> = {}): SimulatedMember => ({
  memberId: `W${String(100000000 + i)}`,
  tradingPartnerServiceId: '62308',
  firstName: 'Test',
  lastName: `Member${String.fromCharCode(65 + (i % 26))}`,
  dateOfBirth: '19800115',
  gender: 'F',
  plan: 'gold-ppo',
  coverageLevelCode: 'IND',
  active: true,
  eligibilityBegin: '20190301',
  metShare: 0.6,
  ...extra,
});
const MEMBERS = Array.from({ length: 12 }, (_, i) => member(i));
MEMBERS.push(member(50, { active: false }), member(51, { coverageLevelCode: 'FAM', plan: 'silver-hmo' }));

const inquiry = (m: SimulatedMember, extra: Partial<EligibilityInquiry> = {}): EligibilityInquiry => ({
  memberId: m.memberId,
  firstName: m.firstName,
  lastName: m.lastName,
  dateOfBirth: `${m.dateOfBirth.slice(0, 4)}-${m.dateOfBirth.slice(4, 6)}-${m.dateOfBirth.slice(6)}`,
  gender: 'F',
  serviceTypeCodes: ['30'],
  dateOfService: '2025-06-02',
  ...extra,
});

let payer: SimulatedPayer;
const calls: UpstreamCall[] = [];
const configOf = (over: Record<string, unknown> = {}): EligibilitySourceConfig =>
  eligibilitySourceSchema.parse({
    id: 'acme-payer',
    kind: 'eligibility',
    name: 'Acme Health Plan',
    baseUrl: payer.baseUrl,
    auth: { type: 'bearer', token: SANDBOX_PAYER_TOKEN },
    tradingPartnerServiceId: '62308',
    provider: { npi: '1999999984', organizationName: 'Mercy Hospital' },
    timeoutMs: 1_000,
    ...over,
  });

beforeAll(async () => {
  payer = await SimulatedPayer.start({ members: MEMBERS });
});
afterAll(async () => payer?.close());
beforeEach(async () => {
  await payer.clearFaults();
  // A test that gave up on a slow payer leaves the payer still answering; let it finish.
  for (let i = 0; i < 100 && payer.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 20));
  payer.latencyMs = 0;
  payer.resetRequests();
  calls.length = 0;
});

const payerCalls = () => payer.requests.count({ method: 'POST' });
const param = (i: number, name: string) => payer.requests.entries[i]!.params.find(([k]) => k === name)?.[1];

describe('eligibility client', () => {
  it('sends a 270 with a fresh 9-digit control number, the trading partner, provider and member, and maps the 271', async () => {
    const client = new EligibilityClient(configOf(), { onCall: (c) => calls.push(c) });
    const m = MEMBERS[0]!;
    const first = await client.check(inquiry(m, { serviceTypeCodes: ['30', '98'] }));
    const second = await client.check(inquiry(m));
    expect(first.controlNumber).toMatch(/^\d{9}$/);
    expect(second.controlNumber).not.toBe(first.controlNumber);
    expect(payerCalls()).toBe(2);
    expect(payer.requests.entries[0]!.params).toEqual([
      ['controlNumber', first.controlNumber],
      ['tradingPartnerServiceId', '62308'],
      ['memberId', m.memberId],
      ['serviceTypeCodes', '30,98'],
      ['dateOfService', '20250602'],
    ]);
    expect(first.answer).toMatchObject({ active: true, memberId: m.memberId, planName: 'Acme Gold PPO', coverageStart: '2025-01-01', coverageEnd: '2025-12-31' });
    const office = first.answer.serviceTypes.find((s) => s.serviceTypeCode === '98')!;
    // metShare 0.6 of 1500 is met: 600 left; out of network nothing is met.
    expect(office.inNetwork).toMatchObject({ copay: 25, coinsurancePercent: 20, deductible: { total: 1500, remaining: 600 }, outOfPocketMaximum: { total: 5000, remaining: 2000 } });
    expect(office.outOfNetwork).toMatchObject({ coinsurancePercent: 40, deductible: { total: 3000, remaining: 3000 } });
    expect(calls.map((c) => [c.sourceId, c.resourceType, c.outcome, c.status])).toEqual([
      ['acme-payer', 'CoverageEligibilityResponse', 'ok', 200],
      ['acme-payer', 'CoverageEligibilityResponse', 'ok', 200],
    ]);
  });

  it('accepts an API key in a header, and turns a refused credential into UPSTREAM_UNAVAILABLE naming only the source', async () => {
    const viaKey = new EligibilityClient(configOf({ auth: { type: 'api-key', key: SANDBOX_PAYER_TOKEN } }));
    await expect(viaKey.check(inquiry(MEMBERS[0]!))).resolves.toMatchObject({ answer: { active: true } });
    const wrong = new EligibilityClient(configOf({ auth: { type: 'bearer', token: 'nope' } }));
    const err = await wrong.check(inquiry(MEMBERS[0]!)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', source: 'acme-payer', status: 401 });
  });

  it('answers inactive coverage, family levels and an HMO’s uncovered out-of-network care', async () => {
    const client = new EligibilityClient(configOf());
    const inactive = await client.check(inquiry(MEMBERS.at(-2)!));
    expect(inactive.answer).toMatchObject({ active: false, coverageStart: '2024-01-01', coverageEnd: '2024-12-31' });
    const family = await client.check(inquiry(MEMBERS.at(-1)!, { serviceTypeCodes: ['98'] }));
    expect(family.answer).toMatchObject({ active: true, coverageLevelCode: 'FAM', planName: 'Acme Silver HMO' });
    const office = family.answer.serviceTypes[0]!;
    expect(office.inNetwork).toMatchObject({ copay: 40, deductible: { total: 3000, remaining: 1200 }, familyDeductible: { total: 6000, remaining: 4200 } });
    expect(office.outOfNetwork).toMatchObject({ covered: false });
  });

  it('answers AAA rejections as results: invalid member id (72), not found (75), birth date mismatch (71)', async () => {
    const client = new EligibilityClient(configOf());
    const m = MEMBERS[1]!;
    const codes = [];
    for (const q of [inquiry(m, { memberId: 'bad id!' }), inquiry(m, { memberId: 'W999999999' }), inquiry(m, { dateOfBirth: '1980-01-16' })]) {
      const { answer } = await client.check(q);
      expect(answer.active).toBeNull();
      codes.push(answer.rejections.map((r) => [r.code, r.followupActionCode, r.transient]));
    }
    expect(codes).toEqual([[['72', 'C', false]], [['75', 'C', false]], [['71', 'C', false]]]);
  });

  it('turns 429 with Retry-After, 5xx and a hung payer into typed UpstreamErrors without member data', async () => {
    const client = new EligibilityClient(configOf({ timeoutMs: 300 }), { onCall: (c) => calls.push(c) });
    const m = MEMBERS[2]!;
    await payer.setFaults({ rateLimit: { retryAfterSec: 7 }, times: 1 });
    const limited = (await client.check(inquiry(m)).catch((e: unknown) => e)) as UpstreamError;
    expect(limited.extensions).toEqual({ code: 'UPSTREAM_RATE_LIMITED', source: 'acme-payer', status: 429, retryAfterSec: 7 });
    await payer.setFaults({ status: 502, times: 1 });
    const bad = (await client.check(inquiry(m)).catch((e: unknown) => e)) as UpstreamError;
    expect(bad.extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', source: 'acme-payer', status: 502 });
    await payer.setFaults({ hang: true, times: 1 });
    const hung = (await client.check(inquiry(m)).catch((e: unknown) => e)) as UpstreamError;
    expect(hung.extensions).toEqual({ code: 'UPSTREAM_TIMEOUT', source: 'acme-payer' });
    for (const e of [limited, bad, hung]) {
      expect(e.message).not.toContain(m.memberId);
      expect(e.message).not.toContain(m.lastName);
    }
    expect(calls.map((c) => c.outcome)).toEqual(['rate_limited', 'error', 'timeout']);
    expect(payerCalls()).toBe(3);
  });

  it('keeps at most maxConcurrency exchanges in flight at the payer', async () => {
    payer.latencyMs = 60;
    const client = new EligibilityClient(configOf({ maxConcurrency: 3 }));
    const answers = await Promise.all(MEMBERS.slice(0, 10).map((m) => client.check(inquiry(m))));
    expect(answers.every((a) => a.answer.active === true)).toBe(true);
    expect(payerCalls()).toBe(10);
    expect(payer.maxInFlight('62308')).toBe(3);
  });
});

describe('eligibility service: cache and stale-if-error', () => {
  let clock: Date;
  const makeService = (over: Record<string, unknown> = {}, cache = new MemoryEligibilityCache()) => {
    const source = configOf(over);
    return { cache, service: new EligibilityService(source, { client: new EligibilityClient(source), cache, now: () => clock }) };
  };
  beforeEach(() => {
    clock = new Date('2025-06-02T15:00:00Z');
  });

  it('serves a repeat from the cache until the end of the day, per service types and date of service', async () => {
    const { service } = makeService();
    const m = MEMBERS[3]!;
    const first = await service.check(inquiry(m));
    expect([first.cached, first.stale, payerCalls()]).toEqual([false, false, 1]);
    clock = new Date('2025-06-02T23:59:59Z');
    const again = await service.check(inquiry(m));
    expect([again.cached, again.stale, again.fetchedAt.toISOString(), payerCalls()]).toEqual([true, false, '2025-06-02T15:00:00.000Z', 1]);
    await service.check(inquiry(m, { serviceTypeCodes: ['98'] }));
    await service.check(inquiry(m, { dateOfService: '2025-06-03' }));
    expect(payerCalls()).toBe(3);
    clock = new Date('2025-06-03T00:00:01Z');
    const nextDay = await service.check(inquiry(m));
    expect([nextDay.cached, payerCalls()]).toEqual([false, 4]);
  });

  it('ends the day at midnight in the configured time zone, or after a fixed TTL', async () => {
    expect(nextMidnight(new Date('2025-06-02T15:00:00Z'), 'UTC').toISOString()).toBe('2025-06-03T00:00:00.000Z');
    expect(nextMidnight(new Date('2025-06-02T15:00:00Z'), 'America/Chicago').toISOString()).toBe('2025-06-03T05:00:00.000Z');
    // The night the clocks go back in Chicago: midnight is still local midnight.
    expect(nextMidnight(new Date('2025-11-02T03:00:00Z'), 'America/Chicago').toISOString()).toBe('2025-11-02T05:00:00.000Z');
    const { service } = makeService({ cache: { ttl: 60 } });
    await service.check(inquiry(MEMBERS[4]!));
    clock = new Date(clock.getTime() + 59_000);
    await service.check(inquiry(MEMBERS[4]!));
    clock = new Date(clock.getTime() + 2_000);
    await service.check(inquiry(MEMBERS[4]!));
    expect(payerCalls()).toBe(2);
  });

  it('serves the expired answer marked stale when the payer fails, and errors when nothing is cached or it is too old', async () => {
    const { service } = makeService({ cache: { staleIfErrorSeconds: 3600 } });
    const m = MEMBERS[5]!;
    await service.check(inquiry(m));
    clock = new Date('2025-06-03T00:30:00Z');
    await payer.setFaults({ status: 503 });
    const stale = await service.check(inquiry(m));
    expect([stale.stale, stale.cached, stale.answer.active, stale.fetchedAt.toISOString()]).toEqual([true, true, true, '2025-06-02T15:00:00.000Z']);
    expect(payerCalls()).toBe(2);
    await expect(service.check(inquiry(MEMBERS[6]!))).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_UNAVAILABLE', source: 'acme-payer', status: 503 } });
    clock = new Date('2025-06-03T01:00:01Z');
    await expect(service.check(inquiry(m))).rejects.toBeInstanceOf(UpstreamError);
    expect(payerCalls()).toBe(4);
  });

  it('gives up at the payer deadline and serves the stale answer then', async () => {
    const { service } = makeService({ deadlineMs: 150, timeoutMs: 5_000 });
    const m = MEMBERS[7]!;
    await service.check(inquiry(m));
    clock = new Date('2025-06-03T08:00:00Z');
    payer.latencyMs = 1_000;
    const started = performance.now();
    const stale = await service.check(inquiry(m));
    expect(performance.now() - started).toBeLessThan(800);
    expect(stale.stale).toBe(true);
    await expect(service.check(inquiry(MEMBERS[8]!))).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_TIMEOUT', source: 'acme-payer' } });
  });

  it('makes one payer call per distinct inquiry: the request loader de-duplicates, concurrent requests share the call', async () => {
    payer.latencyMs = 40;
    const { service } = makeService({ maxConcurrency: 2 });
    const loaders = createEligibilityLoaders(new Map([['acme-payer', service]]));
    const loader = loaders.forPayer('acme-payer')!;
    const asks = Array.from({ length: 50 }, (_, i) => inquiry(MEMBERS[i % 6]!));
    const otherRequest = createEligibilityLoaders(new Map([['acme-payer', service]])).forPayer('acme-payer')!;
    const [answers] = await Promise.all([loader.loadMany(asks), otherRequest.loadMany(asks.slice(0, 6))]);
    expect(answers.every((a) => !(a instanceof Error) && a.answer.active === true)).toBe(true);
    expect(payerCalls()).toBe(6);
    expect(new Set(payer.requests.entries.map((_, i) => param(i, 'memberId'))).size).toBe(6);
    expect(payer.maxInFlight()).toBe(2);
    expect(loaders.forPayer('unknown')).toBeUndefined();
  });
});

describe('PrismaEligibilityCache', () => {
  it('stores, replaces and reads back answers by key, expired ones included', async () => {
    const handle = await createTestDatabase('pglite');
    const db = await handle.open();
    try {
      const cache = new PrismaEligibilityCache(db.prisma);
      const at = new Date('2025-06-02T15:00:00Z');
      const expiresAt = new Date('2025-06-03T00:00:00Z');
      await cache.put('k1', 'acme-payer', { raw: { a: 1 }, fetchedAt: at, expiresAt });
      await cache.put('k1', 'acme-payer', { raw: { a: 2 }, fetchedAt: at, expiresAt });
      await cache.put('k2', 'acme-payer', { raw: { b: 1 }, fetchedAt: at, expiresAt: at });
      const got = await cache.getMany(['k1', 'k2', 'k3', 'k1']);
      expect([...got.keys()].sort()).toEqual(['k1', 'k2']);
      expect(got.get('k1')).toEqual({ raw: { a: 2 }, fetchedAt: at, expiresAt });
      expect(await cache.getMany([])).toEqual(new Map());
    } finally {
      await handle.dispose();
    }
  });
});
