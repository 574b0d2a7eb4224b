import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { FhirSourceConfig } from '../config/config.schema.js';
import type { PrismaClient } from '../datasources/cache/generated/client.js';
import type { PatientIndex } from '../datasources/cache/patient-index.js';
import type { PopulationStore, PopulationTypeState } from '../datasources/population/population-store.js';
import type { SearchCache } from '../datasources/cache/search-cache.js';
import type { SourcePatientRow } from '../datasources/cache/source-patient-store.js';
import { attributedPatientId } from '../datasources/fhir/attribution.js';
import { fallbackCapabilities, readCapabilities } from '../datasources/fhir/capabilities.js';
import type { FhirClient } from '../datasources/fhir/fhir-client.js';
import { CLINICAL_TYPES, type Patient, type SourceCapabilities } from '../datasources/fhir/fhir-types.js';
import { errorStatus, tryParseJson } from '../datasources/fhir/upstream-http.js';
import {
  deleteExportJob,
  exportFileResources,
  isExportJobGone,
  kickOffPatientExport,
  offersPatientExport,
  waitForExport,
  type ExportManifest,
  type PollOptions,
} from '../datasources/sync/bulk-export-client.js';
import { fetchPatientPage, firstPatientPageUrl } from '../datasources/sync/patient-pages.js';
import { SourceHttp } from '../datasources/sync/source-http.js';
import { UpstreamError } from '../errors/errors.js';
import { matchSettings, type MatchSettings } from '../identity/match-decision.js';
import { populationLinker, type PopulationLinker } from '../identity/population-linker.js';
import { recordAudit } from '../datasources/cache/audit-log.js';
import { refreshChangedLists, type TypeRefresh } from './clinical-changes.js';
import { linkUnlinked } from './link-unlinked.js';
import { fillLists, type ListFillContext } from './list-fill.js';
import type { SyncProgressEvent } from './progress.js';
import { upsertSourcePatients } from './source-patient-rows.js';
import { SyncStateStore, type SyncCursor } from './sync-state.js';

/** What the sync writes to and reads from. */
export interface PopulationSyncDeps {
  prisma: PrismaClient;
  index: PatientIndex;
  /** Identifier systems that link records deterministically (`identity.strongIdentifierSystems`). */
  strongIdentifierSystems: readonly string[];
  /** Cross-reference systems and thresholds (config `identity`); defaults otherwise. */
  matching?: Partial<Omit<MatchSettings, 'strongIdentifierSystems'>>;
  /** Replaces the matcher's linking (tests). */
  linker?: PopulationLinker;
  /** The fetch for every upstream exchange of the walk (tests, proxies). */
  fetch?: typeof fetch;
  /**
   * With this, each indexed patient's chart is also fetched into the search cache
   * (`--resources`): every clinical type the source lists, through the gateway's loaders.
   */
  resourceCache?: {
    clients: ReadonlyMap<string, FhirClient>;
    cache: SearchCache;
    /** Default: the clinical types the source's /metadata lists (all of them when unknown). */
    types?: readonly string[];
    /** Also extracts cohort facts from what was fetched, and records complete runs (analytics). */
    population?: PopulationStore;
  };
}

/** Options of one sync run. */
export interface PopulationSyncOptions {
  /** Ignore the last run: walk every patient from the first page, and drop any cursor. */
  full?: boolean;
  /** Stops the run; the cursor stays, and the next run resumes from it. */
  signal?: AbortSignal;
  onProgress?: (event: SyncProgressEvent) => void;
  /** Waits between export status polls (default 1 s to 2 min, following `Retry-After`). */
  poll?: PollOptions;
  /** Deadline of one export file download (default 15 minutes). */
  fileTimeoutMs?: number;
  /** Patients per write while streaming an export file (default 500). */
  batchSize?: number;
  /** Clock. */
  now?: () => Date;
}

