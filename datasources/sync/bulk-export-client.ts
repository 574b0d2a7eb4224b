import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamError } from '../../errors/errors.js';
import type { FhirResource } from '../fhir/fhir-types.js';
import { buildSearchQuery } from '../fhir/search-params.js';
import { errorStatus, isObject, parseRetryAfter, statusError, toUpstreamError, tryParseJson } from '../fhir/upstream-http.js';
import { parseNdjson } from './ndjson.js';
import type { SourceHttp } from './source-http.js';

/** One NDJSON file of a Bulk Data manifest. */
export interface ExportOutput {
  type: string;
  url: string;
  count?: number;
}

/** The completed export's manifest (Bulk Data Access v2), as far as the sync needs it. */
export interface ExportManifest {
  /** Server time the export's data is current to: the `_since` of the next incremental export. */
  transactionTime?: string;
  requiresAccessToken: boolean;
  output: ExportOutput[];
  /** The `_type` list of the kick-off, from the manifest's `request` URL; undefined when it does not say. */
  requestedTypes?: string[];
}

/** How often to poll an export's status URL. */
export interface PollOptions {
  /** Lower bound of the wait between polls, whatever `Retry-After` says (ms). */
  minMs: number;
  /** Upper bound of the wait between polls (ms). */
  maxMs: number;
}

/** Polls at least 1 s apart and at most 2 min apart. */
export const DEFAULT_POLL: PollOptions = { minMs: 1_000, maxMs: 120_000 };

const PATIENT_EXPORT = /(^|\/)patient-export$/;

/**
 * Whether a CapabilityStatement offers patient-level Bulk Data export: an operation named
 * `export` (or `patient-export`) on the Patient resource, or at the rest level (where a
 * server lists its export operations without naming the level).
 */
export function offersPatientExport(statement: unknown): boolean {
  if (!isObject(statement) || !Array.isArray(statement.rest)) return false;
  const isExport = (op: unknown) =>
    isObject(op) && (op.name === 'export' || op.name === 'patient-export' || (typeof op.definition === 'string' && PATIENT_EXPORT.test(op.definition)));
  for (const rest of statement.rest.filter(isObject)) {
    if (rest.mode !== undefined && rest.mode !== 'server') continue;
    if (Array.isArray(rest.operation) && rest.operation.some(isExport)) return true;
    const patient = Array.isArray(rest.resource) ? rest.resource.filter(isObject).find((r) => r.type === 'Patient') : undefined;
    if (patient && Array.isArray(patient.operation) && patient.operation.some(isExport)) return true;
  }
  return false;
}

/**
 * Kicks off `GET [base]/Patient/$export?_type=Patient[,<alsoTypes>][&_since=...]` and returns
 * the status URL from `Content-Location`.
 * @throws UpstreamError when the server does not answer 202 with a status URL.
 */
export async function kickOffPatientExport(http: SourceHttp, opts: { since?: Date | null; alsoTypes?: readonly string[]; signal?: AbortSignal } = {}): Promise<string> {
  const params: Array<[string, string]> = [['_type', ['Patient', ...(opts.alsoTypes ?? [])].join(',')]];
  if (opts.since) params.push(['_since', opts.since.toISOString()]);
  const url = new URL(`${http.base}/Patient/$export?${buildSearchQuery(params)}`);
  const res = await http.request(url, { signal: opts.signal, headers: { accept: 'application/fhir+json', prefer: 'respond-async' } });
  if (res.status !== 202) {
    if (res.status >= 200 && res.status < 300) throw new UpstreamError(http.sourceId, 'UPSTREAM_UNAVAILABLE', { status: res.status, reason: 'export kick-off did not answer 202' });
    throw statusError(http.sourceId, res);
  }
  const location = res.headers.get('content-location');
  if (!location) throw new UpstreamError(http.sourceId, 'UPSTREAM_UNAVAILABLE', { status: 202, reason: 'export kick-off gave no Content-Location' });
  return http.resolve(location, 'export status URL').href;
}

/** True for the error of a status URL the server no longer knows (expired or deleted job). */
export function isExportJobGone(err: unknown): boolean {
  return err instanceof UpstreamError && [404, 410].includes(errorStatus(err) ?? 0);
}

