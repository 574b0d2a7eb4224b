import { UpstreamError, type OutcomeSummary } from '../../errors/errors.js';
import type { UpstreamCall } from './fhir-types.js';

/** The body and status of one finished HTTP exchange. */
export interface HttpResult {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * Settles with `promise`, or rejects with the signal's reason as soon as the signal
 * aborts. Used where the work itself cannot see the signal (a queue slot, a shared
 * in-flight token request) so that the caller's deadline still holds.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    // The work may still fail later; nobody waits for it, so that must not be an unhandled rejection.
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** A deadline of `timeoutMs` combined with the caller's signal, if any. */
export function deadlineSignal(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([timeout, signal]) : timeout;
}

/** `Retry-After` as seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * Severity and code of each OperationOutcome issue. The diagnostics and details text is
 * dropped on purpose: servers put patient names and identifiers in there.
 */
export function summariseOutcome(resource: unknown): OutcomeSummary[] {
  if (!isObject(resource) || resource.resourceType !== 'OperationOutcome' || !Array.isArray(resource.issue)) return [];
  return resource.issue.filter(isObject).map((issue) => ({
    ...(typeof issue.severity === 'string' && { severity: issue.severity }),
    ...(typeof issue.code === 'string' && { code: issue.code }),
  }));
}

/** Parses a JSON body, or undefined when it is not JSON. */
export function tryParseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True for errors that mean "the deadline or the caller stopped this". */
export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

/**
 * Turns anything thrown during an upstream call into an UpstreamError. The reason keeps
 * the low-level cause for logs (an errno code, never a URL).
 */
export function toUpstreamError(sourceId: string, err: unknown, signal?: AbortSignal): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (isAbortError(err) || signal?.aborted) return new UpstreamError(sourceId, 'UPSTREAM_TIMEOUT', { reason: 'deadline exceeded or aborted' });
  const cause = err instanceof Error && isObject(err.cause) ? err.cause : undefined;
  const code = cause && typeof cause.code === 'string' ? cause.code : err instanceof Error ? err.name : 'unknown';
  return new UpstreamError(sourceId, 'UPSTREAM_UNAVAILABLE', { reason: `network error: ${code}` });
}

/**
 * {@link toUpstreamError} for the FHIR client, which tells its deadlines apart: the caller's
 * signal having aborted is REQUEST_DEADLINE (our side), a timeout of the exchange itself is
 * UPSTREAM (the source's side).
 */
export function toFhirUpstreamError(sourceId: string, err: unknown, signal?: AbortSignal): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (signal?.aborted) return new UpstreamError(sourceId, 'UPSTREAM_TIMEOUT', { timeout: 'REQUEST_DEADLINE', reason: 'deadline exceeded or aborted' });
  if (isAbortError(err)) return new UpstreamError(sourceId, 'UPSTREAM_TIMEOUT', { timeout: 'UPSTREAM', reason: 'source took longer than timeoutMs' });
  return toUpstreamError(sourceId, err, signal);
}

/**
 * The UpstreamError for a non-2xx answer: 429 is rate limiting (with Retry-After), every
 * other status is "unavailable" with the OperationOutcome summary when there is one.
 */
export function statusError(sourceId: string, res: HttpResult): UpstreamError {
  if (res.status === 429) {
    return new UpstreamError(sourceId, 'UPSTREAM_RATE_LIMITED', {
      status: 429,
      retryAfterSec: parseRetryAfter(res.headers.get('retry-after')),
    });
  }
  return new UpstreamError(sourceId, 'UPSTREAM_UNAVAILABLE', {
    status: res.status,
    outcome: summariseOutcome(tryParseJson(res.body)),
    reason: `HTTP ${res.status}`,
  });
}

/** The `outcome` label of an UpstreamCall for an error. */
export function callOutcome(err: UpstreamError): UpstreamCall['outcome'] {
  if (err.code === 'UPSTREAM_INVALID_RESPONSE') return 'invalid';
  return err.code === 'UPSTREAM_TIMEOUT' ? 'timeout' : err.code === 'UPSTREAM_RATE_LIMITED' ? 'rate_limited' : 'error';
}

/** The HTTP status an UpstreamError carries, if any. */
export function errorStatus(err: UpstreamError): number | undefined {
  const status = err.extensions.status;
  return typeof status === 'number' ? status : undefined;
}

/** Payers answer in kilobytes; a megabyte is already a broken answer. */
export const PAYER_MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * A response body as text, refused with UPSTREAM_UNAVAILABLE past `limit` bytes (by its
 * Content-Length, or while reading): one runaway answer must not take the gateway's memory.
 */
export async function readBodyCapped(sourceId: string, res: Response, limit: number): Promise<string> {
  const tooLarge = () => new UpstreamError(sourceId, 'UPSTREAM_UNAVAILABLE', { status: res.status, reason: 'answer too large' });
  if (Number(res.headers.get('content-length') ?? 0) > limit) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
