/**
 * A small FHIR R4 server for the datasource tests: a real HTTP peer on 127.0.0.1 (port 0)
 * with real paging links, switchable comma-OR support, a CapabilityStatement, a SMART
 * Backend Services token endpoint that verifies the client assertion, injectable faults,
 * and a log of every request. It knows a handful of search parameters (patient/subject/
 * beneficiary, _id, identifier, code, category, _count) and ignores the rest, as a
 * lenient server would. Its value parsing is written here on purpose, not borrowed from
 * the code under test.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify, decodeProtectedHeader, type CryptoKey, type JWK, type KeyObject } from 'jose';
import type { FhirResource } from '../../datasources/fhir/fhir-types.js';

/** One request as the server saw it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query. */
  path: string;
  /** Path and query as received. */
  url: string;
  query: URLSearchParams;
  kind: 'metadata' | 'token' | 'search' | 'read' | 'other';
  resourceType?: string;
  authorization?: string;
  status?: number;
}

/** A fault injected into one answer. */
export interface Fault {
  status?: number;
  /** Object bodies are sent as JSON; strings as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Extra wait before answering. */
  latencyMs?: number;
  /** Never answer (until the server closes). */
  hang?: boolean;
}

/** SMART Backend Services settings of the token endpoint. */
export interface TestAuthOptions {
  clientId: string;
  /** The client's public key (what it registered with the EHR). */
  publicKey: CryptoKey | KeyObject | JWK | Uint8Array;
  alg: 'RS384' | 'ES384';
  /** `expires_in` of issued tokens (default 300). */
  expiresIn?: number;
}

export interface FhirTestServerOptions {
  /** Everything the server holds. */
  resources?: FhirResource[];
  /** Accept comma-OR lists on patient, subject, beneficiary, _id and identifier (and say so in /metadata). */
  orSearch?: boolean;
  /** Largest `_count` honoured (and advertised). Default 50. */
  maxCount?: number;
  /** Advertise the `search-type` interaction. Default true. */
  searchType?: boolean;
  /** Page size when the client sends no `_count`. Default 20. */
  defaultCount?: number;
  /** How `next` links are written. Default relative. */
  linkStyle?: 'relative' | 'absolute';
  /** Base path of the FHIR endpoint. Default `/fhir/R4`. */
  basePath?: string;
  /** Require tokens from this server's token endpoint on FHIR requests. */
  auth?: TestAuthOptions;
  /** Require this static bearer token on FHIR requests. */
  bearerToken?: string;
  /** Wait before answering every search and read. */
  latencyMs?: number;
  /** Leave the max-count and search-multiple-or extensions out of /metadata. */
  bareMetadata?: boolean;
}

export interface FhirTestServer {
  /** FHIR base URL, e.g. `http://127.0.0.1:41234/fhir/R4`. */
  readonly baseUrl: string;
  readonly tokenUrl: string;
  readonly origin: string;
  /** Options, changeable between tests. */
  readonly options: FhirTestServerOptions;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Decoded protected headers of the verified client assertions. */
  readonly assertionHeaders: Record<string, unknown>[];
  /** Searches and reads in flight right now, and the most seen at once. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Return a Fault to break the answer to a request; undefined to answer normally. */
  fault: ((req: RecordedRequest) => Fault | undefined) | undefined;
  /** Forget every issued token, so the next FHIR request with one gets 401. */
  revokeTokens(): void;
  /** Clears the request log and the in-flight maximum. */
  resetLog(): void;
  /** Requests of one kind (and resource type). */
  requestsOf(kind: RecordedRequest['kind'], resourceType?: string): RecordedRequest[];
  close(): Promise<void>;
}

const OR_PARAMS = new Set(['patient', 'subject', 'beneficiary', '_id', 'identifier']);

