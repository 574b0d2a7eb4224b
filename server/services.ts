import type { Logger } from 'pino';
import { CohortService } from '../analytics/cohort-service.js';
import { eligibilitySources, fhirSources, type ChartgraphConfig } from '../config/config.schema.js';
import { AuditSpool } from '../datasources/cache/audit-spool.js';
import { AuditStore } from '../datasources/cache/audit-store.js';
import { BufferedAuditWriter } from '../datasources/cache/audit-writer.js';
import { openDatabase, type Database } from '../datasources/cache/database.js';
import { PatientIndex } from '../datasources/cache/patient-index.js';
import { PatientWalk } from '../datasources/cache/patient-walk.js';
import { DatabaseHealth } from '../datasources/cache/database-health.js';
import { OutageTolerantEligibilityCache, OutageTolerantPatientIndex, OutageTolerantSearchCache } from '../datasources/cache/outage-tolerant.js';
import { TieredSearchCache } from '../datasources/cache/memory-search-cache.js';
import { PrismaSearchCache } from '../datasources/cache/prisma-search-cache.js';
import type { SearchCache } from '../datasources/cache/search-cache.js';
import { FhirClient } from '../datasources/fhir/fhir-client.js';
import type { UpstreamCall } from '../datasources/fhir/fhir-types.js';
import { SourceHealth } from '../datasources/source-health.js';
import { EligibilityClient } from '../datasources/payer/eligibility-client.js';
import { PrismaEligibilityCache } from '../datasources/payer/eligibility-cache.js';
import { EligibilityService } from '../datasources/payer/eligibility-service.js';
import { createDeidentifier } from '../deid/index.js';
import type { GatewayServices } from '../resolvers/context.js';
import { deidKeyFor } from './deid-key.js';

export interface ServiceOptions {
  logger: Logger;
  /** Sees every upstream call (tests, explain, metrics). */
  onUpstreamCall?: (call: UpstreamCall) => void;
  /** An already-open database (tests share one); otherwise `config.cache.url` is opened. */
  database?: Database;
  /** Where dev mode keeps its generated de-identification key (tests use a temp file). */
  deidKeyFile?: string;
  /** How often queued audit events are written (default 500 ms; tests stretch it to prove shutdown flushes). */
  auditFlushIntervalMs?: number;
  /** Overrides `audit.spoolFile` (tests use a temp folder). */
  auditSpoolFile?: string;
}

export type RunningServices = GatewayServices & {
  database: Database;
  /** Queues audit events and writes them in batches; flushed by `close`. */
  auditWriter: BufferedAuditWriter;
  /** Where audit events wait while the database is unreachable. */
  auditSpool: AuditSpool;
  /** Whether the cache database is reachable; reconnects and replays the spool by itself. */
  databaseHealth: DatabaseHealth;
  close(opts?: { onStep?: (step: ServicesShutdownStep) => void }): Promise<void>;
};

export type ServicesShutdownStep = 'audit events' | 'database';

function withMemoryTier(shared: SearchCache, maxResources: number): SearchCache {
  return maxResources > 0 ? new TieredSearchCache(shared, { maxResources }) : shared;
}

