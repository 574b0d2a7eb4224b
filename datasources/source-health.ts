/** What the health tracker needs to know of one upstream call. */
export interface CallOutcome {
  sourceId: string;
  outcome: 'ok' | 'error' | 'timeout' | 'rate_limited' | 'invalid';
  /** The last HTTP status the source answered with, if any. */
  status?: number;
  /** Duration of the whole call (all its pages), ms. */
  ms?: number;
  /** HTTP exchanges in the call; latency is judged per exchange, so a long paged search is not "slow". */
  pages?: number;
  /** A failure on our side (queue wait, our deadline, cancellation): says nothing about the source. */
  notSourceFault?: boolean;
}

/**
 * Statuses that blame the request, not the source (bad or too long a query, unknown id,
 * headers too large): a source answering them is up, and they say nothing of its health.
 */
export const REQUEST_FAULT_STATUSES: ReadonlySet<number> = new Set([400, 404, 413, 414, 422, 431]);

export type HealthStatus = 'UP' | 'DEGRADED' | 'DOWN' | 'UNKNOWN';

/** When a source counts as DEGRADED (config `sourceHealth`). */
export interface SourceHealthOptions {
  /** Calls older than this are forgotten. Default 60 s. */
  windowSeconds?: number;
  /** DEGRADED when the 90th percentile of per-exchange latency in the window is above this. Default 2000 ms. */
  degradedLatencyMs?: number;
  /** DEGRADED when this share of the window's calls failed (errors, timeouts, 429s). Default 0.2. */
  degradedErrorRate?: number;
  /** The error rate counts only from this many calls in the window on. Default 5. */
  minCallsForErrorRate?: number;
}

/** A source's health with the measurements behind it. */
export interface SourceHealthReport {
  status: HealthStatus;
  /** The last call's time. */
  at: Date | null;
  /** 90th percentile of per-exchange latency over the window, ms (null without calls). */
  p90Ms: number | null;
  /** Failed share of the window's calls (null without calls). */
  errorRate: number | null;
  /** Calls in the window. */
  calls: number;
}

interface Sample {
  at: number;
  msPerExchange: number;
  failed: boolean;
}

const MAX_SAMPLES = 500;

/**
 * Health of each source from every upstream call of the process: DOWN when the last call
 * failed outright, DEGRADED when the last was rate limited, or when the window's calls were
 * slow (p90 latency over the threshold) or often failing, UP otherwise, UNKNOWN before the
 * first call.
 */
export class SourceHealth {
  private readonly last = new Map<string, { outcome: CallOutcome['outcome']; at: Date }>();
  private readonly samples = new Map<string, Sample[]>();
  private readonly windowMs: number;
  private readonly latencyMs: number;
  private readonly errorRate: number;
  private readonly minCalls: number;

  constructor(opts: SourceHealthOptions = {}) {
    this.windowMs = (opts.windowSeconds ?? 60) * 1000;
    this.latencyMs = opts.degradedLatencyMs ?? 2_000;
    this.errorRate = opts.degradedErrorRate ?? 0.2;
    this.minCalls = opts.minCallsForErrorRate ?? 5;
  }

  record(call: CallOutcome, at = new Date()): void {
    if (call.notSourceFault && call.outcome !== 'ok') return;
    if (call.outcome === 'error' && call.status !== undefined && REQUEST_FAULT_STATUSES.has(call.status)) return;
    this.last.set(call.sourceId, { outcome: call.outcome, at });
    let list = this.samples.get(call.sourceId);
    if (!list) this.samples.set(call.sourceId, (list = []));
    list.push({ at: at.getTime(), msPerExchange: (call.ms ?? 0) / Math.max(1, call.pages ?? 1), failed: call.outcome !== 'ok' && call.outcome !== 'invalid' });
    if (list.length > MAX_SAMPLES) list.splice(0, list.length - MAX_SAMPLES);
  }

  /** The source's status now, with the window's p90 latency and error rate. */
  report(sourceId: string, now = Date.now()): SourceHealthReport {
    const seen = this.last.get(sourceId);
    if (!seen) return { status: 'UNKNOWN', at: null, p90Ms: null, errorRate: null, calls: 0 };
    const list = (this.samples.get(sourceId) ?? []).filter((s) => now - s.at <= this.windowMs);
    this.samples.set(sourceId, list);
    const ok = list.filter((s) => !s.failed).map((s) => s.msPerExchange);
    const p90Ms = ok.length > 0 ? Math.round(percentile(ok, 0.9)) : null;
    const errorRate = list.length > 0 ? list.filter((s) => s.failed).length / list.length : null;
    let status: HealthStatus;
    if (seen.outcome === 'error' || seen.outcome === 'timeout') status = 'DOWN';
    // An invalid answer is still an answer: the source is up, its data is what is wrong.
    else if (seen.outcome === 'rate_limited') status = 'DEGRADED';
    else if (p90Ms !== null && p90Ms > this.latencyMs) status = 'DEGRADED';
    else if (errorRate !== null && list.length >= this.minCalls && errorRate > this.errorRate) status = 'DEGRADED';
    else status = 'UP';
    return { status, at: seen.at, p90Ms, errorRate: errorRate === null ? null : Math.round(errorRate * 1000) / 1000, calls: list.length };
  }

  status(sourceId: string): { status: HealthStatus; at: Date | null } {
    const r = this.report(sourceId);
    return { status: r.status, at: r.at };
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}
