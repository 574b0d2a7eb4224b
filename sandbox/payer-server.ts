import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultableServer } from './faultable-server.js';
import { BodyTooLargeError, readBody, sleep } from './http-util.js';
import { build271, build271Rejection, type InquiryEcho } from './payer-benefits.js';
import { SANDBOX_TRADING_PARTNERS, type SimulatedMember, type SimulatedTradingPartner } from './payer-members.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** The token the sandbox payer accepts (as `Bearer <token>` or as a bare API key). */
export const SANDBOX_PAYER_TOKEN = 'sandbox-payer-token';

/** Options for {@link SimulatedPayer.start}. */
export interface SimulatedPayerOptions {
  members: readonly SimulatedMember[];
  partners?: readonly SimulatedTradingPartner[];
  host?: string;
  port?: number;
  /** Path the 270 is POSTed to. Default `/eligibility/v3`. */
  basePath?: string;
  /** Fixed latency before every answer, ms. */
  latencyMs?: number;
  /** The accepted credential; null accepts anything. Default {@link SANDBOX_PAYER_TOKEN}. */
  token?: string | null;
}

/**
 * A clearinghouse-style real-time eligibility endpoint (JSON 270 in, JSON 271 out) over
 * the sandbox members. It answers active and inactive coverage with benefits, AAA
 * rejections (72 invalid member id, 75 not found, 71 birth date mismatch, 73 name
 * mismatch, 58 missing birth date, 43 bad NPI, 57 bad date of service), and injected
 * faults; it records every request and the most requests it held at once.
 */
export class SimulatedPayer extends FaultableServer {
  /** The URL to POST inquiries to (a payer source's `baseUrl`). */
  baseUrl = '';
  readonly members: readonly SimulatedMember[];
  readonly partners: readonly SimulatedTradingPartner[];
  private readonly byId: Map<string, SimulatedMember>;
  private readonly basePath: string;
  private current = 0;
  private peak = 0;
  private readonly peakByPartner = new Map<string, number>();
  private readonly currentByPartner = new Map<string, number>();

  private constructor(private readonly opts: SimulatedPayerOptions) {
    super(opts.host);
    this.members = opts.members;
    this.partners = opts.partners ?? SANDBOX_TRADING_PARTNERS;
    this.byId = new Map(opts.members.map((m) => [m.memberId.toUpperCase(), m]));
    this.basePath = opts.basePath ?? '/eligibility/v3';
  }

  /** Starts the server. */
  static async start(opts: SimulatedPayerOptions): Promise<SimulatedPayer> {
    const payer = new SimulatedPayer(opts);
    await payer.listen(opts.port ?? 0);
    payer.baseUrl = `${payer.origin}${payer.basePath}`;
    return payer;
  }

  /** Latency before every answer, ms (tests raise it to hold requests in flight). */
  latencyMs = 0;

  /** Misbehaviour: every 271 names another member id than the 270 asked for. */
  answerOtherMember = false;

  /** Requests being answered right now. */
  get inFlight(): number {
    return this.current;
  }

  /** The most requests held at once since the last reset, overall or for one trading partner. */
  maxInFlight(tradingPartnerServiceId?: string): number {
    return tradingPartnerServiceId === undefined ? this.peak : (this.peakByPartner.get(tradingPartnerServiceId) ?? 0);
  }

  /** Forgets recorded requests and the in-flight peaks. */
  resetRequests(): void {
    this.requests.reset();
    this.peak = this.current;
    this.peakByPartner.clear();
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    const rec = this.requests.add({ method, path: url.pathname, interaction: 'other', params: [], time: Date.now(), status: 0 });
    let partnerId = '';
    this.current++;
    this.peak = Math.max(this.peak, this.current);
    let released = false;
    // On `finish` (answer handed to the socket), so the peak never counts a request the
    // client already has its answer to; on `close` for answers that never finish.
    const release = () => {
      if (released) return;
      released = true;
      this.current--;
      if (partnerId) this.currentByPartner.set(partnerId, (this.currentByPartner.get(partnerId) ?? 1) - 1);
    };
    res.once('finish', release);
    res.once('close', release);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      rec.status = status;
      rec.durationMs = performance.now() - started;
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };

