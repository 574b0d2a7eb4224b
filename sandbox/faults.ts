/**
 * A fault to inject into a simulated EHR. Several may be set at once: the latencies of
 * every matching rule add up, and the first matching rule with an action decides it.
 */
export interface FaultRule {
  /** Extra latency in ms before the answer (or before the action). */
  latencyMs?: number;
  /** Answer this HTTP status with an OperationOutcome (e.g. 500, 503). */
  status?: number;
  /** Answer 429 with this `Retry-After` (seconds). */
  rateLimit?: { retryAfterSec: number };
  /** Never answer; the request stays open until the client gives up or the server closes. */
  hang?: boolean;
  /**
   * The server is down: `refuse` stops listening (connection refused; ignores the filters
   * below), `reset` (or `true`) destroys the connection without an answer, `503` answers 503.
   */
  down?: true | 'refuse' | 'reset' | '503';
  /**
   * Answer 200 with a broken body: JSON cut off or not JSON at all, an HTML page, an
   * OperationOutcome where a Bundle belongs, or a searchset Bundle of this many entries.
   */
  corrupt?: 'malformed-json' | 'truncated' | 'html' | 'operation-outcome' | { bundleEntries: number };
  /** Only requests for these resource types. */
  resourceTypes?: string[];
  /** Only requests whose path (relative to the base, e.g. `/Observation`) matches. */
  path?: string | RegExp;
  /** Only the next N matching requests; then the rule is spent. */
  times?: number;
}

/** What to do with one request. */
export interface FaultDecision {
  latencyMs: number;
  action?: 'status' | 'rate-limit' | 'hang' | 'reset' | 'down-503' | 'corrupt';
  corrupt?: FaultRule['corrupt'];
  status?: number;
  retryAfterSec?: number;
}

interface LiveRule {
  rule: FaultRule;
  remaining: number;
}

/** Holds the active fault rules of one server. */
export class FaultInjector {
  private rules: LiveRule[] = [];

  set(rules: FaultRule | FaultRule[]): void {
    this.rules = (Array.isArray(rules) ? rules : [rules]).map((rule) => ({ rule, remaining: rule.times ?? Infinity }));
  }

  clear(): void {
    this.rules = [];
  }

  /** Whether a rule asks for the listener to be closed (connection refused). */
  refusing(): boolean {
    return this.rules.some((r) => r.rule.down === 'refuse' && r.remaining > 0);
  }

  /** Decides the faults for one request and spends `times` of the rules applied. */
  decide(req: { path: string; resourceType?: string }): FaultDecision {
    const d: FaultDecision = { latencyMs: 0 };
    for (const live of this.rules) {
      const { rule } = live;
      if (live.remaining <= 0 || rule.down === 'refuse' || !applies(rule, req)) continue;
      live.remaining--;
      d.latencyMs += rule.latencyMs ?? 0;
      if (d.action) continue;
      if (rule.down === true || rule.down === 'reset') d.action = 'reset';
      else if (rule.down === '503') d.action = 'down-503';
      else if (rule.hang) d.action = 'hang';
      else if (rule.rateLimit) {
        d.action = 'rate-limit';
        d.retryAfterSec = rule.rateLimit.retryAfterSec;
      } else if (rule.status !== undefined) {
        d.action = 'status';
        d.status = rule.status;
      } else if (rule.corrupt) {
        d.action = 'corrupt';
        d.corrupt = rule.corrupt;
      }
    }
    return d;
  }
}

function applies(rule: FaultRule, req: { path: string; resourceType?: string }): boolean {
  if (rule.resourceTypes && (!req.resourceType || !rule.resourceTypes.includes(req.resourceType))) return false;
  if (rule.path !== undefined) {
    if (typeof rule.path === 'string' ? !req.path.startsWith(rule.path) : !rule.path.test(req.path)) return false;
  }
  return true;
}
