import { GraphQLError } from 'graphql';

/** Every `extensions.code` that chartgraph itself puts on an error. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_RATE_LIMITED'
  | 'UPSTREAM_INVALID_RESPONSE'
  | 'UPSTREAM_WARNING'
  | 'RATE_LIMITED'
  | 'BAD_REQUEST'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'CACHE_UNAVAILABLE'
  | 'SLOW_SUBSCRIBER'
  | 'INTERNAL_SERVER_ERROR';

/** Base of chartgraph's errors: a GraphQLError with a typed code. Anything else is masked. */
export class ChartgraphError extends GraphQLError {
  constructor(
    message: string,
    readonly code: ErrorCode,
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extensions, code } });
    this.name = 'ChartgraphError';
  }
}

export class UnauthenticatedError extends ChartgraphError {
  constructor() {
    // Never say which check failed: that would help an attacker probe.
    // RFC 6750 §3: a 401 names the scheme the client should use.
    super('Authentication required: send a valid bearer token', 'UNAUTHENTICATED', {
      http: { status: 401, headers: new Map([['www-authenticate', 'Bearer realm="chartgraph"']]) },
    });
  }
}

export class ForbiddenError extends ChartgraphError {
  constructor(message = 'Not authorised to read this field') {
    super(message, 'FORBIDDEN');
  }
}

/** The client sent more requests than its per-minute allowance (HTTP 429 with Retry-After). */
export class RateLimitedError extends ChartgraphError {
  constructor(readonly retryAfterSec: number) {
    super('Too many requests: slow down and retry later', 'RATE_LIMITED', {
      retryAfterSec,
      // Apollo turns this into the HTTP status and headers of the response, then drops it.
      http: { status: 429, headers: new Map([['retry-after', String(retryAfterSec)]]) },
    });
  }
}

/**
 * A request refused before it ran because of its shape or size (too many fields, a
 * subscription over HTTP, ...): HTTP 400 with the limit that was hit.
 */
export class RequestRejectedError extends ChartgraphError {
  constructor(message: string, code: 'GRAPHQL_VALIDATION_FAILED' | 'BAD_REQUEST', extensions: Record<string, unknown> = {}) {
    super(message, code, { ...extensions, http: { status: 400 } });
  }
}

/**
 * The cache and patient index database cannot be reached. As a partial error it says the
 * answer came from the sources alone; as a field's error, that the field needs the index
 * (a first lookup, a search of the index, an admin action).
 */
export class CacheUnavailableError extends ChartgraphError {
  constructor(message = 'The cache and patient index are unavailable (database unreachable); this needs the patient index, try again shortly') {
    super(message, 'CACHE_UNAVAILABLE');
  }
}

export class NotFoundError extends ChartgraphError {
  constructor(message: string) {
    super(message, 'NOT_FOUND');
  }
}

export class BadUserInputError extends ChartgraphError {
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(message, 'BAD_USER_INPUT', extensions);
  }
}

/**
 * Which deadline an UPSTREAM_TIMEOUT ran into (`extensions.reason`):
 * - `UPSTREAM`: the source took longer than its `timeoutMs` after the request was sent;
 * - `QUEUE`: no concurrency slot for the source freed up within its `queueTimeoutMs` (never sent);
 * - `REQUEST_DEADLINE`: the GraphQL request's overall deadline (`limits.requestDeadlineMs`) ran out,
 *   or the client went away;
 * - `EARLIER_TIMEOUT`: the source already timed out once in this request, so it was not asked again.
 * Only `UPSTREAM` counts against the source (health status, circuit breaker).
 */
export type TimeoutKind = 'UPSTREAM' | 'QUEUE' | 'REQUEST_DEADLINE' | 'EARLIER_TIMEOUT';

/**
 * The request's own deadline (`limits.requestDeadlineMs`) ran out, or the client went away,
 * while work of ours (not an upstream's) was still to run: a cohort's SQL on the population
 * store. Same code and `reason` as an upstream call cut by the deadline, without a source.
 */
export class RequestDeadlineError extends ChartgraphError {
  constructor(what: string) {
    super(`The request's deadline ran out before ${what} was answered`, 'UPSTREAM_TIMEOUT', { reason: 'REQUEST_DEADLINE' satisfies TimeoutKind });
    this.name = 'RequestDeadlineError';
  }
}

export type UpstreamErrorCode = 'UPSTREAM_UNAVAILABLE' | 'UPSTREAM_TIMEOUT' | 'UPSTREAM_RATE_LIMITED' | 'UPSTREAM_INVALID_RESPONSE';


