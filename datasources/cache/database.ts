import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { CacheDatabaseError, describeCacheUrl, describeCause } from './cache-errors.js';
import { PrismaClient } from './generated/client.js';
import { migrate, pgExecutor, pgliteExecutor, type MigrationLogger } from './migrator.js';
import { createPGliteAdapter, type DriverAdapterFactory } from './pglite-adapter.js';

export { PrismaClient };

/** Which engine holds the cache. */
export type DatabaseKind = 'pglite' | 'postgresql';

/** An open, migrated cache database. */
export interface Database {
  prisma: PrismaClient;
  kind: DatabaseKind;
  /** Disconnects Prisma and closes PGlite or the pool. */
  close(): Promise<void>;
  /**
   * LISTEN on a channel (PostgreSQL notifications; PGlite delivers them in-process). Returns a
   * function that stops listening. Used by the event feed to hear other replicas.
   */
  listen?: (channel: string, onPayload: (payload: string) => void) => Promise<() => Promise<void>>;
}

/** Options of `openDatabase`. */
export interface OpenDatabaseOptions {
  logger?: MigrationLogger;
  /** Deadline of each start-up probe (connect, first query), in ms. Default 15 000. */
  startupTimeoutMs?: number;
  /** Migrations folder; default the package's `prisma/migrations`. */
  migrationsDir?: string;
  /** Called after every SQL statement Prisma runs (query counting in tests, debug logs). */
  onQuery?: (event: { query: string; durationMs: number }) => void;
}

type ParsedUrl = { kind: 'pglite'; dataDir: string | undefined } | { kind: 'postgresql'; url: string };

/**
 * Parses a cache URL: `pglite:memory:` (in memory, for tests), `pglite:<dir>` (relative to
 * the working directory) or `postgresql://` / `postgres://`.
 */
export function parseCacheUrl(url: string): ParsedUrl {
  if (url.startsWith('pglite:')) {
    const rest = url.slice('pglite:'.length);
    if (rest === 'memory:') return { kind: 'pglite', dataDir: undefined };
    if (!rest) throw new CacheDatabaseError('CACHE_URL_INVALID', 'Cache URL "pglite:" needs a folder (pglite:<dir>) or memory: (pglite:memory:)');
    return { kind: 'pglite', dataDir: path.resolve(rest) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgresql', url };
  throw new CacheDatabaseError('CACHE_URL_INVALID', `Cache URL ${describeCacheUrl(url)} must start with pglite: or postgresql://`);
}

/**
 * Opens the cache database named by `url`, applies pending migrations, checks that it
 * answers, and hands out a Prisma client. PGlite is one connection in one process, so it is
 * migrated through the same instance before Prisma gets it.
 */
export async function openDatabase(url: string, opts: OpenDatabaseOptions = {}): Promise<Database> {
  const parsed = parseCacheUrl(url);
  const where = describeCacheUrl(url);
  const timeoutMs = opts.startupTimeoutMs ?? 15_000;

  if (parsed.kind === 'pglite') {
    if (parsed.dataDir) await mkdir(parsed.dataDir, { recursive: true });
    let pglite: PGlite | undefined;
    try {
      pglite = await withDeadline(PGlite.create(parsed.dataDir ? { dataDir: parsed.dataDir } : {}), timeoutMs, where, 'open');
      const db = pglite;
      await withDeadline(db.query('SELECT 1'), timeoutMs, where, 'answer its first query');
      await migrate(pgliteExecutor(db), { migrationsDir: opts.migrationsDir, logger: opts.logger });
      const prisma = createClient(createPGliteAdapter(db), opts);
      await withDeadline(prisma.$queryRawUnsafe('SELECT 1'), timeoutMs, where, 'answer its first query through Prisma');
      return {
        prisma,
        kind: 'pglite',
        listen: async (channel, onPayload) => {
          const stop = await db.listen(channel, onPayload);
          return async () => stop();
        },
        async close() {
          await prisma.$disconnect();
          await db.close();
        },
      };
    } catch (error) {
      // A hung instance may never close: do not wait for it.
      void pglite?.close().catch(() => undefined);
      throw wrapStartupError(error, where, url);
    }
  }

  // pg's own connect timeout backs up the deadline (which fires first, with the clearer error).
  const client = new pg.Client({ connectionString: parsed.url, connectionTimeoutMillis: timeoutMs + 1_000 });
  try {
    await withDeadline(client.connect(), timeoutMs, where, 'accept a connection');
    await withDeadline(client.query('SELECT 1'), timeoutMs, where, 'answer its first query');
    await migrate(pgExecutor(client), { migrationsDir: opts.migrationsDir, logger: opts.logger });
  } catch (error) {
    throw wrapStartupError(error, where, url);
  } finally {
    void client.end().catch(() => undefined);
  }
  const prisma = createClient(new PrismaPg({ connectionString: parsed.url }), opts);
  try {
    await withDeadline(prisma.$queryRawUnsafe('SELECT 1'), timeoutMs, where, 'answer its first query through Prisma');
  } catch (error) {
    void prisma.$disconnect().catch(() => undefined);
    throw wrapStartupError(error, where, url);
  }
  return {
    prisma,
    kind: 'postgresql',
    async close() {
      await prisma.$disconnect();
    },
  };
}

function createClient(adapter: DriverAdapterFactory, opts: OpenDatabaseOptions): PrismaClient {
  if (!opts.onQuery) return new PrismaClient({ adapter });
  const prisma = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  const onQuery = opts.onQuery;
  prisma.$on('query', (e) => onQuery({ query: e.query, durationMs: e.duration }));
  // Same client; only the static type remembers the log option.
  return prisma as unknown as PrismaClient;
}

function wrapStartupError(error: unknown, where: string, url: string): CacheDatabaseError {
  if (error instanceof CacheDatabaseError) return error;
  return new CacheDatabaseError('CACHE_UNREACHABLE', `Cache database ${where} could not be opened: ${describeCause(error, url)}`, { cause: error });
}

async function withDeadline<T>(work: Promise<T>, ms: number, where: string, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CacheDatabaseError('CACHE_STARTUP_TIMEOUT', `Cache database ${where} did not ${what} within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
