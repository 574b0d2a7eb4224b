import type { Logger } from 'pino';
import { fhirSources, type ChartgraphConfig } from '../config/config.schema.js';
import { openDatabase, type Database } from '../datasources/cache/database.js';
import { PatientIndex } from '../datasources/cache/patient-index.js';
import { PrismaSearchCache } from '../datasources/cache/prisma-search-cache.js';
import { FhirClient } from '../datasources/fhir/fhir-client.js';
import type { UpstreamCall } from '../datasources/fhir/fhir-types.js';
import { SourceHealth } from '../datasources/source-health.js';
import type { GatewayServices } from '../resolvers/context.js';

export interface ServiceOptions {
  logger: Logger;
  /** Sees every upstream call (tests, explain, metrics). */
  onUpstreamCall?: (call: UpstreamCall) => void;
  /** An already-open database (tests share one); otherwise `config.cache.url` is opened. */
  database?: Database;
}

export type RunningServices = GatewayServices & { database: Database; close(): Promise<void> };

/** Opens the cache database (migrating it) and builds one client per FHIR source. */
export async function createGatewayServices(config: ChartgraphConfig, opts: ServiceOptions): Promise<RunningServices> {
  const database = opts.database ?? (await openDatabase(config.cache.url, { logger: opts.logger }));
  const health = new SourceHealth();
  const onCall = (call: UpstreamCall) => {
    health.record(call);
    opts.onUpstreamCall?.(call);
  };
  const clients = new Map(fhirSources(config).map((s) => [s.id, new FhirClient(s, { onCall })] as const));
  return {
    config,
    clients,
    index: new PatientIndex(database.prisma),
    searchCache: new PrismaSearchCache(database.prisma, {
      ttlSeconds: config.cache.ttlSeconds,
      defaultTtlSeconds: config.cache.defaultTtlSeconds,
    }),
    health,
    logger: opts.logger,
    database,
    close: async () => {
      if (!opts.database) await database.close();
    },
  };
}
