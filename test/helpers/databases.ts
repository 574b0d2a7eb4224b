import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { openDatabase, type Database, type DatabaseKind, type OpenDatabaseOptions } from '../../datasources/cache/database.js';

/**
 * A PostgreSQL server the tests may create databases on (trust auth). Override with
 * CHARTGRAPH_TEST_PG_URL.
 */
export const TEST_PG_URL = process.env.CHARTGRAPH_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** Kinds to test: both unless CHARTGRAPH_TEST_DB_KINDS says otherwise (e.g. `pglite`). */
export function testDatabaseKinds(): DatabaseKind[] {
  const env = process.env.CHARTGRAPH_TEST_DB_KINDS;
  if (!env) return ['pglite', 'postgresql'];
  return env.split(',').map((k) => k.trim()).filter((k): k is DatabaseKind => k === 'pglite' || k === 'postgresql');
}

/** A throwaway database: its URL, and `open` / `dispose`. */
export interface TestDatabaseHandle {
  kind: DatabaseKind;
  /** `pglite:<temp dir>` or `postgresql://.../cg_<random>`: pass to `openDatabase`. */
  url: string;
  /** Opens (and migrates) it; call again after `close()` to test a restart. */
  open(opts?: OpenDatabaseOptions): Promise<Database>;
  /** Closes what `open` opened and still is open, then drops the database or removes the folder. */
  dispose(): Promise<void>;
}

/**
 * Creates an empty database of this kind: a temp folder for PGlite (so it survives a
 * close/reopen), a fresh `cg_<random>` database on the test server for PostgreSQL (so test
 * files running in parallel never share tables).
 */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabaseHandle> {
  const opened = new Set<Database>();
  const track = async (url: string, opts?: OpenDatabaseOptions): Promise<Database> => {
    const db = await openDatabase(url, opts);
    opened.add(db);
    const close = db.close.bind(db);
    db.close = async () => {
      opened.delete(db);
      await close();
    };
    return db;
  };
  const closeAll = async () => {
    for (const db of [...opened]) await db.close().catch(() => undefined);
  };

  if (kind === 'pglite') {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-pglite-'));
    const url = `pglite:${dir}`;
    return {
      kind,
      url,
      open: (opts) => track(url, opts),
      async dispose() {
        await closeAll();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }

  const name = `cg_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = withDatabaseName(TEST_PG_URL, name);
  return {
    kind,
    url,
    open: (opts) => track(url, opts),
    async dispose() {
      await closeAll();
      // FORCE: a test that failed midway may have left a connection open.
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** A test database opened once: `close()` also disposes of it. */
export type TestDatabase = Database & { url: string };

/** Creates and opens a throwaway database of this kind; its `close()` drops it. */
export async function openTestDatabase(kind: DatabaseKind, opts?: OpenDatabaseOptions): Promise<TestDatabase> {
  const handle = await createTestDatabase(kind);
  try {
    const db = await handle.open(opts);
    return { prisma: db.prisma, kind: db.kind, url: handle.url, close: () => handle.dispose() };
  } catch (error) {
    await handle.dispose();
    throw error;
  }
}

/**
 * Runs `suite` once per database kind (a `describe` block each), with a database opened
 * before the block and dropped after it. `options` are passed to `openDatabase` (e.g. a
 * query counter).
 */
export function withDatabases(
  kinds: readonly DatabaseKind[],
  suite: (ctx: { kind: DatabaseKind; readonly db: TestDatabase }) => void,
  options?: OpenDatabaseOptions,
): void {
  for (const kind of kinds) {
    describe(kind, () => {
      let db: TestDatabase | undefined;
      beforeAll(async () => {
        db = await openTestDatabase(kind, options);
      });
      afterAll(async () => {
        await db?.close();
      });
      suite({
        kind,
        get db() {
          if (!db) throw new Error('test database not open yet (use it inside a test or hook)');
          return db;
        },
      });
    });
  }
}

/** Empties every table but the migration history (tables added by later migrations too). */
export async function resetDatabase(db: Database): Promise<void> {
  const tables = await db.prisma.$queryRawUnsafe<{ name: string }[]>(
    // pg_tables.tablename is of type "name", which the pg adapter cannot deserialize (prisma/orm#27403).
    `SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`,
  );
  if (tables.length === 0) return;
  await db.prisma.$executeRawUnsafe(`TRUNCATE ${tables.map((t) => `"${t.name}"`).join(', ')} CASCADE`);
}

/** Runs one statement on the test server's admin database. */
export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