/** Starts a server; close it in `afterAll`/`afterEach`. */
export async function startFhirTestServer(options: FhirTestServerOptions = {}): Promise<FhirTestServer> {
  const requests: RecordedRequest[] = [];
  const assertionHeaders: Record<string, unknown>[] = [];
  const tokens = new Set<string>();
  const seenJti = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  let maxInFlight = 0;
  let origin = '';

  const state: FhirTestServer = {
    get baseUrl() {
      return `${origin}${basePath()}`;
    },
    get tokenUrl() {
      return `${origin}/auth/token`;
    },
    get origin() {
      return origin;
    },
    options,
    requests,
    assertionHeaders,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    fault: undefined,
    revokeTokens: () => tokens.clear(),
    resetLog: () => {
      requests.length = 0;
      maxInFlight = inFlight;
    },
    requestsOf: (kind, resourceType) =>
      requests.filter((r) => r.kind === kind && (resourceType === undefined || r.resourceType === resourceType)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  function basePath(): string {
    return options.basePath ?? '/fhir/R4';
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  function send(res: ServerResponse, rec: RecordedRequest, status: number, body: unknown, headers: Record<string, string> = {}) {
    rec.status = status;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
    res.end(text);
  }

  function classify(req: IncomingMessage, url: URL): RecordedRequest {
    const path = url.pathname;
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      url: `${path}${url.search}`,
      query: url.searchParams,
      kind: 'other',
      ...(req.headers.authorization !== undefined && { authorization: req.headers.authorization }),
    };
    if (path === '/auth/token') rec.kind = 'token';
    else if (path.startsWith(`${basePath()}/`)) {
      const parts = path.slice(basePath().length + 1).split('/');
      if (parts.length === 1 && parts[0] === 'metadata') rec.kind = 'metadata';
      else if (parts.length === 1 && parts[0] !== '') {
        rec.kind = 'search';
        rec.resourceType = parts[0];
      } else if (parts.length === 2) {
        rec.kind = 'read';
        rec.resourceType = parts[0];
      }
    }
    return rec;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', origin);
    const rec = classify(req, url);
    requests.push(rec);
    const body = await readBody(req);
    const counted = rec.kind === 'search' || rec.kind === 'read';
    if (counted) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
    }
    res.on('close', () => {
      if (counted) inFlight--;
    });

    const fault = state.fault?.(rec);
    if (fault?.hang) return;
    if (fault?.latencyMs) await sleep(fault.latencyMs);
    if (counted && options.latencyMs) await sleep(options.latencyMs);
    if (fault && (fault.status !== undefined || fault.body !== undefined)) {
      return send(res, rec, fault.status ?? 200, fault.body ?? '', fault.headers);
    }

    switch (rec.kind) {
      case 'metadata':
        return send(res, rec, 200, capabilityStatement());
      case 'token':
        return tokenEndpoint(res, rec, body);
      case 'search':
      case 'read': {
        if (!authorised(rec)) return send(res, rec, 401, outcome('error', 'login'), { 'www-authenticate': 'Bearer' });
        return rec.kind === 'search' ? search(res, rec, url) : read(res, rec);
      }
      default:
        return send(res, rec, 404, outcome('error', 'not-found'));
    }
  }

  function authorised(rec: RecordedRequest): boolean {
    const presented = /^Bearer (.+)$/.exec(rec.authorization ?? '')?.[1];
    if (options.bearerToken !== undefined && presented !== options.bearerToken) return false;
    if (options.auth && (presented === undefined || !tokens.has(presented))) return false;
    return true;
  }

  async function tokenEndpoint(res: ServerResponse, rec: RecordedRequest, body: string) {
    const auth = options.auth;
    if (!auth || rec.method !== 'POST') return send(res, rec, 404, { error: 'invalid_request' });
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') return send(res, rec, 400, { error: 'unsupported_grant_type' });
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      return send(res, rec, 400, { error: 'invalid_client' });
    }
    const assertion = form.get('client_assertion') ?? '';
    try {
      const { payload } = await jwtVerify(assertion, auth.publicKey as CryptoKey, {
        issuer: auth.clientId,
        subject: auth.clientId,
        audience: state.tokenUrl,
        algorithms: [auth.alg],
        requiredClaims: ['jti', 'exp'],
      });
      if (typeof payload.jti !== 'string' || seenJti.has(payload.jti)) throw new Error('replayed jti');
      if ((payload.exp ?? 0) - Math.floor(Date.now() / 1000) > 300) throw new Error('exp too far');
      seenJti.add(payload.jti);
      assertionHeaders.push(decodeProtectedHeader(assertion) as Record<string, unknown>);
    } catch {
      return send(res, rec, 401, { error: 'invalid_client', error_description: 'assertion rejected' });
    }
    const token = randomUUID();
    tokens.add(token);
    return send(
      res,
      rec,
      200,
      { access_token: token, token_type: 'bearer', expires_in: auth.expiresIn ?? 300, scope: form.get('scope') ?? '' },
      { 'content-type': 'application/json', 'cache-control': 'no-store' },
    );
  }

  function read(res: ServerResponse, rec: RecordedRequest) {
    const id = rec.path.split('/').pop();
    const found = (options.resources ?? []).find((r) => r.resourceType === rec.resourceType && r.id === id);
    return found ? send(res, rec, 200, found) : send(res, rec, 404, outcome('error', 'not-found'));
  }

  function search(res: ServerResponse, rec: RecordedRequest, url: URL) {
    const type = rec.resourceType as string;
    let matches = (options.resources ?? []).filter((r) => r.resourceType === type);
    for (const [name, raw] of url.searchParams) {
      if (name.startsWith('_') && name !== '_id') continue;
      const values = splitOr(raw);
      if (values.length > 1 && OR_PARAMS.has(name) && !options.orSearch) {
        return send(res, rec, 400, outcome('error', 'not-supported'));
      }
      const test = matcher(name, values);
      if (test) matches = matches.filter(test);
    }
    const maxCount = options.maxCount ?? 50;
    const asked = Number(url.searchParams.get('_count') ?? options.defaultCount ?? 20);
    const count = Math.max(1, Math.min(asked, maxCount));
    const offset = Number(url.searchParams.get('_offset') ?? 0);
    const page = matches.slice(offset, offset + count);
    const link = [{ relation: 'self', url: `${state.origin}${rec.url}` }];
    if (offset + count < matches.length) {
      const next = new URLSearchParams(url.searchParams);
      next.set('_offset', String(offset + count));
      const relative = `${type}?${next.toString()}`;
      link.push({ relation: 'next', url: options.linkStyle === 'absolute' ? `${state.baseUrl}/${relative}` : relative });
    }
    return send(res, rec, 200, {
      resourceType: 'Bundle',
      type: 'searchset',
      total: matches.length,
      link,
      entry: page.map((resource) => ({ fullUrl: `${state.baseUrl}/${type}/${resource.id}`, resource, search: { mode: 'match' } })),
    });
  }

  function capabilityStatement() {
    const types = ['Patient', 'Condition', 'Observation', 'MedicationRequest', 'AllergyIntolerance', 'Immunization', 'Procedure', 'Encounter', 'DiagnosticReport', 'Coverage'];
    const bare = options.bareMetadata === true;
    const orExt = [{ url: 'https://chartgraph.dev/fhir/StructureDefinition/search-multiple-or', valueBoolean: options.orSearch === true }];
    return {
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: '2026-01-01',
      kind: 'instance',
      fhirVersion: '4.0.1',
      format: ['json'],
      software: { name: 'fhir-test-server', version: '1.0' },
      rest: [
        {
          mode: 'server',
          ...(!bare && { extension: [{ url: 'https://chartgraph.dev/fhir/StructureDefinition/max-count', valueInteger: options.maxCount ?? 50 }] }),
          resource: types.map((type) => ({
            type,
            interaction: [{ code: 'read' }, ...(options.searchType === false ? [] : [{ code: 'search-type' }])],
            searchParam:
              type === 'Patient'
                ? [{ name: '_id', type: 'token' }, { name: 'identifier', type: 'token' }]
                : [
                    { name: type === 'Coverage' ? 'beneficiary' : 'patient', type: 'reference', ...(!bare && { extension: orExt }) },
                    { name: 'code', type: 'token' },
                  ],
          })),
        },
      ],
    };
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

/** Splits on commas that no backslash escapes. */
function splitOr(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\' && i + 1 < value.length) {
      cur += value.slice(i, i + 2);
      i++;
    } else if (value[i] === ',') {
      out.push(cur);
      cur = '';
    } else cur += value[i];
  }
  out.push(cur);
  return out;
}

