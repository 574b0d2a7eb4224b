/** What the health tracker needs to know of one upstream call. */
export interface CallOutcome {
  sourceId: string;
  outcome: 'ok' | 'error' | 'timeout' | 'rate_limited';
  /** A failure on our side (queue wait, our deadline, cancellation): says nothing about the source. */
  notSourceFault?: boolean;
}

export type HealthStatus = 'UP' | 'DEGRADED' | 'DOWN' | 'UNKNOWN';

/** Last-seen health of each source, fed by every upstream call of the process. */
export class SourceHealth {
  private readonly last = new Map<string, { status: HealthStatus; at: Date }>();

  record(call: CallOutcome, at = new Date()): void {
    if (call.notSourceFault && call.outcome !== 'ok') return;
    const status: HealthStatus = call.outcome === 'ok' ? 'UP' : call.outcome === 'rate_limited' ? 'DEGRADED' : 'DOWN';
    this.last.set(call.sourceId, { status, at });
  }

  status(sourceId: string): { status: HealthStatus; at: Date | null } {
    const seen = this.last.get(sourceId);
    return seen ?? { status: 'UNKNOWN', at: null };
  }
}