/** How one source's run ended. */
export interface SourceSyncResult {
  sourceId: string;
  mode: 'search' | 'export';
  status: 'complete' | 'failed' | 'interrupted';
  /** The run carried on from a cursor left by an earlier one. */
  resumed: boolean;
  /** Lower bound used (`_lastUpdated=gt` / `_since`); null for a full walk. */
  since: Date | null;
  /** Patients written by this run (a resumed run counts what its earlier part wrote too). */
  indexed: number;
  /** Patients whose resources could not be cached (with `resourceCache`). */
  resourceErrors: number;
  /**
   * Incremental runs with `resourceCache`: how each type's lists of unchanged patients were
   * brought up to date (changes listed by the source, or not, and the fallback).
   */
  changes?: TypeRefresh[];
  /** Why it failed. */
  error?: UpstreamError;
}

const DEFAULT_FILE_TIMEOUT_MS = 15 * 60_000;

/** Syncs each source in turn; a failing source does not stop the others, an abort does. */
export async function syncSources(sources: readonly FhirSourceConfig[], deps: PopulationSyncDeps, opts: PopulationSyncOptions = {}): Promise<SourceSyncResult[]> {
  // Every page, list and capability fetch of the run listens on the signal while in flight
  // (a batch of lists is hundreds at once); each removes its listener when done.
  if (opts.signal) setMaxListeners(0, opts.signal);
  const results: SourceSyncResult[] = [];
  for (const source of sources) {
    if (opts.signal?.aborted) break;
    results.push(await syncSource(source, deps, opts));
  }
  return results;
}

/**
 * Walks every patient of one FHIR source into `source_patient` and links them, resumably:
 * progress is committed to `sync_state` after each page (search) or file (export), so a run
 * that is killed or fails resumes from there. A source offering Bulk Data `Patient/$export`
 * (per its CapabilityStatement, or `sync.mode` in config) is exported, others are searched
 * page by page. After a complete run the next one asks only for what changed since it began.
 * Upstream failures end the source's run with status `failed`; database errors are thrown.
 */
export async function syncSource(source: FhirSourceConfig, deps: PopulationSyncDeps, opts: PopulationSyncOptions = {}): Promise<SourceSyncResult> {
  const now = opts.now ?? (() => new Date());
  const http = new SourceHttp(source, { fetch: deps.fetch });
  const states = new SyncStateStore(deps.prisma);
  const runId = randomUUID();
  const linker =
    deps.linker ??
    populationLinker({
      index: deps.index,
      settings: matchSettings(deps.strongIdentifierSystems, deps.matching),
      auditMerge: (tx, merge) =>
        recordAudit(tx, {
          requestId: `sync-${runId}`,
          subject: 'chartgraph-sync',
          role: 'system',
          action: 'merge',
          patientIds: [merge.survivorId, merge.mergedId],
          outcome: 'success',
          detail: { mergeId: merge.id, method: merge.method, score: merge.score, sourceId: source.id },
        }),
    });
  const previous = await states.get(source.id);

  // Read every run: the page size (`max _count`) and the resource types come from it too.
  const statement = await readMetadata(http, opts.signal);
  const capabilities = statement ? readCapabilities(source, statement) : fallbackCapabilities(source);
  const unfinished = !opts.full && previous !== null && previous.status !== 'complete';
  // /metadata down for a moment must not throw away an export that is half read.
  const guess = unfinished ? (previous.cursor?.kind ?? 'search') : 'search';
  const mode: 'search' | 'export' =
    source.sync.mode !== 'auto' ? source.sync.mode : statement ? (offersPatientExport(statement) ? 'export' : 'search') : guess;
  if (opts.signal?.aborted) {
    // Stopped before anything started: the state stays exactly as it was.
    return { sourceId: source.id, mode, status: 'interrupted', resumed: false, since: previous?.since ?? null, indexed: 0, resourceErrors: 0 };
  }

  const cursor = unfinished && previous.cursor?.kind === mode ? previous.cursor : null;
  const run: Run = {
    source,
    http,
    states,
    linker,
    deps,
    opts,
    capabilities,
    mode,
    since: opts.full ? null : (previous?.since ?? null),
    startedAt: cursor && previous?.startedAt ? previous.startedAt : now(),
    indexed: cursor ? (previous?.indexed ?? 0) : 0,
    resourceErrors: 0,
    now,
    fetched: new Set(),
    oldestServed: new Map(),
    previousStartedAt: previous?.status === 'complete' ? previous.startedAt : null,
  };
  const rc = deps.resourceCache;
  if (rc?.clients.has(source.id)) {
    run.fill = { sourceId: source.id, base: http.base, clients: rc.clients, cache: rc.cache, population: rc.population, signal: opts.signal, medications: new Map() };
  }
  if (cursor) await states.resume(source.id);
  else await states.start(source.id, run.since, run.startedAt);
  emit(run, 'start');

  try {
    const nextSince = mode === 'search' ? await walkSearch(run, cursor?.kind === 'search' ? cursor : null) : await walkExport(run, cursor?.kind === 'export' ? cursor : null);
    emit(run, 'linking');
    await linkUnlinked(deps.prisma, linker, source.id);
    await settlePendingChecks(run, linker);
    if (run.since !== null && run.fill) await refreshUnchangedPatients(run, run.fill);
    await states.complete(source.id, nextSince, now());
    if (rc?.population && run.resourceErrors === 0) {
      await rc.population.markSynced(source.id, run.startedAt, run.indexed, typeStatesOf(run));
    }
    emit(run, 'done');
    return result(run, 'complete', cursor !== null);
  } catch (err) {
    const aborted = opts.signal?.aborted === true;
    if (!aborted && !(err instanceof UpstreamError)) {
      await states.stop(source.id, 'failed').catch(() => undefined);
      throw err;
    }
    await states.stop(source.id, aborted ? 'interrupted' : 'failed');
    emit(run, aborted ? 'interrupted' : 'failed');
    return { ...result(run, aborted ? 'interrupted' : 'failed', cursor !== null), ...(!aborted && { error: err as UpstreamError }) };
  }
}

