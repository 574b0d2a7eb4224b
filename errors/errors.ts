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
  | 'RATE_LIMITED'
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
    super('Authentication required: send a valid bearer token', 'UNAUTHENTICATED', { http: { status: 401 } });
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

export type UpstreamErrorCode = 'UPSTREAM_UNAVAILABLE' | 'UPSTREAM_TIMEOUT' | 'UPSTREAM_RATE_LIMITED';

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
    detail: { status?: number; outcome?: OutcomeSummary[]; retryAfterSec?: number; reason?: string } = {},
  ) {
    const what =
      code === 'UPSTREAM_TIMEOUT' ? 'did not answer in time' : code === 'UPSTREAM_RATE_LIMITED' ? 'is rate limiting us' : 'is unavailable';
    super(`Source "${sourceId}" ${what}${detail.status ? ` (HTTP ${detail.status})` : ''}`, code, {
      source: sourceId,
      ...(detail.status !== undefined && { status: detail.status }),
      ...(detail.outcome?.length && { outcome: detail.outcome }),
      ...(detail.retryAfterSec !== undefined && { retryAfterSec: detail.retryAfterSec }),
    });
    this.name = 'UpstreamError';
    this.reason = detail.reason;
  }
  /** For logs only: the low-level cause (network error code, parse failure). */
  readonly reason: string | undefined;
}