    try {
      let body: Record<string, unknown> = {};
      if (method === 'POST') {
        const parsed = JSON.parse(await readBody(req, 256 * 1024)) as unknown;
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
      }
      const subscriber = obj(body.subscriber);
      const encounter = obj(body.encounter);
      partnerId = str(body.tradingPartnerServiceId);
      if (partnerId) {
        const now = (this.currentByPartner.get(partnerId) ?? 0) + 1;
        this.currentByPartner.set(partnerId, now);
        this.peakByPartner.set(partnerId, Math.max(this.peakByPartner.get(partnerId) ?? 0, now));
      }
      rec.params = [
        ['controlNumber', str(body.controlNumber)],
        ['tradingPartnerServiceId', partnerId],
        ['memberId', str(subscriber.memberId)],
        ['serviceTypeCodes', strs(encounter.serviceTypeCodes).join(',')],
        ['dateOfService', str(encounter.dateOfService)],
      ];

      const decision = this.faults.decide({ path: '/' });
      const latency = this.latencyMs + (this.opts.latencyMs ?? 0) + decision.latencyMs;
      if (latency > 0) await sleep(latency);
      switch (decision.action) {
        case 'reset':
          rec.fault = 'reset';
          req.socket.destroy();
          return;
        case 'hang':
          rec.fault = 'hang';
          return;
        case 'down-503':
          rec.fault = 'down-503';
          return send(503, { message: 'Service unavailable' });
        case 'rate-limit':
          rec.fault = 'rate-limit';
          return send(429, { message: 'Too many requests' }, { 'retry-after': String(decision.retryAfterSec ?? 1) });
        case 'status':
          rec.fault = 'status';
          return send(decision.status!, { message: `Simulated HTTP ${decision.status}` });
      }

      if (url.pathname !== this.basePath) return send(404, { message: 'Not found' });
      if (method !== 'POST') return send(405, { message: 'POST a 270 inquiry' });
      if (this.opts.token !== null && !this.authorised(req)) return send(401, { message: 'Unauthorized' });
      return send(200, ...this.answer(body));
    } catch (e) {
      if (e instanceof BodyTooLargeError) return send(413, { message: 'Request too large' });
      if (e instanceof SyntaxError) return send(400, { message: 'Body is not JSON' });
      if (!res.headersSent && !res.destroyed) send(500, { message: 'Internal error in the simulator' });
    }
  }

  private authorised(req: IncomingMessage): boolean {
    const token = this.opts.token ?? SANDBOX_PAYER_TOKEN;
    const h = req.headers.authorization ?? '';
    return h === `Bearer ${token}` || h === token;
  }

  /** The 271 for a 270 (a 400-class problem with the request itself is thrown as such). */
  private answer(body: Record<string, unknown>): [Record<string, unknown>] {
    const subscriber = obj(body.subscriber);
    const encounter = obj(body.encounter);
    const provider = obj(body.provider);
    const dependent = Array.isArray(body.dependents) ? obj(body.dependents[0]) : undefined;
    const person = dependent ?? subscriber;
    const q: InquiryEcho = {
      controlNumber: str(body.controlNumber),
      provider: { npi: str(provider.npi), organizationName: str(provider.organizationName) },
      serviceTypeCodes: strs(encounter.serviceTypeCodes),
      dateOfService: str(encounter.dateOfService),
    };
    const partner = this.partners.find((p) => p.tradingPartnerServiceId === str(body.tradingPartnerServiceId));
    const reject = (code: string, description: string, loop: string): [Record<string, unknown>] => [build271Rejection(partner, q, code, description, loop)];

    if (!/^\d{9}$/.test(q.controlNumber)) return reject('33', 'Input Errors', 'ISA');
    if (!partner) return reject('79', 'Invalid Participant Identification', 'Loop 2100A');
    if (!/^\d{10}$/.test(q.provider.npi ?? '')) return reject('43', 'Invalid/Missing Provider Identification', 'Loop 2100B');
    if (!/^\d{8}$/.test(q.dateOfService)) return reject('57', 'Invalid/Missing Date(s) of Service', 'Loop 2110C');
    const memberId = str(subscriber.memberId);
    if (!/^[A-Za-z0-9]{3,20}$/.test(memberId)) return reject('72', 'Invalid/Missing Subscriber/Insured ID', 'Loop 2100C');
    const member = this.byId.get(memberId.toUpperCase());
    if (!member || member.tradingPartnerServiceId !== partner.tradingPartnerServiceId) return reject('75', 'Subscriber/Insured Not Found', 'Loop 2100C');
    const dob = str(person.dateOfBirth);
    if (!dob) return reject('58', 'Invalid/Missing Date-of-Birth', 'Loop 2100C');
    if (dob !== member.dateOfBirth) return reject('71', 'Patient Birth Date Does Not Match That for the Patient on the Database', 'Loop 2100C');
    const lastName = str(person.lastName);
    // Payers match the last name loosely (case, spaces, punctuation) and not the first name (nicknames).
    if (lastName && letters(lastName) !== letters(member.lastName)) return reject('73', 'Invalid/Missing Subscriber/Insured Name', 'Loop 2100C');
    const answer = build271(member, partner, q);
    if (this.answerOtherMember && typeof answer.subscriber === 'object' && answer.subscriber !== null) {
      answer.subscriber = { ...(answer.subscriber as Record<string, unknown>), memberId: `${memberId}X` };
    }
    return [answer];
  }
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
function letters(s: string): string {
  return s.toUpperCase().replace(/[^A-Z]/g, '');
}