interface Run {
  source: FhirSourceConfig;
  http: SourceHttp;
  states: SyncStateStore;
  linker: PopulationLinker;
  deps: PopulationSyncDeps;
  opts: PopulationSyncOptions;
  capabilities: SourceCapabilities;
  mode: 'search' | 'export';
  since: Date | null;
  startedAt: Date;
  indexed: number;
  total?: number;
  resourceErrors: number;
  now: () => Date;
  /** With `resourceCache` for this source: where lists and facts go. */
  fill?: ListFillContext;
  /** Incremental runs: `type \0 patient id` of lists fetched from the source by the patient walk. */
  fetched: Set<string>;
  /** Incremental exports: the patients each exported clinical type names (its changes since the bound). */
  exportedChanges?: Map<string, Set<string>>;
  /** When the previous run began (it was a complete fill when the population store says so). */
  previousStartedAt: Date | null;
  changes?: TypeRefresh[];
  /** Full runs with `resourceCache`: per type, when the oldest list used was fetched (ms; a fresh cached copy may predate the run). */
  oldestServed: Map<string, number>;
}

/**
 * What each type's facts are current to after this run: the changes step's verdict when
 * incremental; for a full run, the oldest list it used (cached copies within their TTL are
 * served, so it may be older than the run).
 */
function typeStatesOf(run: Run): Omit<PopulationTypeState, 'sourceId'>[] {
  if (run.changes) return run.changes.map((t) => ({ resourceType: t.resourceType, currentTo: t.currentTo, changes: t.changes }));
  if (run.since !== null || !run.fill) return [];
  const start = run.startedAt.getTime();
  return cachedTypes(run).map((t) => ({ resourceType: t, changes: 'filled', currentTo: new Date(Math.min(start, run.oldestServed.get(t) ?? start)) }));
}

function result(run: Run, status: SourceSyncResult['status'], resumed: boolean): SourceSyncResult {
  return {
    sourceId: run.source.id,
    mode: run.mode,
    status,
    resumed,
    since: run.since,
    indexed: run.indexed,
    resourceErrors: run.resourceErrors,
    ...(run.changes && { changes: run.changes }),
  };
}

