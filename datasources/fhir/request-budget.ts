import { setMaxListeners } from 'node:events';
import { UpstreamError } from '../../errors/errors.js';

/**
 * One GraphQL request's time budget across every upstream call it makes: one overall
 * deadline (its `signal`), shared by the identifier searches, Patient reads and clinical
 * lists alike, and a memory of the sources that already timed out in this request, so that
 * a hanging source costs the request one timeout, not one per stage.
 */
export class RequestBudget {
  /** Aborts when the request's deadline passes or the parent signal (client gone) aborts. */
  readonly signal: AbortSignal;
  /** When the deadline passes (epoch ms): work that cannot see the signal (a SQL statement timeout) is given what is left. */
  readonly deadlineAt: number;
  private readonly timedOut = new Set<string>();

  constructor(deadlineMs: number, parent?: AbortSignal) {
    this.deadlineAt = Date.now() + deadlineMs;
    const deadline = AbortSignal.timeout(deadlineMs);
    this.signal = parent ? AbortSignal.any([deadline, parent]) : deadline;
    // Every upstream call of the request (a dashboard makes hundreds) listens on it while it runs; each removes its listener when done.
    setMaxListeners(0, this.signal);
  }

  /** Throws UPSTREAM_TIMEOUT (`EARLIER_TIMEOUT`) when `sourceId` already timed out in this request. */
  check(sourceId: string): void {
    if (this.timedOut.has(sourceId)) {
      throw new UpstreamError(sourceId, 'UPSTREAM_TIMEOUT', { timeout: 'EARLIER_TIMEOUT', reason: 'source timed out earlier in this request' });
    }
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
