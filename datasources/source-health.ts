/** What the health tracker needs to know of one upstream call. */
export interface CallOutcome {
  sourceId: string;
  outcome: 'ok' | 'error' | 'timeout' | 'rate_limited';
  /** The last HTTP status the source answered with, if any. */
  status?: number;
}

/**
 * Statuses that blame the request, not the source (bad or too long a query, unknown id,
 * headers too large): a source answering them is up, and they say nothing of its health.
 */
export const REQUEST_FAULT_STATUSES: ReadonlySet<number> = new Set([400, 404, 413, 414, 422, 431]);

export type HealthStatus = 'UP' | 'DEGRADED' | 'DOWN' | 'UNKNOWN';

/** Last-seen health of each source, fed by every upstream call of the process. */
export class SourceHealth {
  private readonly last = new Map<string, { status: HealthStatus; at: Date }>();

  record(call: CallOutcome, at = new Date()): void {
    if (call.outcome === 'error' && call.status !== undefined && REQUEST_FAULT_STATUSES.has(call.status)) return;
    const status: HealthStatus = call.outcome === 'ok' ? 'UP' : call.outcome === 'rate_limited' ? 'DEGRADED' : 'DOWN';
    this.last.set(call.sourceId, { status, at });
  }

  status(sourceId: string): { status: HealthStatus; at: Date | null } {
    const seen = this.last.get(sourceId);
    return seen ?? { status: 'UNKNOWN', at: null };
  }
}