function emit(run: Run, phase: SyncProgressEvent['phase'], detail?: string): void {
  run.opts.onProgress?.({
    sourceId: run.source.id,
    mode: run.mode,
    phase,
    indexed: run.indexed,
    ...(run.total !== undefined && { total: run.total }),
    ...(detail !== undefined && { detail }),
  });
}

/**
 * Patients a look-up linked while this source could not be searched: their records are
 * compared now, through the blocking index, against the source's records just synced,
 * and the checks are cleared.
 */
async function settlePendingChecks(run: Run, linker: PopulationLinker): Promise<void> {
  const { index } = run.deps;
  const pending = await index.pendingOfSource(run.source.id, run.startedAt);
  for (let i = 0; i < pending.length; i += 200) {
    const ids = pending.slice(i, i + 200);
    const links = [...(await index.linksForUnified(ids)).values()].flat().filter((l) => l.sourceId !== run.source.id);
    const rows = await index.sourcePatients.getMany(links);
    const bySource = new Map<string, SourcePatientRow[]>();
    for (const row of rows.values()) bySource.set(row.sourceId, [...(bySource.get(row.sourceId) ?? []), row]);
    for (const [sourceId, list] of bySource) await linker.link(sourceId, list);
    await index.clearPendingOfSource(run.source.id, run.startedAt, ids);
  }
}