/**
 * Polls the status URL until the export is complete and returns its manifest. 202 answers
 * wait `Retry-After` (clamped to `poll`), 429 waits likewise; every other status fails.
 * @throws UpstreamError (see {@link isExportJobGone} for an expired job)
 */
export async function waitForExport(
  http: SourceHttp,
  statusUrl: string,
  opts: { signal?: AbortSignal; poll?: PollOptions; onProgress?: (text: string) => void } = {},
): Promise<ExportManifest> {
  const poll = opts.poll ?? DEFAULT_POLL;
  const url = http.resolve(statusUrl, 'export status URL');
  let fallbackWait = poll.minMs;
  for (;;) {
    const res = await http.request(url, { signal: opts.signal, headers: { accept: 'application/json' } });
    if (res.status === 200) return readManifest(http, res.body);
    if (res.status !== 202 && res.status !== 429) throw statusError(http.sourceId, res);
    const progress = res.headers.get('x-progress');
    // Free text from the server: shown on the terminal only, shortened.
    if (progress) opts.onProgress?.(progress.slice(0, 40));
    const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
    const wait = retryAfter !== undefined ? retryAfter * 1000 : fallbackWait;
    fallbackWait = Math.min(poll.maxMs, fallbackWait * 2);
    try {
      await sleep(Math.min(poll.maxMs, Math.max(poll.minMs, wait)), undefined, { signal: opts.signal });
    } catch (err) {
      throw toUpstreamError(http.sourceId, err, opts.signal);
    }
  }
}

function readManifest(http: SourceHttp, body: string): ExportManifest {
  const m = tryParseJson(body);
  if (!isObject(m) || !Array.isArray(m.output)) throw new UpstreamError(http.sourceId, 'UPSTREAM_UNAVAILABLE', { status: 200, reason: 'export manifest is malformed' });
  const output: ExportOutput[] = [];
  for (const o of m.output) {
    if (!isObject(o) || typeof o.url !== 'string' || typeof o.type !== 'string') {
      throw new UpstreamError(http.sourceId, 'UPSTREAM_UNAVAILABLE', { status: 200, reason: 'export manifest has a malformed output entry' });
    }
    output.push({ type: o.type, url: o.url, ...(typeof o.count === 'number' && { count: o.count }) });
  }
  const requestedTypes = typeof m.request === 'string' ? typesOfRequest(m.request) : undefined;
  return {
    ...(typeof m.transactionTime === 'string' && !Number.isNaN(Date.parse(m.transactionTime)) && { transactionTime: m.transactionTime }),
    ...(requestedTypes && { requestedTypes }),
    requiresAccessToken: m.requiresAccessToken === true,
    output,
  };
}

/** The `_type` list of a kick-off URL; undefined when it is no URL or names no types. */
function typesOfRequest(request: string): string[] | undefined {
  try {
    const types = new URL(request).searchParams.getAll('_type').flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
    return types.length > 0 ? types : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Streams the resources of one manifest file. Files may live on another origin (object
 * storage); the token goes there only when the manifest says it is required.
 * @throws UpstreamError
 */
export async function* exportFileResources(
  http: SourceHttp,
  file: ExportOutput,
  manifest: ExportManifest,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): AsyncGenerator<FhirResource> {
  const url = http.resolve(file.url, 'export file URL', false);
  const { response, signal } = await http.open(url, {
    signal: opts.signal,
    timeoutMs: opts.timeoutMs,
    tokenElsewhere: manifest.requiresAccessToken,
    headers: { accept: 'application/fhir+ndjson' },
  });
  if (response.status !== 200 || !response.body) {
    const body = await response.text().catch(() => '');
    throw statusError(http.sourceId, { status: response.status === 200 ? 502 : response.status, headers: response.headers, body });
  }
  try {
    yield* parseNdjson(response.body, http.sourceId);
  } catch (err) {
    throw toUpstreamError(http.sourceId, err, signal);
  }
}

/** Tells the server the job's files are no longer needed (`DELETE` on the status URL). Best effort. */
export async function deleteExportJob(http: SourceHttp, statusUrl: string, signal?: AbortSignal): Promise<void> {
  try {
    await http.request(http.resolve(statusUrl, 'export status URL'), { method: 'DELETE', signal });
  } catch {
    // The files expire on the server anyway.
  }
}
