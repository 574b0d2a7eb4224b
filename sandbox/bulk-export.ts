import { randomUUID } from 'node:crypto';
import type { FhirResource } from '../datasources/fhir/fhir-types.js';
import type { FhirStore } from './fhir-store.js';
import { operationOutcome } from './outcome.js';
import { isServedType } from './search-params.js';

/** How the simulated EHR's FHIR Bulk Data export behaves. Read on every request: tests change it at run time. */
export interface BulkExportSettings {
  /** `Patient/$export` is offered (and advertised in /metadata). */
  enabled: boolean;
  /** A job is complete this many ms after its kick-off; status polls before that answer 202. */
  readyAfterMs: number;
  /** Resources per NDJSON file; a type with more is cut into several files. */
  maxResourcesPerFile: number;
  /** `Retry-After` (seconds) sent with a 202 status answer. */
  retryAfterSec: number;
}

/** Defaults: on, ready after 100 ms, 1,000 resources per file. */
export const DEFAULT_BULK_EXPORT: Readonly<BulkExportSettings> = { enabled: true, readyAfterMs: 100, maxResourcesPerFile: 1_000, retryAfterSec: 1 };

/** What a Bulk Data request asks, as the FHIR server hands it over. */
export interface BulkRequest {
  method: string;
  /** Path segments under the FHIR base. */
  segs: string[];
  params: ReadonlyArray<readonly [string, string]>;
  accept?: string;
  prefer?: string;
}

/** The answer to send. */
export interface BulkAnswer {
  status: number;
  headers: Record<string, string | number>;
  body: string;
}

/** Limits the store needs to run the `_lastUpdated` filter (the EHR's profile). */
export interface BulkSearchLimits {
  patientOrSearch: boolean;
  maxCount: number;
  defaultCount: number;
}

interface ExportFile {
  type: string;
  lines: string[];
}

interface Job {
  /** Kick-off time (ms): the job is ready `settings.readyAfterMs` after it, read at each poll so a test can hold or release it. */
  startedAt: number;
  transactionTime: string;
  request: string;
  files: ExportFile[];
}

/** Path segment under the base for status and file URLs (an underscore name is never a resource type). */
const BULK_SEG = '_bulk';
const NDJSON_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/**
 * FHIR Bulk Data Access (v2) patient-level export for one simulated EHR:
 * `GET [base]/Patient/$export` (kick-off, `Prefer: respond-async`) answers 202 with a status
 * URL in `Content-Location`; the status URL answers 202 (`X-Progress`, `Retry-After`) until
 * the job is ready, then 200 with the manifest; each manifest `output` URL serves NDJSON.
 * `DELETE` on the status URL drops the job. The snapshot is taken at kick-off.
 */
