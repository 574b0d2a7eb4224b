/** What the health tracker needs to know of one upstream call. */
export interface CallOutcome {
  sourceId: string;
  outcome: 'ok' | 'error' | 'timeout' | 'rate_limited' | 'invalid';
}

export type HealthStatus = 'UP' | 'DEGRADED' | 'DOWN' | 'UNKNOWN';

/** Last-seen health of each source, fed by every upstream call of the process. */
export class SourceHealth {
  private readonly last = new Map<string, { status: HealthStatus; at: Date }>();

  record(call: CallOutcome, at = new Date()): void {
    // An invalid answer is still an answer: the source is up, its data is what is wrong.
    const status: HealthStatus = call.outcome === 'ok' || call.outcome === 'invalid' ? 'UP' : call.outcome === 'rate_limited' ? 'DEGRADED' : 'DOWN';
    this.last.set(call.sourceId, { status, at });
  }

  status(sourceId: string): { status: HealthStatus; at: Date | null } {
    const seen = this.last.get(sourceId);
    return seen ?? { status: 'UNKNOWN', at: null };
  }
}
