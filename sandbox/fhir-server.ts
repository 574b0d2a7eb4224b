import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FhirResource } from '../datasources/fhir/fhir-types.js';
import { BulkExportServer } from './bulk-export.js';
import { buildCapabilityStatement } from './capability.js';
import { FaultableServer } from './faultable-server.js';
import type { FaultRule } from './faults.js';
import type { FhirStore } from './fhir-store.js';
import { BodyTooLargeError, readBody, sleep } from './http-util.js';
import { operationOutcome } from './outcome.js';
import { misbehavePage, otherPatientRecord, withUnitVariants } from './misbehaviour.js';
import type { EhrProfile } from './profiles.js';
import type { RecordedRequest } from './request-log.js';
import { isServedType } from './search-params.js';
import { SearchInputError } from './search-values.js';
import { scopesAllow, SMART_ASSERTION_ALGS, type IssuedToken } from './smart-token-server.js';
import { RestHookNotifier, SANDBOX_TOPIC } from './rest-hook.js';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const PAGE_PARAM = '_getpages';
const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
/** Types that hold one patient's data: the ones `searchNeedsPatient` guards. */
const PATIENT_DATA_TYPES = new Set(['Observation', 'Condition', 'MedicationRequest', 'AllergyIntolerance', 'Immunization', 'Procedure', 'Encounter', 'DiagnosticReport', 'Coverage']);

/** Options for {@link SimulatedEhr.start}. */
export interface SimulatedEhrOptions {
  id: string;
  name: string;
  store: FhirStore;
  /** Read on every request: changing its fields changes behaviour at once. */
  profile: EhrProfile;
  host?: string;
  /** 0: a random free port. */
  port?: number;
  /** Path of the FHIR base on the server. Default `/fhir/R4`. */
  basePath?: string;
  /** Token endpoint advertised in `/metadata` and SMART discovery. */
  tokenUrl?: string;
  /** Checks a bearer token; required when the profile requires auth. */
  validateToken?: (token: string) => IssuedToken | undefined;
}

/** The state carried by a `next` link: the search as applied and where the page starts. */
interface PageState {
  t: string;
  p: Array<[string, string]>;
  o: number;
}

/**
 * One simulated EHR: a FHIR R4 JSON server over an in-memory store, with the profile's
 * capabilities, optional SMART bearer auth, injectable faults and a log of requests.
 */
export class SimulatedEhr extends FaultableServer {
  readonly id: string;
  readonly name: string;
  readonly profile: EhrProfile;
  /** FHIR base URL, e.g. `http://127.0.0.1:41234/fhir/R4`. */
  baseUrl = '';
  /** FHIR Bulk Data `Patient/$export`; its `settings` may be changed at run time (e.g. `enabled = false`). */
  readonly bulkExport: BulkExportServer;
  private readonly store: FhirStore;
  /** Rest-hook subscriptions (R4 Backport), when the profile offers them. */
  readonly restHooks = new RestHookNotifier();
  private readonly basePath: string;
  private readonly opts: SimulatedEhrOptions;

  private constructor(opts: SimulatedEhrOptions) {
    super(opts.host);
    this.opts = opts;
    this.id = opts.id;
    this.name = opts.name;
    this.profile = opts.profile;
    this.store = opts.store;
    this.bulkExport = new BulkExportServer(opts.store, () => this.baseUrl, () => this.profile);
    this.basePath = (opts.basePath ?? '/fhir/R4').replace(/\/$/, '');
  }

  /** Starts the server. */
  static async start(opts: SimulatedEhrOptions): Promise<SimulatedEhr> {
    const ehr = new SimulatedEhr(opts);
    await ehr.listen(opts.port ?? 0);
    ehr.baseUrl = `${ehr.origin}${ehr.basePath}`;
    return ehr;
  }

  /**
   * Writes a resource as FHIR create (no id) or update would, without HTTP: for tests and
   * benchmarks that make events. Subscribers are notified as for an HTTP write.
   */
  write(resource: FhirResource): FhirResource {
    const { stored } = this.store.put(resource);
    if (this.profile.restHookSubscriptions) this.restHooks.notify(stored, this.baseUrl);
    return stored;
  }

