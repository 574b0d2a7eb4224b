/** Thrown by {@link AdaptiveLimit.acquire} when no slot freed up within the queue budget. */
export class QueueTimeoutError extends Error {
  override readonly name = 'QueueTimeoutError';
  constructor(readonly waitedMs: number) {
    super(`no upstream slot within ${Math.round(waitedMs)} ms`);
  }
}

interface Waiter {
  grant: (release: () => void) => void;
  fail: (err: unknown) => void;
}

/** Options of {@link AdaptiveLimit}. */
export interface AdaptiveLimitOptions {
  /** The ceiling: never more in flight than this (the source's `maxConcurrency`). */
  max: number;
  /** Adapt between 1 and `max` from the latency seen; false keeps the limit at `max`. */
  adaptive?: boolean;
}

/**
 * A concurrency limit for one source whose waiters can give up (queue budget, caller's
 * deadline) without holding a place in the queue, and whose limit follows the source's
 * latency, in the manner of TCP Vegas / Netflix's gradient limiter:
 *
 * - the best round-trip seen recently (`minRtt`, forgotten slowly so that a source that
 *   gets slower for good is not punished forever) stands for the source with no queue;
 * - an answer much slower than that (over 2x) while we had many requests in flight means
 *   the source is queueing our requests: the limit shrinks by a tenth (at least to 1);
 * - an answer near the best (under 1.5x) while every slot was busy means the source has
 *   room: the limit grows by one, up to `max`;
 * - a failed exchange (network error, 5xx, timeout) halves it.
 *
 * A source that is uniformly slow (every answer 3 s) keeps the whole limit: its latency
 * does not grow with our load, so more parallel requests cost it nothing we can see.
 */
export class AdaptiveLimit {
  private inFlight = 0;
  private current: number;
  private readonly queue: Waiter[] = [];
  private minRtt = Number.POSITIVE_INFINITY;
  private minRttAt = 0;

  constructor(private readonly opts: AdaptiveLimitOptions) {
    this.current = opts.max;
  }

  /** The limit now (between 1 and `max`). */
  get limit(): number {
    return Math.max(1, Math.floor(this.current));
  }

  /** Requests holding a slot now. */
  get active(): number {
    return this.inFlight;
  }

  /** Requests waiting for a slot now. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Waits for a slot. Rejects with {@link QueueTimeoutError} after `queueTimeoutMs`, or with
   * the signal's reason when it aborts first; either way the waiter leaves the queue.
   * Resolves with the function that gives the slot back (call it exactly once).
   */
  acquire(signal: AbortSignal | undefined, queueTimeoutMs: number): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.inFlight < this.limit && this.queue.length === 0) {
      this.inFlight++;
      return Promise.resolve(this.releaser());
    }
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
      };
      const waiter: Waiter = {
        grant: (release) => {
          done();
          resolve(release);
        },
        fail: (err) => {
          done();
          reject(err);
        },
      };
      const onAbort = () => waiter.fail(signal!.reason);
      const timer = setTimeout(() => waiter.fail(new QueueTimeoutError(performance.now() - started)), queueTimeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  /**
   * Tells the limiter how one exchange went: its round-trip (from sending) and whether the
   * source failed it. Only exchanges the source answered or failed count; our own
   * cancellations tell nothing about the source.
   */
  observe(rttMs: number, failed: boolean, inFlightAtStart: number): void {
    if (!this.opts.adaptive) return;
    const now = performance.now();
    if (failed) {
      this.current = Math.max(1, this.current / 2);
      return;
    }
    // Forget the best round-trip after a minute, so a lasting slowdown resets the baseline.
    if (rttMs < this.minRtt || now - this.minRttAt > 60_000) {
      this.minRtt = Math.max(rttMs, 0.1);
      this.minRttAt = now;
    }
    const ratio = rttMs / this.minRtt;
    if (ratio > 2 && inFlightAtStart > 1) this.current = Math.max(1, this.current * 0.9);
    else if (ratio < 1.5 && inFlightAtStart >= this.limit) this.current = Math.min(this.opts.max, this.current + 1);
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.drain();
    };
  }

  private drain(): void {
    while (this.queue.length > 0 && this.inFlight < this.limit) {
      const next = this.queue[0]!;
      this.inFlight++;
      next.grant(this.releaser());
    }
  }
}
