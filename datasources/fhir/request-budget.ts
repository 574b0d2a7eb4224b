import { setMaxListeners } from 'node:events';
import { UpstreamError } from '../../errors/errors.js';

/**
 * One GraphQL request's time budget across every upstream call it makes: one overall
 * deadline (its `signal`), shared by the identifier searches, Patient reads and clinical
 * lists alike, and a memory of the sources that already timed out in this request, so that
 * a hanging source costs the request one timeout, not one per stage.
 */
export class RequestBudget {
  private readonly timedOut = new Set<string>();
  private attempts = 0;
  /** When the deadline passes (epoch ms): work that cannot see the signal (a SQL statement timeout) is given what is left. */
  readonly deadlineAt: number;
  private made: AbortSignal | undefined;

  constructor(
    deadlineMs: number,
    private readonly parent?: AbortSignal,
  ) {
    this.deadlineAt = Date.now() + deadlineMs;
  }

  /**
   * Aborts when the request's deadline passes or the parent signal (client gone) aborts.
   * Made on first use, with the time left until the deadline set at construction: a request
   * answered from the cache never needs it, and a timer and a combined signal per request
   * are a measurable share of such a request.
   */
  get signal(): AbortSignal {
    if (!this.made) {
      const deadline = AbortSignal.timeout(Math.max(0, Math.ceil(this.deadlineAt - Date.now())));
      this.made = this.parent ? AbortSignal.any([deadline, this.parent]) : deadline;
      // Every upstream call of the request (a dashboard makes hundreds) listens on it while it runs; each removes its listener when done.
      setMaxListeners(0, this.made);
    }
    return this.made;
  }

  /** Throws UPSTREAM_TIMEOUT (`EARLIER_TIMEOUT`) when `sourceId` already timed out in this request. */
  check(sourceId: string): void {
    this.attempts++;
    if (this.timedOut.has(sourceId)) {
      throw new UpstreamError(sourceId, 'UPSTREAM_TIMEOUT', { timeout: 'EARLIER_TIMEOUT', reason: 'source timed out earlier in this request' });
    }
  }

  /** Upstream calls this request sent or tried to send (each passes {@link check} first). */
  get upstreamAttempts(): number {
    return this.attempts;
  }

  /** Notes an upstream failure: a source timeout makes every later call of this request to that source fail at once. */
  record(err: unknown): void {
    if (err instanceof UpstreamError && err.timeout === 'UPSTREAM') this.timedOut.add(err.sourceId);
  }

  /** Whether the source timed out earlier in this request. */
  hasTimedOut(sourceId: string): boolean {
    return this.timedOut.has(sourceId);
  }
}