/** Opens the cache database (migrating it) and builds one client per FHIR source. */
export async function createGatewayServices(config: ChartgraphConfig, opts: ServiceOptions): Promise<RunningServices> {
  // Before the database opens: a missing key is a configuration error, found at once.
  const deidKey = deidKeyFor(config, opts.deidKeyFile);
  const database = opts.database ?? (await openDatabase(config.cache.url, { logger: opts.logger }));
  const auditStore = new AuditStore(database.prisma);
  const auditSpool = new AuditSpool(opts.auditSpoolFile ?? config.audit.spoolFile);
  const replay = (): Promise<void> =>
    auditWriter.replaySpool().then(
      (n: number) => void (n > 0 && opts.logger.info({ replayed: n }, 'spooled audit events written to the database')),
      (err: unknown) => opts.logger.warn({ err: { code: (err as { code?: unknown })?.code } }, 'spooled audit events not replayed yet; will retry'),
    );
  const databaseHealth: DatabaseHealth = new DatabaseHealth({ probe: () => database.prisma.$queryRawUnsafe('SELECT 1'), logger: opts.logger, onRecover: replay });
  let spoolLogged = false;
  const auditWriter: BufferedAuditWriter = new BufferedAuditWriter(
    { insertMany: (records) => databaseHealth.required(() => auditStore.insertMany(records)) },
    {
      flushIntervalMs: opts.auditFlushIntervalMs,
      spool: auditSpool,
      sinkAvailable: () => !databaseHealth.down,
      // The outage itself is logged once by the health tracker; this says once where events go.
      onSpooled: () => {
        if (!spoolLogged) opts.logger.warn({ file: auditSpool.file }, 'audit events spooled to a local file until the database is back');
        spoolLogged = true;
      },
      onError: (err, info) => opts.logger.error({ err: { code: (err as { code?: unknown })?.code }, ...info }, 'audit events could not be written to the database or the spool'),
    },
  );
  // Events spooled by an earlier run (the database was down when it stopped) go in now.
  void replay();
  const deid = createDeidentifier({
    key: deidKey,
    listPatientsSince: (since) =>
      database.prisma.unifiedPatient.findMany({ where: since ? { createdAt: { gte: since } } : {}, select: { id: true, createdAt: true } }),
  });
  const health = new SourceHealth(config.sourceHealth);
  const onCall = (call: UpstreamCall) => {
    health.record(call);
    // One line per kind of violation in a call (with its count), not per item: a source that
    // ignores the patient parameter must not flood the log. No ids, no values.
    for (const v of call.violations ?? []) {
      opts.logger.warn(
        { source: call.sourceId, resourceType: call.resourceType, interaction: call.interaction, reason: v.reason, count: v.count, ...(v.detail && { detail: v.detail }) },
        'upstream answer broke the FHIR contract: set aside',
      );
    }
    opts.onUpstreamCall?.(call);
  };
  const clients = new Map(fhirSources(config).map((s) => [s.id, new FhirClient(s, { onCall })] as const));
  return {
    config,
    clients,
    index: new OutageTolerantPatientIndex(database.prisma, databaseHealth, { linkCacheMs: config.identity.linkCacheSeconds * 1000 }),
    patientWalk: new PatientWalk(database.prisma),
    searchCache: withMemoryTier(
      new OutageTolerantSearchCache(
        new PrismaSearchCache(database.prisma, { ttlSeconds: config.cache.ttlSeconds, defaultTtlSeconds: config.cache.defaultTtlSeconds }),
        databaseHealth,
      ),
      config.cache.memoryMaxResources,
    ),
    health,
    logger: opts.logger,
    payers: new Map(
      eligibilitySources(config).map((s) => {
        const service = new EligibilityService(s, { client: new EligibilityClient(s, { onCall }), cache: new OutageTolerantEligibilityCache(new PrismaEligibilityCache(database.prisma), databaseHealth) });
        return [s.id, service] as const;
      }),
    ),
    database,
    auditStore,
    auditWriter,
    auditSpool,
    databaseHealth,
    deid,
    cohorts: new CohortService(database.prisma, { suppressionThreshold: config.analytics.suppressionThreshold, sourceIds: fhirSources(config).map((s) => s.id), databaseKind: database.kind }),
    close: async ({ onStep } = {}) => {
      // Audit events still queued are written before the database goes (or, if it is
      // unreachable, to the spool on disk).
      onStep?.('audit events');
      await auditWriter.close().then(
        () => opts.logger.info({ spooled: databaseHealth.down }, 'audit events stored'),
        (err: unknown) => opts.logger.error({ err: { code: (err as { code?: unknown })?.code }, lost: auditWriter.pending }, 'audit events lost at shutdown: neither the database nor the spool took them'),
      );
      databaseHealth.stop();
      onStep?.('database');
      if (!opts.database) await database.close();
    },
  };
}
