import { setMaxListeners } from 'node:events';
import { fhirSources, type ChartgraphConfig } from '../config/config.schema.js';
import { openDatabase } from '../datasources/cache/database.js';
import { PatientIndex } from '../datasources/cache/patient-index.js';
import { PrismaSearchCache } from '../datasources/cache/prisma-search-cache.js';
import { PopulationStore } from '../datasources/population/population-store.js';
import { FhirClient } from '../datasources/fhir/fhir-client.js';
import type { TypeRefresh } from './clinical-changes.js';
import { syncSources, type SourceSyncResult } from './population-sync.js';
import { createProgressBar } from './progress.js';

/** Flags of `chartgraph sync`. */
export interface SyncCommandOptions {
  source?: string;
  full?: boolean;
  resources?: boolean;
}

/**
 * `chartgraph sync`: opens (and migrates) the cache database, syncs the chosen FHIR sources
 * with a progress bar on stderr, prints one summary line per source on stdout and returns
 * the exit code: 0 all complete, 1 a source failed, 2 unknown source, 130 interrupted
 * (Ctrl-C stops at the next page or file; run again to resume).
 */
export async function runSyncCommand(config: ChartgraphConfig, flags: SyncCommandOptions): Promise<number> {
  const all = fhirSources(config);
  const sources = flags.source ? all.filter((s) => s.id === flags.source) : all;
  if (sources.length === 0) {
    console.error(`No FHIR source "${flags.source}"; configured: ${all.map((s) => s.id).join(', ') || 'none'}`);
    return 2;
  }
  const controller = new AbortController();
  // Every in-flight upstream call of `--resources` listens on this one signal (and lets go when done).
  setMaxListeners(0, controller.signal);
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    console.error('\nstopping after the current page (Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const database = await openDatabase(config.cache.url);
  const progress = createProgressBar(process.stderr);
  let results: SourceSyncResult[];
  try {
    const clients = new Map(sources.map((s) => [s.id, new FhirClient(s)] as const));
    results = await syncSources(
      sources,
      {
        prisma: database.prisma,
        index: new PatientIndex(database.prisma),
        strongIdentifierSystems: config.identity.strongIdentifierSystems,
        matching: config.identity,
        ...(flags.resources && {
          resourceCache: {
            clients,
            cache: new PrismaSearchCache(database.prisma, { ttlSeconds: config.cache.ttlSeconds, defaultTtlSeconds: config.cache.defaultTtlSeconds }),
            population: new PopulationStore(database.prisma),
          },
        }),
      },
      { full: flags.full, signal: controller.signal, onProgress: progress },
    );
  } finally {
    progress.end();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await database.close();
  }
  for (const r of results) console.log(summaryLine(r));
  if (results.some((r) => r.status === 'interrupted') || controller.signal.aborted) return 130;
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}

/** One line per source; error detail is the typed code and status, never upstream text. */
export function summaryLine(r: SourceSyncResult): string {
  const parts = [
    r.sourceId,
    r.mode,
    r.status,
    `${r.indexed} patients`,
    r.since ? `changed since ${r.since.toISOString()}` : 'full',
    ...(r.resumed ? ['resumed'] : []),
    ...(r.resourceErrors ? [`${r.resourceErrors} resource fetches failed`] : []),
    ...changesParts(r),
    ...(r.error ? [`${r.error.code}${r.error.extensions.status ? ` HTTP ${String(r.error.extensions.status)}` : ''}${r.error.reason ? ` (${r.error.reason})` : ''}`] : []),
  ];
  return parts.join('  ');
}

/**
 * What the changes step of an incremental `--resources` run did: lists refreshed because
 * the source listed changes in them, and the types whose changes it would not list (their
 * facts lag by up to the type's cache TTL: only lists older than it were fetched again).
 */
function changesParts(r: SourceSyncResult): string[] {
  if (!r.changes) return [];
  const listed = r.changes.filter((t) => t.changes === 'listed');
  const notListed = r.changes.filter((t) => t.changes === 'not-listed');
  const filled = r.changes.filter((t) => t.changes === 'filled');
  const parts: string[] = [];
  if (listed.length) parts.push(`${listed.reduce((n, t) => n + t.lists, 0)} changed lists refreshed`);
  for (const status of [...new Set(notListed.map((t) => t.status ?? 0))]) {
    const group = notListed.filter((t) => (t.status ?? 0) === status);
    parts.push(`changes not listed (HTTP ${status}) for ${group.map((t) => t.resourceType).join(', ')}: every list older than its cache TTL refetched, current to ${isoMin(group)}`);
  }
  if (filled.length) parts.push(`no earlier fill: every known patient's lists read`);
  return parts;
}

function isoMin(types: readonly TypeRefresh[]): string {
  return new Date(Math.min(...types.map((t) => t.currentTo.getTime()))).toISOString();
}
