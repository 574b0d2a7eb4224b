import { createHash } from 'node:crypto';
import type { EligibilitySourceConfig } from '../../config/config.schema.js';
import type { Prisma, PrismaClient } from '../cache/generated/client.js';
import type { EligibilityInquiry } from './eligibility-types.js';

/** A stored 271: the payer's answer as sent, when it came and when it stops being fresh. */
export interface CachedEligibility {
  raw: unknown;
  fetchedAt: Date;
  expiresAt: Date;
}

/** Where eligibility answers are kept between requests. */
export interface EligibilityCache {
  /** Entries by key, expired ones included (the caller decides what stale is still good for). */
  getMany(keys: readonly string[]): Promise<Map<string, CachedEligibility>>;
  put(key: string, payerId: string, entry: CachedEligibility): Promise<void>;
}

/**
 * The cache key of an inquiry: a SHA-256 over (payer, member details, service types, date of
 * service), so that no member data sits in the key column. Every member detail the request
 * carries is part of it: two inquiries that could get different answers never share one.
 */
export function eligibilityCacheKey(payerId: string, q: EligibilityInquiry): string {
  const norm = (s: string | undefined) => (s ?? '').trim().toUpperCase();
  const parts = [
    payerId,
    norm(q.memberId),
    norm(q.lastName),
    norm(q.firstName),
    q.dateOfBirth ?? '',
    q.gender ?? '',
    q.dependent ? 'dep' : 'sub',
    [...q.serviceTypeCodes].sort().join(','),
    q.dateOfService,
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** Midnight after `at` in `timeZone`, as an instant (DST-safe). */
export function nextMidnight(at: Date, timeZone: string): Date {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hourCycle: 'h23' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day) + 1);
  // The wall-clock midnight minus the zone's offset at (about) that moment; twice, because
  // the offset may change between `at` and midnight.
  let instant = wall - offsetMs(new Date(wall), timeZone);
  instant = wall - offsetMs(new Date(instant), timeZone);
  return new Date(instant);
}

function offsetMs(at: Date, timeZone: string): number {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((x) => [x.type, x.value]),
  );
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The calendar day of `at` in `timeZone`, YYYY-MM-DD. */
export function dayIn(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** When an answer fetched at `fetchedAt` stops being fresh under the payer's cache policy. */
export function expiryFor(fetchedAt: Date, policy: EligibilitySourceConfig['cache']): Date {
  if (policy.ttl === 'end-of-day') return nextMidnight(fetchedAt, policy.timeZone);
  return new Date(fetchedAt.getTime() + policy.ttl * 1000);
}

/** {@link EligibilityCache} in the `eligibility_response` table. */
export class PrismaEligibilityCache implements EligibilityCache {
  constructor(private readonly prisma: PrismaClient) {}

  async getMany(keys: readonly string[]): Promise<Map<string, CachedEligibility>> {
    if (keys.length === 0) return new Map();
    const rows = await this.prisma.eligibilityResponse.findMany({ where: { key: { in: [...new Set(keys)] } } });
    return new Map(rows.map((r) => [r.key, { raw: r.response, fetchedAt: r.fetchedAt, expiresAt: r.expiresAt }]));
  }

  async put(key: string, payerId: string, entry: CachedEligibility): Promise<void> {
    const data = { payerId, response: entry.raw as Prisma.InputJsonValue, fetchedAt: entry.fetchedAt, expiresAt: entry.expiresAt };
    await this.prisma.eligibilityResponse.upsert({ where: { key }, create: { key, ...data }, update: data });
  }
}

/** {@link EligibilityCache} in process memory (tests, gateways without a database). */
export class MemoryEligibilityCache implements EligibilityCache {
  readonly entries = new Map<string, CachedEligibility & { payerId: string }>();

  async getMany(keys: readonly string[]): Promise<Map<string, CachedEligibility>> {
    const out = new Map<string, CachedEligibility>();
    for (const k of keys) {
      const e = this.entries.get(k);
      if (e) out.set(k, { raw: e.raw, fetchedAt: e.fetchedAt, expiresAt: e.expiresAt });
    }
    return out;
  }

  async put(key: string, payerId: string, entry: CachedEligibility): Promise<void> {
    this.entries.set(key, { ...entry, payerId });
  }
}
