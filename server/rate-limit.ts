import { Redis } from 'ioredis';
import { RateLimitedError } from '../errors/errors.js';
import type { Logger } from 'pino';

/** The verdict on one request. */
export interface RateDecision {
  allowed: boolean;
  /** Requests left in the current window. */
  remaining: number;
  /** Seconds until the window resets (for Retry-After). */
  retryAfterSec: number;
}

/** Counts requests per client key in one-minute windows. */
export interface RateLimiter {
  /** Counts one request of `key`; `limit` overrides the limiter's per-minute allowance for this key. */
  consume(key: string, limit?: number): Promise<RateDecision>;
  close(): Promise<void>;
}

const WINDOW_MS = 60_000;

function decide(count: number, limit: number, now: number): RateDecision {
  const resetIn = WINDOW_MS - (now % WINDOW_MS);
  return { allowed: count <= limit, remaining: Math.max(0, limit - count), retryAfterSec: Math.max(1, Math.ceil(resetIn / 1000)) };
}

/**
 * Fixed one-minute windows in this process's memory: right for one replica (and the
 * default); replicas behind a load balancer each count alone, so use Redis there.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly counts = new Map<string, { window: number; count: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  async consume(key: string, limit = this.perMinute): Promise<RateDecision> {
    const now = this.now();
    const window = Math.floor(now / WINDOW_MS);
    let entry = this.counts.get(key);
    if (!entry || entry.window !== window) {
      // Old windows are dead weight: drop them once the map grows.
      if (this.counts.size > 10_000) for (const [k, e] of this.counts) if (e.window !== window) this.counts.delete(k);
      entry = { window, count: 0 };
      this.counts.set(key, entry);
    }
    entry.count += 1;
    return decide(entry.count, limit, now);
  }

  async close(): Promise<void> {
    this.counts.clear();
  }
}

/**
 * Fixed one-minute windows in Redis (INCR plus an expiry, in one MULTI), so every replica
 * shares each client's count. If Redis cannot be reached the request is let through and a
 * warning logged: the limit guards capacity, not access (authentication and the permission
 * rules do that), and an outage of Redis should not take the API down with it.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly perMinute: number,
    private readonly opts: { logger?: Logger; keyPrefix?: string; now?: () => number } = {},
  ) {
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 2_000 });
    // ioredis reports connection trouble as events; without a listener Node prints them.
    this.redis.on('error', (err: Error) => opts.logger?.warn({ err: err.message }, 'rate limiter: redis error'));
  }

  async consume(key: string, limit = this.perMinute): Promise<RateDecision> {
    const now = (this.opts.now ?? Date.now)();
    const window = Math.floor(now / WINDOW_MS);
    const redisKey = `${this.opts.keyPrefix ?? 'chartgraph:ratelimit:'}${key}:${window}`;
    try {
      const result = await this.redis.multi().incr(redisKey).pexpire(redisKey, WINDOW_MS + 5_000).exec();
      const count = Number(result?.[0]?.[1] ?? 0);
      return decide(count, limit, now);
    } catch (err) {
      this.opts.logger?.warn({ err: (err as Error).message }, 'rate limiter: redis unavailable, request let through');
      return { allowed: true, remaining: limit, retryAfterSec: 0 };
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** The limiter the config asks for (one store for the per-subject and per-address counts), or null when `limits.rateLimit` is unset. */
export function createRateLimiter(
  config: { perMinute?: number; perIpPerMinute?: number; redisUrl?: string } | undefined,
  logger?: Logger,
): RateLimiter | null {
  const perMinute = config?.perMinute ?? config?.perIpPerMinute;
  if (!config || perMinute === undefined) return null;
  return config.redisUrl ? new RedisRateLimiter(config.redisUrl, perMinute, { logger }) : new MemoryRateLimiter(perMinute);
}

/** `limits.rateLimit` as configured. */
export interface RateLimitSettings {
  perMinute?: number;
  perIpPerMinute?: number;
}

/**
 * Counts one request (an HTTP request, or one subscribe operation on a stream) of an address
 * against `perIpPerMinute`; throws RATE_LIMITED over it. Nothing without a limiter or that limit.
 */
export async function chargeAddress(limiter: RateLimiter | null, settings: RateLimitSettings | undefined, ip: string | undefined): Promise<void> {
  if (!limiter || !settings?.perIpPerMinute || !ip) return;
  const decision = await limiter.consume(`ip:${ip}`, settings.perIpPerMinute);
  if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSec);
}

/**
 * Counts one request of a token subject against `perMinute`: one budget for HTTP requests and
 * subscribe operations over SSE and WebSocket alike. Throws RATE_LIMITED over it.
 */
export async function chargeSubject(limiter: RateLimiter | null, settings: RateLimitSettings | undefined, sub: string): Promise<void> {
  if (!limiter || !settings?.perMinute) return;
  const decision = await limiter.consume(`sub:${sub}`, settings.perMinute);
  if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSec);
}
