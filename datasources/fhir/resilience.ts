import {
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  retry,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  type RetryPolicy,
} from 'cockatiel';
import { UpstreamError } from '../../errors/errors.js';
import { isAbortError, parseRetryAfter, type HttpResult } from './upstream-http.js';

/** How one source is protected: retries, their budget, and the circuit breaker. */
export interface ResilienceSettings {
  /** Retries of one HTTP exchange after the first try (idempotent GETs only). */
  retries: number;
  /** Backoff: full jitter over min(maxDelayMs, baseDelayMs * 2^attempt). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A 429 whose Retry-After is longer than this is not waited for: the caller gets RATE_LIMITED. */
  maxRetryAfterSec: number;
  /** Retries may add at most this share of the exchanges of the last 10 s (plus a floor of 5). */
  retryBudgetRatio: number;
  /** Consecutive failed calls that open the breaker. */
  breakerFailures: number;
  /** How long the breaker stays open before one trial call. */
  breakerHalfOpenMs: number;
}

export const DEFAULT_RESILIENCE: ResilienceSettings = {
  retries: 2,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
  maxRetryAfterSec: 5,
  retryBudgetRatio: 0.2,
  breakerFailures: 5,
  breakerHalfOpenMs: 10_000,
};

export type BreakerState = 'closed' | 'open' | 'half-open';

const BUDGET_WINDOW_MS = 10_000;
const NEVER = new AbortController().signal;
const BUDGET_FLOOR = 5;

/**
 * A retry budget: retries may not exceed a share of recent traffic, so a source in
 * trouble gets at most ~20% more load from us, never a multiple of it (retry storms).
 */
class RetryBudget {
  private requests: number[] = [];
  private retries: number[] = [];

  constructor(
    private readonly ratio: number,
    private readonly now: () => number,
  ) {}

  private trim(list: number[]): number[] {
    const since = this.now() - BUDGET_WINDOW_MS;
    return list.filter((t) => t > since);
  }

  recordRequest(): void {
    this.requests = this.trim(this.requests);
    this.requests.push(this.now());
  }

  /** Takes one retry from the budget if there is one left. */
  tryWithdraw(): boolean {
    this.retries = this.trim(this.retries);
    this.requests = this.trim(this.requests);
    if (this.retries.length >= Math.max(BUDGET_FLOOR, this.ratio * this.requests.length)) return false;
    this.retries.push(this.now());
    return true;
  }
}

/** Thrown inside the policies for an answer that should be retried; turned back into the answer after. */
class RetryableAnswer extends Error {
  constructor(readonly result: HttpResult) {
    super(`HTTP ${result.status}`);
  }
}

function retryAfterMs(result: HttpResult): number | undefined {
  const sec = parseRetryAfter(result.headers.get('retry-after'));
  return sec === undefined ? undefined : sec * 1000;
}

/**
 * Retries, retry budget and circuit breaker of one source, around one HTTP exchange.
 * Retried: network errors, 500/502/503/504, and 429 when its Retry-After is short. Never
 * retried: the caller's deadline running out, and any other answer. The breaker counts
 * failed exchanges after retries (5xx, network errors, time-outs) and, while open, fails
 * calls at once with UPSTREAM_UNAVAILABLE instead of adding load to a source that is down.
 */
export class SourceResilience {
  private readonly budget: RetryBudget;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly retry: RetryPolicy;

  constructor(
    private readonly sourceId: string,
    private readonly settings: ResilienceSettings = DEFAULT_RESILIENCE,
    private readonly random: () => number = Math.random,
    now: () => number = Date.now,
  ) {
    this.budget = new RetryBudget(settings.retryBudgetRatio, now);
    this.breaker = circuitBreaker(
      handleWhen((err) => err instanceof RetryableAnswer ? err.result.status >= 500 : !(err instanceof UpstreamError)),
      { halfOpenAfter: settings.breakerHalfOpenMs, breaker: new ConsecutiveBreaker(settings.breakerFailures) },
    );
    const backoff: IBackoffFactory<IRetryBackoffContext<unknown>> = { next: (ctx) => this.backoff(ctx) };
    this.retry = retry(
      handleWhen((err) => this.shouldRetry(err)),
      { maxAttempts: settings.retries, backoff },
    );
  }

  get state(): BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'open';
    }
  }

  /**
   * Runs `exchange` under the policies. Resolves with the last answer (a 5xx too, once
   * retries are spent: the caller maps it to an error); rejects with the network error,
   * the abort, or UPSTREAM_UNAVAILABLE when the breaker is open.
   */
  async run(exchange: () => Promise<HttpResult>, signal: AbortSignal | undefined, onRetry?: () => void): Promise<HttpResult> {
    signal ??= NEVER;
    let attempt = 0;
    try {
      return await this.breaker.execute(
        () =>
          this.retry.execute(async () => {
            if (attempt++ > 0) onRetry?.();
            this.budget.recordRequest();
            const result = await exchange();
            if (this.isRetryableStatus(result)) throw new RetryableAnswer(result);
            return result;
          }, signal),
        signal,
      );
    } catch (err) {
      if (err instanceof RetryableAnswer) return err.result;
      if (err instanceof Error && err.name === 'BrokenCircuitError') {
        throw new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', { reason: 'circuit breaker open' });
      }
      throw err;
    }
  }

  private isRetryableStatus(result: HttpResult): boolean {
    if (result.status === 429) {
      const wait = retryAfterMs(result);
      return wait === undefined || wait <= this.settings.maxRetryAfterSec * 1000;
    }
    return result.status === 500 || result.status === 502 || result.status === 503 || result.status === 504;
  }

  private shouldRetry(err: Error): boolean {
    // The deadline ran out or the caller left: retrying would only overrun it.
    if (isAbortError(err) || err instanceof UpstreamError) return false;
    return this.budget.tryWithdraw();
  }

  private backoff(ctx: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const failure = 'error' in ctx.result ? ctx.result.error : undefined;
    const told = failure instanceof RetryableAnswer && failure.result.status === 429 ? retryAfterMs(failure.result) : undefined;
    const ceiling = Math.min(this.settings.maxDelayMs, this.settings.baseDelayMs * 2 ** (ctx.attempt - 1));
    const duration = told ?? Math.round(this.random() * ceiling);
    return { duration, next: (next) => this.backoff(next) };
  }
}