export class BulkExportServer {
  readonly settings: BulkExportSettings;
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly store: FhirStore,
    private readonly baseUrl: () => string,
    private readonly limits: () => BulkSearchLimits,
    settings: Partial<BulkExportSettings> = {},
  ) {
    this.settings = { ...DEFAULT_BULK_EXPORT, ...settings };
  }

  /** Whether this request is a Bulk Data one (kick-off, status or file) that this server answers. */
  handles(segs: readonly string[]): boolean {
    if (!this.settings.enabled) return false;
    return (segs.length === 2 && segs[0] === 'Patient' && segs[1] === '$export') || segs[0] === BULK_SEG;
  }

  /** Answers one Bulk Data request (authorisation is the caller's job). */
  handle(req: BulkRequest): BulkAnswer {
    if (req.segs[0] === 'Patient') return this.kickOff(req);
    if (req.segs.length === 3 && req.segs[1] === 'status') return this.status(req.method, req.segs[2]);
    if (req.segs.length === 4 && req.segs[1] === 'files') return this.file(req.method, req.segs[2], req.segs[3]);
    return outcome(404, 'not-found', 'No Bulk Data resource at this path');
  }

  private kickOff(req: BulkRequest): BulkAnswer {
    if (req.method !== 'GET') return outcome(405, 'not-supported', 'Patient/$export takes GET here');
    if (!(req.accept ?? '').split(',').some((a) => a.split(';')[0].trim().toLowerCase() === 'application/fhir+json')) {
      return outcome(400, 'invalid', 'Bulk Data kick-off needs Accept: application/fhir+json');
    }
    if (!/\brespond-async\b/i.test(req.prefer ?? '')) return outcome(400, 'invalid', 'Bulk Data kick-off needs Prefer: respond-async');
    const param = (name: string) => req.params.filter(([k]) => k === name).map(([, v]) => v);
    const format = param('_outputFormat')[0];
    if (format !== undefined && !NDJSON_FORMATS.has(format)) return outcome(400, 'not-supported', 'Only NDJSON output is supported');
    const since = param('_since')[0];
    if (since !== undefined && (!INSTANT.test(since) || Number.isNaN(Date.parse(since)))) {
      return outcome(400, 'invalid', '_since must be a FHIR instant');
    }
    const types = param('_type').flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
    for (const t of types) if (!isServedType(t)) return outcome(400, 'not-supported', `Resource type "${t}" cannot be exported`);
    const wanted = types.length ? [...new Set(types)] : this.store.types().filter(isServedType);
    const unsupported = req.params.find(([k]) => !['_outputFormat', '_since', '_type'].includes(k));
    if (unsupported) return outcome(400, 'not-supported', `Parameter "${unsupported[0]}" is not supported by this export`);

    const now = Date.now();
    const files: ExportFile[] = [];
    for (const type of wanted) {
      const filter: Array<[string, string]> = since ? [['_lastUpdated', `gt${since}`]] : [];
      const matches = this.store.search(type, filter, this.limits()).matches;
      for (let i = 0; i < matches.length; i += this.settings.maxResourcesPerFile) {
        files.push({ type, lines: matches.slice(i, i + this.settings.maxResourcesPerFile).map((r: FhirResource) => JSON.stringify(r)) });
      }
    }
    const id = randomUUID();
    const query = new URLSearchParams(req.params as Array<[string, string]>).toString();
    this.jobs.set(id, {
      startedAt: now,
      transactionTime: new Date(now).toISOString(),
      request: `${this.baseUrl()}/Patient/$export${query ? `?${query}` : ''}`,
      files,
    });
    return {
      status: 202,
      headers: { 'content-location': `${this.baseUrl()}/${BULK_SEG}/status/${id}`, 'content-type': FHIR_JSON },
      body: JSON.stringify(operationOutcome('informational', 'Export started', 'information')),
    };
  }

  private status(method: string, id: string): BulkAnswer {
    const job = this.jobs.get(id);
    if (!job) return outcome(404, 'not-found', 'No such export job (finished and deleted, or never started)');
    if (method === 'DELETE') {
      this.jobs.delete(id);
      return { status: 202, headers: {}, body: '' };
    }
    if (method !== 'GET') return outcome(405, 'not-supported', 'The status URL takes GET or DELETE');
    const left = this.readyAt(job) - Date.now();
    if (left > 0) {
      const done = Math.min(99, Math.floor((1 - left / Math.max(1, this.settings.readyAfterMs)) * 100));
      return { status: 202, headers: { 'x-progress': `in progress (${done}%)`, 'retry-after': String(this.settings.retryAfterSec) }, body: '' };
    }
    const manifest = {
      transactionTime: job.transactionTime,
      request: job.request,
      requiresAccessToken: true,
      output: job.files.map((f, i) => ({ type: f.type, url: `${this.baseUrl()}/${BULK_SEG}/files/${id}/${i + 1}.ndjson`, count: f.lines.length })),
      error: [],
    };
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(manifest) };
  }

  private readyAt(job: Job): number {
    return job.startedAt + this.settings.readyAfterMs;
  }

  private file(method: string, id: string, name: string): BulkAnswer {
    if (method !== 'GET') return outcome(405, 'not-supported', 'Export files take GET');
    const job = this.jobs.get(id);
    const m = /^(\d+)\.ndjson$/.exec(name);
    const file = job && m && Date.now() >= this.readyAt(job) ? job.files[Number(m[1]) - 1] : undefined;
    if (!file) return outcome(404, 'not-found', 'No such export file');
    return { status: 200, headers: { 'content-type': 'application/fhir+ndjson' }, body: file.lines.length ? `${file.lines.join('\n')}\n` : '' };
  }
}

function outcome(status: number, code: string, text: string, severity: 'error' | 'information' = 'error'): BulkAnswer {
  return { status, headers: { 'content-type': FHIR_JSON }, body: JSON.stringify(operationOutcome(code, text, severity)) };
}
