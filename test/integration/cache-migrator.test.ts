import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CacheDatabaseError } from '../../datasources/cache/cache-errors.js';
import { openDatabase } from '../../datasources/cache/database.js';
import {
  findMigrationsDir,
  loadMigrations,
  migrate,
  pgExecutor,
  pgliteExecutor,
  type SqlExecutor,
} from '../../datasources/cache/migrator.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabaseHandle } from '../helpers/databases.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const migrationsDir = path.join(repoRoot, 'prisma', 'migrations');

/** A raw session on a test database, as the migrator sees it. */
interface Session {
  exec: SqlExecutor;
  close(): Promise<void>;
}

async function openSession(handle: TestDatabaseHandle): Promise<Session> {
  if (handle.kind === 'pglite') {
    const db = await PGlite.create({ dataDir: handle.url.slice('pglite:'.length) });
    return { exec: pgliteExecutor(db), close: () => db.close() };
  }
  const client = new pg.Client({ connectionString: handle.url });
  await client.connect();
  return { exec: pgExecutor(client), close: () => client.end() };
}

async function copyMigrations(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-migrations-'));
  await cp(migrationsDir, dir, { recursive: true });
  return dir;
}

const tempDirs: string[] = [];
afterAll(async () => {
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

describe('findMigrationsDir', () => {
  it('finds prisma/migrations from the source and the compiled module location', () => {
    expect(findMigrationsDir(`file://${repoRoot}/datasources/cache/migrator.ts`)).toBe(migrationsDir);
    expect(findMigrationsDir(`file://${repoRoot}/dist/datasources/cache/migrator.js`)).toBe(migrationsDir);
    expect(findMigrationsDir()).toBe(migrationsDir);
  });

  it('says where it looked when there is none', () => {
    expect(() => findMigrationsDir('file:///nowhere/a/b/c/migrator.js')).toThrow(
      expect.objectContaining({ code: 'MIGRATIONS_NOT_FOUND' }),
    );
  });

  it('loads migrations in name order with the sha256 of each file', async () => {
    const migrations = await loadMigrations(migrationsDir);
    expect(migrations.map((m) => m.name)).toEqual(migrations.map((m) => m.name).sort());
    expect(migrations[0].name).toMatch(/^\d{14}_init$/);
    const bytes = await readFile(path.join(migrationsDir, migrations[0].name, 'migration.sql'));
    expect(migrations[0].checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});

for (const kind of testDatabaseKinds()) {
  describe(`migrate on ${kind}`, () => {
    let handle: TestDatabaseHandle;
    let session: Session;
    beforeAll(async () => {
      handle = await createTestDatabase(kind);
      session = await openSession(handle);
    });
    afterAll(async () => {
      await session?.close();
      await handle?.dispose();
    });

    it('applies the migrations once, recorded as Prisma records them, and is idempotent', async () => {
      const expected = (await loadMigrations(migrationsDir)).map((m) => m.name);
      const first = await migrate(session.exec, { migrationsDir });
      expect(first).toEqual({ applied: expected, alreadyApplied: [] });
      const second = await migrate(session.exec, { migrationsDir });
      expect(second).toEqual({ applied: [], alreadyApplied: expected });

      const rows = await session.exec.query<Record<string, unknown>>(
        'SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name',
      );
      const migrations = await loadMigrations(migrationsDir);
      expect(rows).toHaveLength(migrations.length);
      rows.forEach((row, i) => {
        expect(row.migration_name).toBe(migrations[i].name);
        expect(row.checksum).toBe(migrations[i].checksum);
        expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(row.finished_at).toBeInstanceOf(Date);
        expect(row.started_at).toBeInstanceOf(Date);
        expect(row.logs).toBeNull();
        expect(row.rolled_back_at).toBeNull();
        expect(row.applied_steps_count).toBe(1);
      });
      const tables = await session.exec.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      // Every model of schema.prisma is a table (later migrations add more).
      const schema = await readFile(path.join(findMigrationsDir(), '..', 'schema.prisma'), 'utf8');
      const mapped = [...schema.matchAll(/@@map\("([a-z_]+)"\)/g)].map((m) => m[1]);
      expect(tables.map((t) => t.table_name)).toEqual(['_prisma_migrations', ...mapped].sort());
    });

    it('refuses to run when an applied migration file changed', async () => {
      const dir = await copyMigrations();
      tempDirs.push(dir);
      const [first] = await loadMigrations(dir);
      await writeFile(path.join(dir, first.name, 'migration.sql'), `${first.sql}\n-- edited\n`);
      const error = await migrate(session.exec, { migrationsDir: dir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheDatabaseError);
      expect(error).toMatchObject({ code: 'MIGRATION_CHECKSUM_MISMATCH' });
      expect((error as Error).message).toContain(first.name);
      // openDatabase refuses as well, before handing out a client. (One PGlite per folder at a time.)
      await session.close();
      await expect(openDatabase(handle.url, { migrationsDir: dir })).rejects.toMatchObject({ code: 'MIGRATION_CHECKSUM_MISMATCH' });
      session = await openSession(handle);
    });

    it('rolls a failing migration back whole and records nothing', async () => {
      const dir = await copyMigrations();
      tempDirs.push(dir);
      await mkdir(path.join(dir, '29990101000000_broken'));
      await writeFile(
        path.join(dir, '29990101000000_broken', 'migration.sql'),
        'CREATE TABLE "half_done" (id INT);\nSELECT 1 / 0;\n',
      );
      await expect(migrate(session.exec, { migrationsDir: dir })).rejects.toMatchObject({
        code: 'MIGRATION_FAILED',
        message: expect.stringContaining('29990101000000_broken'),
      });
      const tables = await session.exec.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'");
      expect(tables).toEqual([]);
      const rows = await session.exec.query(`SELECT 1 FROM "_prisma_migrations" WHERE migration_name = '29990101000000_broken'`);
      expect(rows).toEqual([]);
      // The lock was released: a later run goes through.
      await expect(migrate(session.exec, { migrationsDir })).resolves.toMatchObject({ applied: [] });
    });

    it('warns about, and keeps, a migration this build does not know (a newer replica ran it)', async () => {
      await session.exec.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('00000000-0000-4000-8000-000000000001', 'x', now(), '29990101000000_future', 1)`,
      );
      const warnings: unknown[] = [];
      const result = await migrate(session.exec, { migrationsDir, logger: { info: () => undefined, warn: (obj) => warnings.push(obj) } });
      expect(result.applied).toEqual([]);
      expect(warnings).toEqual([{ migration: '29990101000000_future' }]);
      await session.exec.query(`DELETE FROM "_prisma_migrations" WHERE migration_name = '29990101000000_future'`);
    });

    it('refuses while Prisma has a failed migration on record', async () => {
      await session.exec.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, applied_steps_count) VALUES ('00000000-0000-4000-8000-000000000002', 'x', '29990101000001_failed', 'boom', 0)`,
      );
      await expect(migrate(session.exec, { migrationsDir })).rejects.toMatchObject({ code: 'MIGRATION_FAILED_EARLIER' });
      await session.exec.query(`DELETE FROM "_prisma_migrations" WHERE migration_name = '29990101000001_failed'`);
    });
  });
}

describe.runIf(testDatabaseKinds().includes('postgresql'))('migrate on postgresql, several replicas at once', () => {
  let handle: TestDatabaseHandle;
  const sessions: Session[] = [];
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.close();
    await handle?.dispose();
  });

  it('applies each migration once when three migrators start together', async () => {
    handle = await createTestDatabase('postgresql');
    for (let i = 0; i < 3; i++) sessions.push(await openSession(handle));
    const results = await Promise.all(sessions.map((s) => migrate(s.exec, { migrationsDir })));
    const names = (await loadMigrations(migrationsDir)).map((m) => m.name);
    expect(results.filter((r) => r.applied.length > 0)).toEqual([{ applied: names, alreadyApplied: [] }]);
    expect(results.filter((r) => r.applied.length === 0)).toHaveLength(2);
    const rows = await sessions[0].exec.query('SELECT migration_name FROM "_prisma_migrations"');
    expect(rows).toHaveLength(names.length);
  });

  it('opens the same new database from two gateways at once', async () => {
    handle = await createTestDatabase('postgresql');
    const [a, b] = await Promise.all([handle.open(), handle.open()]);
    expect(await a.prisma.unifiedPatient.count()).toBe(0);
    expect(await b.prisma.unifiedPatient.count()).toBe(0);
  });
});

// Concurrent: each CLI run is a few seconds of mostly start-up.
describe.concurrent('prisma CLI agrees with the migrator', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('`prisma migrate status` finds nothing pending on a database the migrator made', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cg-pglite-cli-'));
    const db = await openDatabase(`pglite:${dir}`);
    await db.close();
    const { stdout } = await promisify(execFile)(path.join(repoRoot, 'node_modules', '.bin', 'prisma'), ['migrate', 'status'], {
      cwd: repoRoot,
      env: { ...process.env, PRISMA_PGLITE_DIR: dir },
    });
    expect(stdout).toContain('Database schema is up to date!');
  }, 60_000);

  it('prisma/schema.prisma and the migrations describe the same database', async () => {
    // Fails when someone edits the schema without adding a migration (node prisma/new-migration.mjs).
    const { stdout } = await promisify(execFile)(
      path.join(repoRoot, 'node_modules', '.bin', 'prisma'),
      ['migrate', 'diff', '--from-migrations', 'prisma/migrations', '--to-schema-datamodel', 'prisma/schema.prisma', '--exit-code'],
      { cwd: repoRoot },
    );
    expect(stdout).toContain('No difference detected.');
  }, 60_000);
});
