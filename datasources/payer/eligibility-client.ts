import { randomInt } from 'node:crypto';
import pLimit, { type LimitFunction } from 'p-limit';
import type { EligibilitySourceConfig } from '../../config/config.schema.js';
import { UpstreamError } from '../../errors/errors.js';
import { violationsOf } from '../fhir/read-check.js';
import { checkMemberOf271 } from './member-check.js';
import type { UpstreamCall } from '../fhir/fhir-types.js';
import {
  callOutcome,
  deadlineSignal,
  errorStatus,
  isObject,
  PAYER_MAX_RESPONSE_BYTES,
  raceAbort,
  readBodyCapped,
  statusError,
  toUpstreamError,
  tryParseJson,
} from '../fhir/upstream-http.js';
import type { EligibilityAnswer, EligibilityInquiry, EligibilityRequest, InquiryPerson } from './eligibility-types.js';
import { map271 } from './map-271.js';

/**
 * How eligibility calls show up in {@link UpstreamCall}s (health, metrics, tests): a 271 is
 * the X12 form of FHIR's CoverageEligibilityResponse, and the inquiry is a read.
 */
export const ELIGIBILITY_CALL = { resourceType: 'CoverageEligibilityResponse', interaction: 'read' } as const;

/** Options of {@link EligibilityClient}. */
export interface EligibilityClientOptions {
  fetch?: typeof fetch;
  /** Told once per payer exchange. */
  onCall?: (call: UpstreamCall) => void;
  /** Makes control numbers; default a process-wide counter from a random start. */
  controlNumber?: () => string;
}

/** One finished inquiry: the payer's 271 as sent, and its mapping. */
export interface EligibilityExchange {
  controlNumber: string;
  raw: unknown;
  answer: EligibilityAnswer;
}

let nextControl = randomInt(0, 1_000_000_000);
/** A 9-digit control number, different for every request of this process (wraps after 10^9). */
export function newControlNumber(): string {
  nextControl = (nextControl + 1) % 1_000_000_000;
  return String(nextControl).padStart(9, '0');
}

const compact = (d: string | undefined) => d?.replaceAll('-', '');

/** The 270 body for an inquiry under a payer config. */
export function buildEligibilityRequest(source: EligibilitySourceConfig, inquiry: EligibilityInquiry, controlNumber: string): EligibilityRequest {
  const person: InquiryPerson = {
    ...(inquiry.firstName && { firstName: inquiry.firstName }),
    ...(inquiry.lastName && { lastName: inquiry.lastName }),
    ...(inquiry.dateOfBirth && { dateOfBirth: compact(inquiry.dateOfBirth) }),
    ...(inquiry.gender && { gender: inquiry.gender }),
  };
  return {
    controlNumber,
    tradingPartnerServiceId: source.tradingPartnerServiceId,
    provider: { npi: source.provider.npi, organizationName: source.provider.organizationName },
    // A dependent is found through the subscriber's member id and named in the dependent loop.
    subscriber: inquiry.dependent ? { memberId: inquiry.memberId } : { memberId: inquiry.memberId, ...person },
    ...(inquiry.dependent && { dependents: [person] }),
    encounter: { serviceTypeCodes: inquiry.serviceTypeCodes, dateOfService: compact(inquiry.dateOfService)! },
  };
}

/**
 * A real-time eligibility (270/271) client for one payer: auth, per-exchange timeout and a
 * concurrency cap shared by every request of the process. Long-lived, one per payer source.
 * Errors are UpstreamErrors naming the payer's source id and never any member data.
 */
export class EligibilityClient {
  readonly sourceId: string;
  private readonly limit: LimitFunction;
  private readonly fetchFn: typeof fetch;

  constructor(
    readonly source: EligibilitySourceConfig,
    private readonly opts: EligibilityClientOptions = {},
  ) {
    this.sourceId = source.id;
    this.limit = pLimit(source.maxConcurrency);
    this.fetchFn = opts.fetch ?? fetch;
  }

  /** Exchanges waiting for a slot under the concurrency cap. */
  get queued(): number {
    return this.limit.pendingCount;
  }

  /**
   * Sends one 270 and maps the 271. A 271 carrying AAA rejections is an answer, not an
   * error. `signal` bounds the wait for a slot as well as the exchange.
   */
  async check(inquiry: EligibilityInquiry, opts: { signal?: AbortSignal } = {}): Promise<EligibilityExchange> {
    const { signal } = opts;
    const run = this.limit(async () => {
      // The caller gave up while this waited for a slot: spend no payer transaction on it.
      if (signal?.aborted) throw toUpstreamError(this.sourceId, signal.reason, signal);
      return this.exchange(inquiry, signal);
    });
    try {
      return await raceAbort(run, signal);
    } catch (err) {
      throw toUpstreamError(this.sourceId, err, signal);
    }
  }

  private async exchange(inquiry: EligibilityInquiry, callerSignal: AbortSignal | undefined): Promise<EligibilityExchange> {
    const started = performance.now();
    const signal = deadlineSignal(this.source.timeoutMs, callerSignal);
    const controlNumber = (this.opts.controlNumber ?? newControlNumber)();
    const body = JSON.stringify(buildEligibilityRequest(this.source, inquiry, controlNumber));
    let status: number | undefined;
    try {
      const res = await this.fetchFn(this.source.baseUrl, { method: 'POST', headers: this.headers(), body, signal, redirect: 'error' });
      status = res.status;
      const text = await readBodyCapped(this.sourceId, res, PAYER_MAX_RESPONSE_BYTES);
      const parsed = tryParseJson(text);
      let raw: unknown;
      if (res.status >= 200 && res.status <= 299) {
        if (!isObject(parsed)) throw new UpstreamError(this.sourceId, 'UPSTREAM_UNAVAILABLE', { status, reason: 'answer is not a JSON object' });
        raw = parsed;
      } else if ((res.status === 400 || res.status === 422) && hasAaaErrors(parsed)) {
        // Some clearinghouses answer payer rejections with a 4xx; the AAA errors are still the answer.
        raw = parsed;
      } else {
        throw statusError(this.sourceId, { status: res.status, headers: res.headers, body: '' });
      }
      checkMemberOf271(this.sourceId, inquiry, raw);
      this.report({ status, outcome: 'ok', pages: 1 }, started);
      return { controlNumber, raw, answer: map271(raw, inquiry.serviceTypeCodes) };
    } catch (err) {
      const upstream = toUpstreamError(this.sourceId, err, signal);
      const violations = violationsOf(upstream);
      this.report({ status: status ?? errorStatus(upstream), outcome: callOutcome(upstream), pages: 0, ...(violations.length && { violations }) }, started);
      throw upstream;
    }
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    const { auth } = this.source;
    if (auth.type === 'bearer') h.authorization = `Bearer ${auth.token}`;
    else if (auth.type === 'api-key') h[auth.header.toLowerCase()] = auth.key;
    return h;
  }

  private report(call: Pick<UpstreamCall, 'status' | 'outcome' | 'pages' | 'violations'>, started: number): void {
    this.opts.onCall?.({ sourceId: this.sourceId, ...ELIGIBILITY_CALL, ...call, ms: performance.now() - started });
  }
}

function hasAaaErrors(body: unknown): boolean {
  return isObject(body) && Array.isArray(body.errors) && body.errors.some((e) => isObject(e) && (typeof e.code === 'string' || typeof e.code === 'number'));
}