/** Splits a still-escaped token on its first unescaped `|`. */
function splitToken(value: string): { system?: string; code: string } {
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === '|') return { system: unescape(value.slice(0, i)), code: unescape(value.slice(i + 1)) };
  }
  return { code: unescape(value) };
}

function unescape(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

type Coding = { system?: string; code?: string; value?: string };

/** A filter for one search parameter; `raw` are the OR-ed values, still escaped. Unknown parameters: undefined (ignored). */
function matcher(name: string, raw: string[]): ((r: FhirResource) => boolean) | undefined {
  const values = raw.map(unescape);
  const field = (r: FhirResource, element: string): any => (r as unknown as Record<string, any>)[element];
  const refMatch = (r: FhirResource, element: string) => {
    const ref: unknown = field(r, element)?.reference;
    return typeof ref === 'string' && values.some((v) => ref === (v.includes('/') ? v : `Patient/${v}`));
  };
  // Tokens are split while still escaped so that `\|` inside a system stays literal.
  const tokenMatch = (codings: Coding[]) =>
    raw.some((v) => {
      const { system, code } = splitToken(v);
      return codings.some((c) => (c.code ?? c.value) === code && (system === undefined || (system === '' ? !c.system : c.system === system)));
    });
  switch (name) {
    case 'patient':
    case 'subject':
      return (r) => refMatch(r, 'subject') || refMatch(r, 'patient') || refMatch(r, 'beneficiary');
    case 'beneficiary':
      return (r) => refMatch(r, 'beneficiary');
    case '_id':
      return (r) => values.includes(r.id ?? '');
    case 'identifier':
      return (r) => tokenMatch(field(r, 'identifier') ?? []);
    case 'code':
      return (r) => tokenMatch(field(r, 'code')?.coding ?? []);
    case 'category':
      return (r) => tokenMatch((field(r, 'category') ?? []).flatMap((c: { coding?: Coding[] }) => c.coding ?? []));
    default:
      return undefined;
  }
}

export function outcome(severity: string, code: string, diagnostics = 'Patient Jane Doe (MRN 12345) not found') {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}

/** The identifier system of the MRNs that {@link makeChart} gives its patients. */
export const TEST_MRN_SYSTEM = 'urn:test:mrn';

/**
 * A synthetic chart: one Patient per id (MRN `MRN-<id>` in {@link TEST_MRN_SYSTEM}) and
 * `counts[type]` resources of each type per patient, pointing at the patient the way R4
 * does for that type (`subject`, `patient` or Coverage's `beneficiary`).
 */
const REQUIRED_ELEMENTS: Record<string, Record<string, unknown>> = {
  Observation: { status: 'final' },
  MedicationRequest: { status: 'active', intent: 'order' },
  Immunization: { status: 'completed', occurrenceDateTime: '2020-01-01' },
  Procedure: { status: 'completed' },
  Encounter: { status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' } },
  DiagnosticReport: { status: 'final' },
  Coverage: { status: 'active', payor: [{ display: 'Test Payer' }] },
};

export function makeChart(patientIds: readonly string[], counts: Partial<Record<string, number>> = {}): FhirResource[] {
  const out: FhirResource[] = [];
  for (const pid of patientIds) {
    out.push({
      resourceType: 'Patient',
      id: pid,
      identifier: [{ system: TEST_MRN_SYSTEM, value: `MRN-${pid}` }],
      name: [{ family: `Family${pid}`, given: ['Test'] }],
    } as FhirResource);
    for (const [type, n] of Object.entries(counts)) {
      for (let i = 0; i < (n ?? 0); i++) {
        const ref = { reference: `Patient/${pid}` };
        const element = type === 'Coverage' ? 'beneficiary' : type === 'AllergyIntolerance' || type === 'Immunization' ? 'patient' : 'subject';
        const code = { coding: [{ system: 'http://snomed.info/sct', code: String(1000 + i) }] };
        out.push({
          resourceType: type,
          id: `${type.toLowerCase()}-${pid}-${i}`,
          [element]: ref,
          code,
          // What FHIR R4 requires of each type, so that the gateway's validation keeps them.
          ...REQUIRED_ELEMENTS[type],
          ...(type === 'Immunization' && { vaccineCode: code }),
          ...(type === 'MedicationRequest' && { medicationCodeableConcept: code }),
        } as unknown as FhirResource);
      }
    }
  }
  return out;
}