  /** Forgets every recorded request. */
  resetRequests(): void {
    this.requests.reset();
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    const rel = url.pathname.startsWith(this.basePath + '/') || url.pathname === this.basePath ? url.pathname.slice(this.basePath.length) || '/' : undefined;
    const segs = (rel ?? '').split('/').filter(Boolean);
    const resourceType = segs[0] && (isServedType(segs[0]) || segs[0] === 'Subscription') ? segs[0] : undefined;
    const rec = this.requests.add({
      method,
      path: rel ?? url.pathname,
      interaction: interactionOf(method, segs),
      ...(resourceType && { resourceType }),
      ...(segs.length === 2 && segs[1] !== '_search' && { id: segs[1] }),
      params: [...url.searchParams],
      time: Date.now(),
      status: 0,
    });
    const finish = (status: number): void => {
      rec.status = status;
      rec.durationMs = performance.now() - started;
    };
    const sendJson = (status: number, body: string, headers: Record<string, string | number> = {}): void => {
      finish(status);
      res.writeHead(status, { 'content-type': FHIR_JSON, 'content-length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    const sendOutcome = (status: number, code: string, text: string, headers: Record<string, string | number> = {}): void =>
      sendJson(status, JSON.stringify(operationOutcome(code, text)), headers);

    try {
      const decision = this.faults.decide({ path: rel ?? url.pathname, resourceType });
      const latency = this.profile.latencyMs + decision.latencyMs;
      if (latency > 0) await sleep(latency);
      switch (decision.action) {
        case 'reset':
          rec.fault = 'reset';
          finish(0);
          req.socket.destroy();
          return;
        case 'hang':
          rec.fault = 'hang';
          // Answer nothing; the socket is destroyed when the client aborts or on close().
          return;
        case 'down-503':
          rec.fault = 'down-503';
          return sendOutcome(503, 'transient', 'Service unavailable');
        case 'rate-limit':
          rec.fault = 'rate-limit';
          return sendOutcome(429, 'throttled', 'Too many requests', { 'retry-after': String(decision.retryAfterSec ?? 1) });
        case 'status':
          rec.fault = 'status';
          return sendOutcome(decision.status!, decision.status! >= 500 ? 'exception' : 'processing', `Simulated HTTP ${decision.status}`);
        case 'corrupt': {
          rec.fault = 'corrupt';
          const asked = (url.searchParams.get('patient') ?? url.searchParams.get('subject') ?? '').split(',')[0]!.replace(/^Patient\//, '');
          const [status, type, body] = corruptBody(decision.corrupt!, this.baseUrl, resourceType ?? 'Observation', asked);
          finish(status);
          res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
          res.end(body);
          return;
        }
      }

      if (rel === undefined) return sendOutcome(404, 'not-found', `No FHIR endpoint at this path; the base is ${this.basePath}`);
      if (segs.length === 1 && segs[0] === 'metadata' && method === 'GET') {
        const cs = buildCapabilityStatement({
          name: this.name,
          baseUrl: this.baseUrl,
          profile: this.profile,
          tokenUrl: this.opts.tokenUrl,
          types: this.store.types(),
          bulkExport: this.bulkExport.settings.enabled,
          ...(this.profile.restHookSubscriptions && { subscriptionTopics: [SANDBOX_TOPIC] }),
        });
        return sendJson(200, JSON.stringify(cs));
      }
      if (segs.length === 2 && segs[0] === '.well-known' && segs[1] === 'smart-configuration' && method === 'GET') {
        return sendJson(200, JSON.stringify(this.smartConfiguration()), { 'content-type': 'application/json' });
      }

      if (this.bulkExport.handles(segs)) {
        rec.interaction = 'other';
        delete rec.id;
        if (this.profile.requireAuth) {
          const grant = this.authorize(req);
          if (!grant) return sendOutcome(401, 'login', 'A valid bearer token is required', { 'www-authenticate': 'Bearer realm="fhir"' });
          if (!scopesAllow(grant.scopes, 'Patient', 'search')) return sendOutcome(403, 'forbidden', "The token's scopes do not allow export");
        }
        const out = this.bulkExport.handle({ method, segs, params: rec.params, accept: req.headers.accept, prefer: String(req.headers.prefer ?? '') });
        finish(out.status);
        res.writeHead(out.status, { ...out.headers, 'content-length': Buffer.byteLength(out.body) });
        res.end(out.body);
        return;
      }
      if (segs.length === 0 && method === 'POST' && this.profile.batch) {
        rec.interaction = 'batch';
        return await this.answerBatch(req, rec, sendJson, sendOutcome);
      }
      if (segs.length === 0) return sendOutcome(404, 'not-supported', 'Batch and system-level search are not supported');
      if (!resourceType) return sendOutcome(404, 'not-supported', `Resource type "${segs[0]}" is not supported`);
      const isSearch = segs.length === 1 || (segs.length === 2 && segs[1] === '_search');
      if (this.profile.requireAuth) {
        const grant = this.authorize(req);
        if (!grant) return sendOutcome(401, 'login', 'A valid bearer token is required', { 'www-authenticate': 'Bearer realm="fhir"' });
        const want = req.method === 'POST' && segs.length === 1 ? 'create' : req.method === 'PUT' || req.method === 'DELETE' ? 'update' : isSearch ? 'search' : 'read';
        if (!scopesAllow(grant.scopes, resourceType, want)) {
          return sendOutcome(403, 'forbidden', `The token's scopes do not allow this on ${resourceType}`);
        }
      }

      if (segs.length === 2 && segs[1] === '_search') {
        if (method !== 'POST') return sendOutcome(405, 'not-supported', '_search takes POST');
        if (!this.profile.postSearch) return sendOutcome(405, 'not-supported', 'POST _search is not supported by this server');
        const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        if (ct !== 'application/x-www-form-urlencoded') return sendOutcome(415, 'not-supported', 'POST _search takes an application/x-www-form-urlencoded body');
        const body = [...new URLSearchParams(await readBody(req, 1024 * 1024))];
        rec.params = [...rec.params, ...body];
        if (this.refusesWithoutPatient(resourceType, rec.params)) return sendOutcome(403, 'forbidden', `Searches of ${resourceType} must name a patient on this server`);
        return this.answerSearch(resourceType, rec.params, rec, sendJson);
      }
      if ((method === 'POST' && segs.length === 1) || (method === 'PUT' && segs.length === 2) || (method === 'DELETE' && segs.length === 2 && resourceType === 'Subscription')) {
        return await this.answerWrite(req, method, resourceType, segs[1], rec, sendJson, sendOutcome);
      }
      if (method !== 'GET') return sendOutcome(405, 'not-supported', `${method} is not supported`);
      if (segs.length === 1 && this.refusesWithoutPatient(resourceType, rec.params)) {
        return sendOutcome(403, 'forbidden', `Searches of ${resourceType} must name a patient on this server`);
      }
      if (segs.length === 1) return this.answerSearch(resourceType, rec.params, rec, sendJson, req.url ?? '');
      if (resourceType === 'Subscription') {
        const found = this.profile.restHookSubscriptions && segs.length === 2 ? this.restHooks.read(segs[1]) : undefined;
        return found ? sendJson(200, JSON.stringify(found)) : sendOutcome(404, 'not-found', 'Unknown subscription');
      }
      if (segs.length === 2) {
        if (!ID_RE.test(segs[1])) return sendOutcome(400, 'invalid', 'Invalid resource id');
        const found = this.store.read(resourceType, segs[1]);
        if (!found) return sendOutcome(404, 'not-found', `${resourceType}/${segs[1]} is not known`);
        const r = this.profile.misbehave?.readOtherId && found.resourceType === 'Patient' ? otherPatientRecord(found) : found;
        return sendJson(200, resourceJson(r), {
          etag: `W/"${r.meta?.versionId ?? '1'}"`,
          ...(r.meta?.lastUpdated && { 'last-modified': new Date(r.meta.lastUpdated).toUTCString() }),
        });
      }
      return sendOutcome(404, 'not-supported', 'Operations and history are not supported');
    } catch (e) {
      if (e instanceof SearchInputError) return sendOutcome(e.status, e.issueCode, e.message);
      if (e instanceof BodyTooLargeError) return sendOutcome(413, 'too-costly', e.message);
      if (!res.headersSent && !res.destroyed) sendOutcome(500, 'exception', 'Internal error in the simulator');
    }
  }

  /** With `searchNeedsPatient`: a search of a patient's data that names no patient (a next page carries its search). */
  private refusesWithoutPatient(type: string, params: ReadonlyArray<readonly [string, string]>): boolean {
    if (!this.profile.searchNeedsPatient || !PATIENT_DATA_TYPES.has(type)) return false;
    return !params.some(([k]) => k === PAGE_PARAM || ['patient', 'subject', 'beneficiary', '_id'].includes(k.split(':')[0]!));
  }

  /**
   * A FHIR `batch` Bundle (R4 3.1.0.11): each GET entry (a search or a read) answered as if
   * asked alone, in a `batch-response` in the same order, each entry with its
   * `response.status` and resource (a searchset with `next` links, or the resource read).
   */
  private async answerBatch(
    req: IncomingMessage,
    rec: RecordedRequest,
    sendJson: (status: number, body: string) => void,
    sendOutcome: (status: number, code: string, text: string, headers?: Record<string, string | number>) => void,
  ): Promise<void> {
    const grant = this.profile.requireAuth ? this.authorize(req) : undefined;
    if (this.profile.requireAuth && !grant) return sendOutcome(401, 'login', 'A valid bearer token is required', { 'www-authenticate': 'Bearer realm="fhir"' });
    let bundle: { resourceType?: unknown; type?: unknown; entry?: unknown };
    try {
      bundle = JSON.parse(await readBody(req, 4 * 1024 * 1024)) as typeof bundle;
    } catch (e) {
      if (e instanceof BodyTooLargeError) throw e;
      return sendOutcome(400, 'structure', 'The body is not JSON');
    }
    if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'batch' || !Array.isArray(bundle.entry)) {
      return sendOutcome(400, 'invalid', 'POST to the base takes a Bundle of type batch');
    }
    rec.batchEntries = [];
    const parts: string[] = [];
    for (const entry of bundle.entry as Array<{ request?: { method?: unknown; url?: unknown } }>) {
      const answer = this.answerBatchEntry(entry?.request, grant);
      rec.batchEntries.push(answer.log);
      parts.push(`{"response":{"status":${JSON.stringify(answer.statusLine)}},"resource":${answer.body}}`);
    }
    const head = JSON.stringify({ resourceType: 'Bundle', id: randomUUID(), type: 'batch-response' });
    sendJson(200, `${head.slice(0, -1)},"entry":[${parts.join(',')}]}`);
  }

  private answerBatchEntry(
    request: { method?: unknown; url?: unknown } | undefined,
    grant: IssuedToken | undefined,
  ): { statusLine: string; body: string; log: NonNullable<RecordedRequest['batchEntries']>[number] } {
    const outcome = (status: number, code: string, text: string) => ({
      statusLine: `${status}`,
      body: JSON.stringify(operationOutcome(code, text)),
      log: { status },
    });
    if (request?.method !== 'GET' || typeof request.url !== 'string') return outcome(400, 'not-supported', 'Only GET entries are supported in a batch');
    const url = new URL(request.url.replace(/^\/+/, ''), `${this.baseUrl}/`);
    const rel = url.pathname.startsWith(this.basePath + '/') ? url.pathname.slice(this.basePath.length) : undefined;
    const segs = (rel ?? '').split('/').filter(Boolean);
    const type = segs[0] && isServedType(segs[0]) ? segs[0] : undefined;
    const params = [...url.searchParams] as Array<[string, string]>;
    if (!type) return outcome(404, 'not-supported', 'Resource type is not supported');
    if (this.profile.requireAuth && !scopesAllow(grant!.scopes, type, segs.length === 1 ? 'search' : 'read')) {
      return { ...outcome(403, 'forbidden', `The token's scopes do not allow this on ${type}`), log: { resourceType: type, status: 403 } };
    }
    try {
      if (segs.length === 1) {
        let body = '';
        let status = 200;
        const sub = { ...({} as RecordedRequest), params };
        this.answerSearch(type, params, sub, (s, b) => {
          status = s;
          body = b;
        });
        return { statusLine: `${status} OK`, body, log: { resourceType: type, params, status } };
      }
      if (segs.length === 2 && ID_RE.test(segs[1])) {
        const r = this.store.read(type, segs[1]);
        if (!r) return { ...outcome(404, 'not-found', `${type}/${segs[1]} is not known`), log: { resourceType: type, id: segs[1], status: 404 } };
        return { statusLine: '200 OK', body: resourceJson(r), log: { resourceType: type, id: segs[1], status: 200 } };
      }
      return outcome(400, 'not-supported', 'Only searches and reads are supported in a batch');
    } catch (e) {
      if (e instanceof SearchInputError) return { ...outcome(e.status, e.issueCode, e.message), log: { resourceType: type, params, status: e.status } };
      throw e;
    }
  }


  /** FHIR create (POST [type]), update (PUT [type]/[id]) and, for Subscriptions, delete. */
  private async answerWrite(
    req: IncomingMessage,
    method: string,
    type: string,
    id: string | undefined,
    rec: RecordedRequest,
    send: (status: number, body: string, headers?: Record<string, string | number>) => void,
    outcome: (status: number, code: string, text: string) => void,
  ): Promise<void> {
    rec.interaction = method === 'POST' ? 'create' : 'update';
    if (!this.profile.writes) return outcome(405, 'not-supported', 'This server is read-only');
    if (id !== undefined && !ID_RE.test(id)) return outcome(400, 'invalid', 'Invalid resource id');
    if (type === 'Subscription') {
      if (!this.profile.restHookSubscriptions) return outcome(405, 'not-supported', 'Subscriptions are not supported by this server');
      if (method === 'DELETE') return this.restHooks.unsubscribe(id!) ? send(204, '') : outcome(404, 'not-found', 'Unknown subscription');
    } else if (method === 'DELETE') {
      return outcome(405, 'not-supported', 'Delete is not supported');
    }
    const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (ct !== 'application/fhir+json' && ct !== 'application/json') return outcome(415, 'not-supported', 'Send application/fhir+json');
    let body: Record<string, any>;
    try {
      body = JSON.parse(await readBody(req, 1024 * 1024)) as Record<string, any>;
    } catch (e) {
      if (e instanceof BodyTooLargeError) throw e;
      return outcome(400, 'structure', 'The body is not JSON');
    }
    if (typeof body !== 'object' || body === null || body.resourceType !== type) return outcome(400, 'invalid', `The body must be a ${type} resource`);
    if (method === 'PUT' && body.id !== id) return outcome(400, 'invalid', 'The resource id must match the URL');
    if (type === 'Subscription') {
      const made = this.restHooks.subscribe(body);
      if ('error' in made) return outcome(422, 'processing', made.error);
      return send(201, JSON.stringify(made.resource), { location: `${this.baseUrl}/Subscription/${made.resource.id}/_history/1` });
    }
    const { id: _ignored, ...rest } = body;
    const { stored, created } = this.store.put((method === 'POST' ? rest : body) as FhirResource);
    if (this.profile.restHookSubscriptions) this.restHooks.notify(stored, this.baseUrl);
    rec.id = stored.id;
    send(created ? 201 : 200, JSON.stringify(stored), {
      location: `${this.baseUrl}/${type}/${stored.id}/_history/${stored.meta?.versionId ?? '1'}`,
      etag: `W/"${stored.meta?.versionId ?? '1'}"`,
    });
  }


  private answerSearch(
    type: string,
    params: Array<[string, string]>,
    rec: RecordedRequest,
    send: (status: number, body: string) => void,
    requestPath = '',
  ): void {
    let offset = 0;
    let applied: ReadonlyArray<readonly [string, string]> = params;
    const token = params.find(([k]) => k === PAGE_PARAM)?.[1];
    if (token !== undefined) {
      const state = decodePageToken(token);
      if (!state || state.t !== type) throw new SearchInputError('The page token is invalid or belongs to another search');
      offset = state.o;
      applied = state.p;
      rec.page = true;
    }
    const result = this.store.search(type, applied, this.profile);
    if (result.ignored.length) rec.ignoredParams = result.ignored;
    const total = result.matches.length;
    const page = result.count === 0 ? [] : result.matches.slice(offset, offset + result.count);
    const selfUrl =
      token !== undefined ? `${this.baseUrl}/${type}?${new URLSearchParams([[PAGE_PARAM, token]])}` : `${this.baseUrl}/${type}${query(result.used)}`;
    const links: Array<{ relation: string; url: string }> = [{ relation: 'self', url: selfUrl }];
    if (result.count > 0 && offset + result.count < total) {
      const next = encodePageToken({ t: type, p: result.used, o: offset + result.count });
      links.push({ relation: 'next', url: `${this.baseUrl}/${type}?${new URLSearchParams([[PAGE_PARAM, next]])}` });
    }
    // Built as text so each resource is serialised once per process, not once per answer.
    const variants = this.profile.misbehave?.unitVariants;
    const shown = variants ? page.map((r) => withUnitVariants(r, variants)) : page;
    const entries = shown.map((r) => `{"fullUrl":${JSON.stringify(`${this.baseUrl}/${r.resourceType}/${r.id}`)},"resource":${resourceJson(r)},"search":{"mode":"match"}}`);
    if (this.profile.misbehave) {
      misbehavePage(this.profile.misbehave, {
        type,
        asked: askedIds(type, applied),
        entries,
        links,
        first: offset === 0,
        last: !links.some((l) => l.relation === 'next'),
        requestUrl: `${this.origin}${requestPath}`,
        baseUrl: this.baseUrl,
      });
    }
    const head = {
      resourceType: 'Bundle',
      id: randomUUID(),
      meta: { lastUpdated: new Date().toISOString() },
      type: 'searchset',
      total,
      link: links,
    };
    const json = JSON.stringify(head);
    send(200, entries.length ? `${json.slice(0, -1)},"entry":[${entries.join(',')}]}` : json);
  }

  private authorize(req: IncomingMessage): IssuedToken | undefined {
    const h = req.headers.authorization;
    const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
    if (!m || !this.opts.validateToken) return undefined;
    return this.opts.validateToken(m[1]);
  }

  private smartConfiguration(): Record<string, unknown> {
    return {
      token_endpoint: this.opts.tokenUrl,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: [...SMART_ASSERTION_ALGS],
      scopes_supported: ['system/*.rs', 'system/*.read'],
      capabilities: ['client-confidential-asymmetric'],
    };
  }
}

function interactionOf(method: string, segs: string[]): RecordedRequest['interaction'] {
  if (segs.length === 1 && segs[0] === 'metadata') return 'capabilities';
  if (segs[0] === '.well-known') return 'smart-configuration';
  if (segs.length === 1 || (segs.length === 2 && segs[1] === '_search' && method === 'POST')) return 'search';
  if (segs.length === 2) return 'read';
  return 'other';
}

/** The patient ids a search names (patient, subject, beneficiary or _id; comma OR lists split). */
function askedIds(type: string, params: ReadonlyArray<readonly [string, string]>): string[] {
  const names = type === 'Patient' ? ['_id'] : ['patient', 'subject', 'beneficiary'];
  const value = params.find(([k]) => names.includes(k))?.[1];
  return value ? value.split(',').map((v) => v.replace(/^Patient\//, '')) : [];
}

function query(params: ReadonlyArray<readonly [string, string]>): string {
  const s = new URLSearchParams(params as Array<[string, string]>).toString();
  return s ? `?${s}` : '';
}

function encodePageToken(state: PageState): string {
  return Buffer.from(JSON.stringify(state)).toString('base64url');
}

function decodePageToken(token: string): PageState | undefined {
  try {
    const s = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as PageState;
    if (typeof s.t !== 'string' || !Array.isArray(s.p) || !Number.isInteger(s.o) || s.o < 0) return undefined;
    return s;
  } catch {
    return undefined;
  }
}

const jsonCache = new WeakMap<FhirResource, string>();

/** The JSON text of a resource, computed once (store resources are never mutated). */
function resourceJson(r: FhirResource): string {
  let s = jsonCache.get(r);
  if (s === undefined) {
    s = JSON.stringify(r);
    jsonCache.set(r, s);
  }
  return s;
}

/** The broken 200 answers of the `corrupt` fault. */
function corruptBody(kind: NonNullable<FaultRule['corrupt']>, baseUrl: string, type: string, patientId: string): [number, string, string] {
  if (kind === 'malformed-json') return [200, FHIR_JSON, '{"resourceType":"Bundle","type":"searchset","entry":[{"resource":'];
  if (kind === 'truncated') return [200, FHIR_JSON, JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: 1, entry: [] }).slice(0, 30)];
  if (kind === 'html') return [200, 'text/html; charset=utf-8', '<!doctype html><title>Maintenance</title><p>Back soon.</p>'];
  if (kind === 'operation-outcome') return [200, FHIR_JSON, JSON.stringify(operationOutcome('too-costly', 'Search too broad'))];
  const entries = Array.from({ length: kind.bundleEntries }, (_, i) => ({
    fullUrl: `${baseUrl}/${type}/big-${i}`,
    // Well-formed items of the patient asked: the fault is the size, nothing else.
    resource: { resourceType: type, id: `big-${i}`, status: 'final', code: { text: 'Filler' }, ...(patientId && { subject: { reference: `Patient/${patientId}` } }) },
    search: { mode: 'match' },
  }));
  return [200, FHIR_JSON, JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: entries.length, entry: entries })];
}