/** Short, patient-free summary of an upstream OperationOutcome. */
export interface OutcomeSummary {
  severity?: string;
  code?: string;
}

/**
 * An upstream source failed. Carries the source id and, when the source sent one, the
 * severity and code of its OperationOutcome (never its free text: it may name a patient).
 */
export class UpstreamError extends ChartgraphError {
  constructor(
    readonly sourceId: string,
    code: UpstreamErrorCode,
    detail: { status?: number; outcome?: OutcomeSummary[]; retryAfterSec?: number; reason?: string; message?: string; extensions?: Record<string, unknown>; timeout?: TimeoutKind } = {},
  ) {
    const what =
      code === 'UPSTREAM_TIMEOUT'
        ? 'did not answer in time'
        : code === 'UPSTREAM_RATE_LIMITED'
          ? 'is rate limiting us'
          : code === 'UPSTREAM_INVALID_RESPONSE'
            ? 'sent an answer that breaks the FHIR contract'
            : 'is unavailable';
    super(detail.message ?? `Source "${sourceId}" ${what}${detail.status ? ` (HTTP ${detail.status})` : ''}`, code, {
      ...detail.extensions,
      source: sourceId,
      ...(detail.status !== undefined && { status: detail.status }),
      ...(detail.outcome?.length && { outcome: detail.outcome }),
      ...(detail.retryAfterSec !== undefined && { retryAfterSec: detail.retryAfterSec }),
      ...(detail.timeout !== undefined && { reason: detail.timeout }),
    });
    this.name = 'UpstreamError';
    this.reason = detail.reason;
    this.timeout = detail.timeout;
  }
  /** Which deadline ran out, for UPSTREAM_TIMEOUT (also `extensions.reason`). */
  readonly timeout: TimeoutKind | undefined;
  /** True when the failure says nothing about the source's health (queue wait, our own deadline or cancellation). */
  get notSourceFault(): boolean {
    return this.timeout !== undefined && this.timeout !== 'UPSTREAM';
  }
  /** For logs only: the low-level cause (network error code, parse failure). */
  readonly reason: string | undefined;
}

/**
 * What was wrong with an upstream answer that chartgraph set aside or cut short. Items:
 * `wrong-patient` (references another patient than asked, or none), `wrong-type` (another
 * resource type than searched), `malformed` (lacks what the schema needs, or a bad date).
 * Protocol: `paging-off-origin`, `paging-loop`, `page-limit` (the search was cut at the
 * page guard), `read-id-mismatch` (a read answered another id), `payer-member-mismatch`
 * (a 271 about another member than the 270 asked).
 */
export type InvalidResponseReason =
  | 'wrong-patient'
  | 'wrong-type'
  | 'malformed'
  | 'paging-off-origin'
  | 'paging-loop'
  | 'page-limit'
  | 'read-id-mismatch'
  | 'payer-member-mismatch';

/**
 * A source answered, but part of the answer broke the contract and was set aside (or the
 * paging was cut short): what arrived and passed is still answered, with this error beside
 * it. Never a sign that the source is down. Carries the reason and how many items (or
 * pages) were affected, never ids or patient data.
 */
export class UpstreamInvalidResponseError extends UpstreamError {
  constructor(
    sourceId: string,
    readonly violation: InvalidResponseReason,
    readonly count: number,
  ) {
    super(sourceId, 'UPSTREAM_INVALID_RESPONSE', {
      reason: violation,
      message: PAGING_REASONS.has(violation)
        ? `Source "${sourceId}" broke the paging contract (${violation}): the items before are kept, the rest is missing`
        : `Source "${sourceId}" sent an invalid answer: ${count} ${count === 1 ? 'item' : 'items'} set aside (${violation})`,
      extensions: { reason: violation, count },
    });
    this.name = 'UpstreamInvalidResponseError';
  }
}

const PAGING_REASONS: ReadonlySet<InvalidResponseReason> = new Set(['paging-off-origin', 'paging-loop', 'page-limit']);

/**
 * A non-fatal warning a source sent with its answer (an OperationOutcome entry with
 * `search.mode` `outcome`, such as "results truncated"). Carries the issue severity and
 * code, never the free text (it may name a patient).
 */
export class UpstreamWarning extends ChartgraphError {
  constructor(
    readonly sourceId: string,
    readonly issues: OutcomeSummary[],
  ) {
    super(`Source "${sourceId}" sent a warning with its answer`, 'UPSTREAM_WARNING', { source: sourceId, ...(issues.length && { outcome: issues }) });
    this.name = 'UpstreamWarning';
  }
}