/** The CapabilityStatement, or undefined when /metadata cannot be read (then: search, fallback page size). */
async function readMetadata(http: SourceHttp, signal?: AbortSignal): Promise<unknown> {
  try {
    const res = await http.request(new URL(`${http.base}/metadata`), { signal, anonymous: true });
    if (res.status !== 200) return undefined;
    const parsed = tryParseJson(res.body) as { resourceType?: unknown } | undefined;
    return parsed?.resourceType === 'CapabilityStatement' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Writes, links and (optionally) caches the resources of one batch of patients; the cursor is the caller's. */
async function indexPatients(run: Run, patients: readonly Patient[]): Promise<SourcePatientRow[]> {
  const rows = await upsertSourcePatients(run.deps.prisma, run.source.id, patients);
  if (rows.length === 0) return rows;
  await run.linker.link(run.source.id, rows);
  if (run.fill) run.resourceErrors += await fillResourceCache(run, run.fill, rows.map((r) => r.sourcePatientId));
  return rows;
}

/** Paged search: `Patient?_count=n[&_lastUpdated=gt<since>]`, then every `next` link as given. Returns the next run's `since`. */
async function walkSearch(run: Run, cursor: Extract<SyncCursor, { kind: 'search' }> | null): Promise<Date> {
  const { http, source } = run;
  const first = () => new URL(firstPatientPageUrl(http.base, Math.min(source.pageSize, run.capabilities.maxCount), run.since));
  let url = cursor ? http.resolve(cursor.next, 'next link') : first();
  let resuming = cursor !== null;
  const seen = new Set<string>();
  for (;;) {
    seen.add(url.href);
    let page;
    try {
      page = await fetchPatientPage(http, url, run.opts.signal);
    } catch (err) {
      // Servers let page tokens expire; a stale cursor costs a walk from the first page (the
      // writes are idempotent), not a stuck sync.
      if (!resuming || !(err instanceof UpstreamError) || ![400, 404, 410].includes(errorStatus(err) ?? 0)) throw err;
      resuming = false;
      await run.states.start(source.id, run.since, run.startedAt);
      run.indexed = 0;
      url = first();
      continue;
    }
    resuming = false;
    if (page.total !== undefined && !cursor) run.total ??= page.total;
    const next = page.next ? http.resolve(page.next, 'next link') : undefined;
    if (next && seen.has(next.href)) throw new UpstreamError(source.id, 'UPSTREAM_UNAVAILABLE', { reason: 'next links loop' });
    const rows = await indexPatients(run, page.patients);
    await run.states.advance(source.id, page.next ? { kind: 'search', next: page.next } : null, rows.length);
    run.indexed += rows.length;
    emit(run, 'page');
    if (!next) return run.startedAt;
    url = next;
  }
}

/** Bulk Data export: kick-off (or the status URL of the cursor), poll, then each Patient file. Returns the next run's `since`. */
async function walkExport(run: Run, cursor: Extract<SyncCursor, { kind: 'export' }> | null): Promise<Date> {
  const { http, source, opts } = run;
  const alsoTypes = await exportableChangeTypes(run);
  const kickOff = async () => {
    let statusUrl: string;
    try {
      statusUrl = await kickOffPatientExport(http, { since: run.since, alsoTypes, signal: opts.signal });
    } catch (err) {
      // A server that exports Patients only: the changes step searches for the rest.
      if (alsoTypes.length === 0 || !(err instanceof UpstreamError) || ![400, 403, 422].includes(errorStatus(err) ?? 0)) throw err;
      statusUrl = await kickOffPatientExport(http, { since: run.since, signal: opts.signal });
    }
    await run.states.advance(source.id, { kind: 'export', statusUrl, filesDone: 0 }, 0);
    return statusUrl;
  };
  let statusUrl = cursor ? cursor.statusUrl : await kickOff();
  let filesDone = cursor?.filesDone ?? 0;
  const wait = () => waitForExport(http, statusUrl, { signal: opts.signal, poll: opts.poll, onProgress: (text) => emit(run, 'waiting', text) });
  let manifest;
  try {
    manifest = await wait();
  } catch (err) {
    // The server dropped the job (expired, or deleted): export again from the same bound.
    if (!cursor || !isExportJobGone(err)) throw err;
    await run.states.start(source.id, run.since, run.startedAt);
    run.indexed = 0;
    statusUrl = await kickOff();
    filesDone = 0;
    manifest = await wait();
  }
  const files = manifest.output.filter((o) => o.type === 'Patient');
  if (files.every((f) => f.count !== undefined)) run.total = files.reduce((n, f) => n + f.count!, 0);
  const batchSize = opts.batchSize ?? 500;
  for (let i = filesDone; i < files.length; i++) {
    let written = 0;
    let batch: Patient[] = [];
    const flush = async () => {
      written += (await indexPatients(run, batch)).length;
      batch = [];
    };
    for await (const resource of exportFileResources(http, files[i]!, manifest, { signal: opts.signal, timeoutMs: opts.fileTimeoutMs ?? DEFAULT_FILE_TIMEOUT_MS })) {
      if (resource.resourceType !== 'Patient' || !resource.id) continue;
      batch.push(resource);
      if (batch.length >= batchSize) await flush();
    }
    await flush();
    await run.states.advance(source.id, { kind: 'export', statusUrl, filesDone: i + 1 }, written);
    run.indexed += written;
    emit(run, 'file', `file ${i + 1}/${files.length}`);
  }
  await readExportedChanges(run, manifest, alsoTypes);
  await deleteExportJob(http, statusUrl, opts.signal);
  return manifest.transactionTime ? new Date(manifest.transactionTime) : run.startedAt;
}

/**
 * The clinical types an incremental export also asks for (`_type`), so that the export lists
 * their changes and the changes step needs no search: only when the last complete fill was
 * the previous run and left no kept type behind it, so its lists reflect everything up to
 * the export bound. Otherwise the changes step searches (from each type's own bound).
 */
async function exportableChangeTypes(run: Run): Promise<string[]> {
  const population = run.deps.resourceCache?.population;
  if (run.since === null || !run.fill || !population || !run.previousStartedAt) return [];
  const filled = await population.sourceState(run.source.id);
  if (!filled || filled.syncedAt.getTime() !== run.previousStartedAt.getTime()) return [];
  const types = cachedTypes(run);
  const behind = await behindTypes(population, run.source.id, filled.syncedAt);
  return types.some((t) => behind.has(t)) ? [] : [...types];
}

/** The types the last complete fill left current only to a time before it began, with that time. */
async function behindTypes(population: PopulationStore, sourceId: string, syncedAt: Date): Promise<Map<string, Date>> {
  const states = await population.typeStatesOf(sourceId);
  return new Map(states.filter((t) => t.currentTo < syncedAt).map((t) => [t.resourceType, t.currentTo] as const));
}

/**
 * Reads the clinical files of an incremental export: who each changed resource belongs to.
 * Only types the job was asked for count as listed (a resumed job from before may have
 * been asked for Patients only); a type without a file had no changes.
 */
async function readExportedChanges(run: Run, manifest: ExportManifest, alsoTypes: readonly string[]): Promise<void> {
  const asked = new Set(manifest.requestedTypes ?? []);
  const types = alsoTypes.filter((t) => asked.has(t));
  if (types.length === 0) return;
  const changes = new Map(types.map((t) => [t, new Set<string>()] as const));
  for (const file of manifest.output) {
    const ids = changes.get(file.type);
    if (!ids) continue;
    for await (const resource of exportFileResources(run.http, file, manifest, { signal: run.opts.signal, timeoutMs: run.opts.fileTimeoutMs ?? DEFAULT_FILE_TIMEOUT_MS })) {
      if (resource.resourceType !== file.type) continue;
      const owner = attributedPatientId(resource, run.http.base);
      if (owner !== undefined) ids.add(owner);
    }
  }
  run.exportedChanges = changes;
}

/** The types `--resources` keeps: the configured ones, else the clinical types the source's /metadata lists (all when it lists none). */
function cachedTypes(run: Run): readonly string[] {
  const listed = run.capabilities.resourceTypes;
  return run.deps.resourceCache?.types ?? CLINICAL_TYPES.filter((t) => listed.length === 0 || listed.includes(t));
}

/** Fills the search cache with every kept type of these patients; returns the lists that failed. */
async function fillResourceCache(run: Run, fill: ListFillContext, patientIds: string[]): Promise<number> {
  const types = cachedTypes(run);
  const { answers, errors } = await fillLists(fill, types, patientIds);
  if (run.since === null) {
    types.forEach((t, ti) => {
      for (const a of answers[ti] ?? []) {
        if (!(a instanceof Error)) run.oldestServed.set(t, Math.min(run.oldestServed.get(t) ?? Infinity, a.fetchedAt.getTime()));
      }
    });
  } else {
    // What the walk fetched now needs no second fetch in the changes step; a fresh cached copy may be stale.
    types.forEach((t, ti) =>
      patientIds.forEach((id, i) => {
        const a = answers[ti]?.[i];
        if (a && !(a instanceof Error) && a.fetchedAt >= run.startedAt) run.fetched.add(`${t}\u0000${id}`);
      }),
    );
  }
  return errors;
}

/**
 * Incremental runs: the patient walk saw only patients whose Patient resource changed; the
 * lists of the others that changed since the last complete fill are refreshed here (see
 * `clinical-changes.ts`). Without an earlier complete fill (`sync` ran without
 * `--resources` before), every known patient's lists are read.
 */
async function refreshUnchangedPatients(run: Run, fill: ListFillContext): Promise<void> {
  const population = run.deps.resourceCache?.population;
  const since = population ? ((await population.sourceState(run.source.id))?.syncedAt ?? null) : run.since;
  // A type the last fill left behind `since` lists its changes from its own bound, or they would be lost.
  const behind = population && since ? await behindTypes(population, run.source.id, since) : undefined;
  const types = cachedTypes(run);
  emit(run, 'changes');
  const { types: refreshed, errors } = await refreshChangedLists({
    prisma: run.deps.prisma,
    http: run.http,
    fill,
    types,
    since,
    ...(behind && { behind }),
    pageSize: Math.min(run.source.pageSize, run.capabilities.maxCount),
    startedAt: run.startedAt,
    fetched: run.fetched,
    batchSize: run.opts.batchSize ?? 500,
    signal: run.opts.signal,
    ...(run.exportedChanges && { listed: run.exportedChanges }),
  });
  run.resourceErrors += errors;
  run.changes = refreshed;
}
