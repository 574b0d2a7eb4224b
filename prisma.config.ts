process.env.DATABASE_URL ??= "postgresql://unused@localhost/unused";

// Prisma 6.19's CLI works offline only through a driver adapter (it would otherwise download
// native engines, which these machines cannot reach). Migrations are authored on PGlite: by
// default in memory (each CLI run replays prisma/migrations, then diffs), or in the folder
// named by PRISMA_PGLITE_DIR. On PostgreSQL the CLI through @prisma/adapter-pg fails
// (prisma/orm#27403); the gateway applies migrations with datasources/cache/migrator.ts.
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { defineConfig, type PrismaConfig } from 'prisma/config';

type MigrationAdapterFactory = Awaited<ReturnType<Extract<PrismaConfig, { engine: 'js' }>['adapter']>>;
type MigrationAdapter = Awaited<ReturnType<MigrationAdapterFactory['connect']>>;

/**
 * pglite-prisma-adapter 0.6.1 as the schema engine needs it:
 * - the engine replays migration files on the shadow database through `executeRaw` with no
 *   arguments, which PGlite runs as one prepared statement ("cannot insert multiple commands
 *   into a prepared statement"); argument-less statements go through PGlite's `exec`, which
 *   takes a whole script, as pg's simple protocol does;
 * - the adapter is typed against Prisma 6.10's adapter interface (it ignores the argument
 *   types whose shape changed in 6.19), so only the types need bridging.
 */
function pgliteForMigrations(main: PGlite): MigrationAdapterFactory {
  const wrap = async (db: PGlite, onDispose?: () => Promise<void>): Promise<MigrationAdapter> => {
    const adapter = (await new PrismaPGlite(db).connect()) as unknown as MigrationAdapter;
    const executeRaw = adapter.executeRaw.bind(adapter);
    adapter.executeRaw = async (query) => {
      if (query.args.length > 0) return executeRaw(query);
      const results = await db.exec(query.sql);
      return results.reduce((n, r) => n + (r.affectedRows ?? 0), 0);
    };
    if (onDispose) {
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await dispose();
        await onDispose();
      };
    }
    return adapter;
  };
  return {
    provider: 'postgres',
    adapterName: 'pglite-prisma-adapter',
    connect: () => wrap(main),
    connectToShadowDb: async () => {
      const shadow = new PGlite();
      return wrap(shadow, () => shadow.close());
    },
  } as MigrationAdapterFactory;
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  async adapter() {
    const dir = process.env.PRISMA_PGLITE_DIR;
    return pgliteForMigrations(dir ? new PGlite(dir) : new PGlite());
  },
});
