import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../server/auth.js';
import { MemoryRateLimiter, RedisRateLimiter } from '../../server/rate-limit.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Per-client rate limits: in memory for one replica, in Redis (127.0.0.1:6379 on these
// machines and in CI) shared by every replica.

const REDIS_URL = process.env.CHARTGRAPH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const unique = () => randomBytes(6).toString('hex');

/** Fixed one-minute windows: start a burst early in a window so it cannot straddle two. */
async function awayFromWindowEdge(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 5_000) await new Promise((r) => setTimeout(r, left + 50));
}

describe('the in-memory limiter', () => {
  it('allows perMinute requests per key per minute and says when to retry', async () => {
    let now = Date.parse('2026-11-25T10:00:10Z');
    const limiter = new MemoryRateLimiter(3, () => now);
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await limiter.consume('sub:a'));
    expect(seen.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(seen[3]).toEqual({ allowed: false, remaining: 0, retryAfterSec: 50 });
    expect((await limiter.consume('sub:b')).allowed).toBe(true);
    now += 50_000;
    expect((await limiter.consume('sub:a')).allowed).toBe(true);
  });
});

describe('the Redis limiter', () => {
  it('shares counts between replicas', async () => {
    const keyPrefix = `chartgraph:test:${unique()}:`;
    const now = () => Date.parse('2026-11-25T10:00:10Z');
    const a = new RedisRateLimiter(REDIS_URL, 3, { keyPrefix, now });
    const b = new RedisRateLimiter(REDIS_URL, 3, { keyPrefix, now });
    try {
      const verdicts = [await a.consume('sub:x'), await b.consume('sub:x'), await a.consume('sub:x'), await b.consume('sub:x')];
      expect(verdicts.map((v) => [v.allowed, v.remaining])).toEqual([
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
      expect((await b.consume('sub:y')).allowed).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('lets requests through when Redis cannot be reached', async () => {
    const down = new RedisRateLimiter('redis://127.0.0.1:1', 1);
    try {
      expect((await down.consume('sub:x')).allowed).toBe(true);
      expect((await down.consume('sub:x')).allowed).toBe(true);
    } finally {
      await down.close();
    }
  });
});

describe('two gateway replicas with a Redis rate limit', () => {
  let a: TestGateway;
  let b: TestGateway;
  const secret = randomBytes(24).toString('hex');
  const config = (sources: unknown[]) => ({
    server: { port: 0, logLevel: 'silent' },
    cache: { url: 'pglite:memory:', defaultTtlSeconds: 0 },
    auth: { mode: 'dev', secret },
    limits: { rateLimit: { perMinute: 3, redisUrl: REDIS_URL } },
    sources,
  });
  beforeAll(async () => {
    [a, b] = await Promise.all([startTestGateway({ sandbox: { maxPatients: 1 }, config }), startTestGateway({ sandbox: { maxPatients: 1 }, config })]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  const ask = async (t: TestGateway, token: string) => {
    const res = await fetch(`${t.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ sources { id } }' }),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
  };

  it('count one client across both and answer 429 RATE_LIMITED with Retry-After past the limit', async () => {
    const alice = await mintDevToken(a.config.auth, { role: 'clinician', sub: `alice-${unique()}` });
    const bob = await mintDevToken(a.config.auth, { role: 'clinician', sub: `bob-${unique()}` });
    await awayFromWindowEdge();
    const statuses = [(await ask(a, alice)).status, (await ask(b, alice)).status, (await ask(a, alice)).status];
    expect(statuses).toEqual([200, 200, 200]);
    const limited = await ask(b, alice);
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect(Number(limited.retryAfter)).toBeLessThanOrEqual(60);
    expect(limited.body).toEqual({
      errors: [{ message: 'Too many requests: slow down and retry later', extensions: { code: 'RATE_LIMITED', retryAfterSec: Number(limited.retryAfter) } }],
    });
    // Another client is not affected.
    expect((await ask(b, bob)).status).toBe(200);
  });
});

describe('a per-address limit before authentication', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      sandbox: { maxPatients: 1 },
      config: (sources) => ({
        server: { port: 0, logLevel: 'silent' },
        cache: { url: 'pglite:memory:', defaultTtlSeconds: 0 },
        auth: { mode: 'dev' },
        limits: { rateLimit: { perIpPerMinute: 4 } },
        sources,
      }),
    });
  });
  afterAll(async () => t?.close());

  it('answers a flood of bad tokens from one address with 429 before any token is checked, and audits only the 401s', async () => {
    await awayFromWindowEdge();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${t.gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer x.y.z${i}`, 'x-request-id': `ip-flood-${i}-0000` },
        body: JSON.stringify({ query: '{ sources { id } }' }),
      });
      statuses.push(res.status);
      if (res.status === 429) expect(((await res.json()) as any).errors[0].extensions.code).toBe('RATE_LIMITED');
      else await res.arrayBuffer();
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    // A valid token from the same address is refused too: the address is over its allowance,
    // and a forwarded-for header does not change it when no proxy is trusted.
    expect((await t.query('{ sources { id } }')).status).toBe(429);
    const forged = await fetch(`${t.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7', authorization: `Bearer ${await t.token('clinician')}` },
      body: JSON.stringify({ query: '{ sources { id } }' }),
    });
    expect(forged.status).toBe(429);
    await t.gateway.services.auditWriter.flush();
    const audited = await t.gateway.services.database.prisma.auditEvent.findMany({ where: { requestId: { startsWith: 'ip-flood-' } } });
    expect(audited.map((a) => [a.action, a.outcome]).sort()).toEqual(Array.from({ length: 4 }, () => ['authenticate', 'denied']));
  });
});

describe('a per-address limit behind a trusted proxy', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      sandbox: { maxPatients: 1 },
      config: (sources) => ({
        server: { port: 0, logLevel: 'silent', trustProxy: ['127.0.0.1', '::1'] },
        cache: { url: 'pglite:memory:', defaultTtlSeconds: 0 },
        auth: { mode: 'dev' },
        limits: { rateLimit: { perIpPerMinute: 2 } },
        sources,
      }),
    });
  });
  afterAll(async () => t?.close());

  it('counts each client the proxy names, not the proxy', async () => {
    await awayFromWindowEdge();
    const token = await t.token('clinician');
    const from = async (client: string) =>
      (
        await fetch(`${t.gateway.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': client, authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: '{ sources { id } }' }),
        })
      ).status;
    const first = [await from('198.51.100.1'), await from('198.51.100.1'), await from('198.51.100.1')];
    expect(first).toEqual([200, 200, 429]);
    // Another client behind the same proxy has its own allowance.
    expect(await from('198.51.100.2')).toBe(200);
  });
});
