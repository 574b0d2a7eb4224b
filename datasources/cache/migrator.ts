import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { CacheDatabaseError, describeCause } from './cache-errors.js';

/** The little a migrator needs from a database connection (one session: the lock is per session). */
export interface SqlExecutor {
  /** One statement, `$1`-style parameters; returns the rows. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** A script of one or more statements, no parameters. */
  exec(sql: string): Promise<void>;
}

/** An executor over one `pg` client (not a pool: the advisory lock and transactions need one session). */
export function pgExecutor(client: pg.ClientBase): SqlExecutor {
  return {
    async query<R>(sql: string, params: readonly unknown[] = []) {
      return (await client.query(sql, params as unknown[])).rows as R[];
    },
    async exec(sql: string) {
      // Without parameters pg uses the simple protocol, which accepts several statements.
      await client.query(sql);
    },
  };
}

/** An executor over a PGlite instance (one connection by nature). */
export function pgliteExecutor(db: PGlite): SqlExecutor {
  return {
    async query<R>(sql: string, params: readonly unknown[] = []) {
      return (await db.query<R>(sql, params as unknown[])).rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}

/** One migration folder: `prisma/migrations/<name>/migration.sql`. */
export interface Migration {
  name: string;
  sql: string;
  /** Hex sha256 of the file, as Prisma records it. */
  checksum: string;
}

/** Minimal logger (pino-compatible). */
export interface MigrationLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Options of `migrate`. */
export interface MigrateOptions {
  /** Folder holding `<name>/migration.sql`; default: the package's `prisma/migrations`. */
  migrationsDir?: string;
  logger?: MigrationLogger;
}

/** What `migrate` did. */
export interface MigrateResult {
  /** Migrations applied by this call, in order. */
  applied: string[];
  /** Migrations found already applied. */
  alreadyApplied: string[];
}

// The key Prisma's own schema engine locks on for PostgreSQL, so this migrator and
// `prisma migrate deploy` also exclude each other.
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

// Prisma's table, column for column, so that `prisma migrate deploy`/`status` agree with us.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * The package's `prisma/migrations` folder. This module runs from source
 * (`datasources/cache/`) or compiled (`dist/datasources/cache/`), so the package root is two or
 * three levels up.
 */
export function findMigrationsDir(moduleUrl: string = import.meta.url): string {
  const here = path.dirname(fileURLToPath(moduleUrl));
  const candidates = [path.resolve(here, '..', '..'), path.resolve(here, '..', '..', '..')].map((root) =>
    path.join(root, 'prisma', 'migrations'),
  );
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) {
    throw new CacheDatabaseError('MIGRATIONS_NOT_FOUND', `No prisma/migrations folder found (looked in ${candidates.join(', ')})`);
  }
  return found;
}

/** Reads `<dir>/<name>/migration.sql` for every sub-folder, in name order (Prisma's names start with a timestamp). */
export async function loadMigrations(dir: string = findMigrationsDir()): Promise<Migration[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new CacheDatabaseError('MIGRATIONS_NOT_FOUND', `Cannot read migrations folder ${dir}: ${describeCause(error)}`, { cause: error });
  }
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const migrations: Migration[] = [];
  for (const name of names) {
    const file = path.join(dir, name, 'migration.sql');
    if (!existsSync(file)) continue;
    const bytes = await readFile(file);
    migrations.push({ name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') });
  }
  return migrations;
}

/**
 * Applies pending migrations, each in its own transaction, under Prisma's advisory lock, and
 * records them in `_prisma_migrations` as Prisma does. Refuses to run when an applied
 * migration's file changed or when Prisma recorded a failed migration (resolve it with
 * `prisma migrate resolve`). Migrations must be able to run inside a transaction (no
 * `CREATE INDEX CONCURRENTLY`).
 */
export async function migrate(db: SqlExecutor, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = await loadMigrations(options.migrationsDir ?? findMigrationsDir());
  const logger = options.logger;
  // Blocks while another replica (or `prisma migrate deploy`) migrates; it then finds its work done.
  await db.query(`SELECT pg_advisory_lock(${PRISMA_ADVISORY_LOCK_KEY})`);
  try {
    await db.exec(CREATE_MIGRATIONS_TABLE);
    const rows = await db.query<MigrationRow>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at`,
    );
    const applied = new Map<string, MigrationRow>();
    for (const row of rows) {
      if (row.rolled_back_at !== null) continue;
      if (row.finished_at === null) {
        throw new CacheDatabaseError(
          'MIGRATION_FAILED_EARLIER',
          `Migration ${row.migration_name} is recorded as failed in _prisma_migrations; fix the database, then mark it with \`prisma migrate resolve\``,
        );
      }
      applied.set(row.migration_name, row);
    }
    const local = new Set(migrations.map((m) => m.name));
    for (const name of applied.keys()) {
      // A newer replica may have migrated already (rolling upgrade): not fatal for this one.
      if (!local.has(name)) logger?.warn({ migration: name }, 'cache database has a migration this build does not know');
    }

    const result: MigrateResult = { applied: [], alreadyApplied: [] };
    for (const migration of migrations) {
      const row = applied.get(migration.name);
      if (row) {
        if (row.checksum !== migration.checksum) {
          throw new CacheDatabaseError(
            'MIGRATION_CHECKSUM_MISMATCH',
            `Migration ${migration.name} was changed after it was applied (checksum ${migration.checksum} differs from the recorded ${row.checksum}); add a new migration instead of editing an applied one`,
          );
        }
        result.alreadyApplied.push(migration.name);
        continue;
      }
      await applyOne(db, migration);
      logger?.info({ migration: migration.name }, 'applied cache migration');
      result.applied.push(migration.name);
    }
    return result;
  } finally {
    await db.query(`SELECT pg_advisory_unlock(${PRISMA_ADVISORY_LOCK_KEY})`).catch(() => undefined);
  }
}

async function applyOne(db: SqlExecutor, migration: Migration): Promise<void> {
  await db.exec('BEGIN');
  try {
    const id = randomUUID();
    await db.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)`,
      [id, migration.checksum, migration.name],
    );
    await db.exec(migration.sql);
    await db.query(`UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`, [id]);
    await db.exec('COMMIT');
  } catch (error) {
    await db.exec('ROLLBACK').catch(() => undefined);
    throw new CacheDatabaseError('MIGRATION_FAILED', `Migration ${migration.name} failed and was rolled back: ${describeCause(error)}`, {
      cause: error,
    });
  }
}
