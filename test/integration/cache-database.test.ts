import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CacheDatabaseError, describeCacheUrl } from '../../datasources/cache/cache-errors.js';
import { openDatabase, parseCacheUrl } from '../../datasources/cache/database.js';
import { loadMigrations } from '../../datasources/cache/migrator.js';
import { TEST_PG_URL, testDatabaseKinds } from '../helpers/databases.js';

describe('cache URLs', () => {
  it('parses pglite and postgresql URLs', () => {
    expect(parseCacheUrl('pglite:memory:')).toEqual({ kind: 'pglite', dataDir: undefined });
    expect(parseCacheUrl('pglite:.chartgraph/cache')).toEqual({ kind: 'pglite', dataDir: path.resolve('.chartgraph/cache') });
    expect(parseCacheUrl('postgresql://u:p@db:5432/x')).toEqual({ kind: 'postgresql', url: 'postgresql://u:p@db:5432/x' });
    expect(parseCacheUrl('postgres://db/x')).toEqual({ kind: 'postgresql', url: 'postgres://db/x' });
  });

  it('refuses other schemes without echoing credentials', () => {
    const error = (() => {
      try {
        parseCacheUrl('mysql://root:hunter2@db/x');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(CacheDatabaseError);
    expect(error).toMatchObject({ code: 'CACHE_URL_INVALID', message: 'Cache URL mysql://db/x must start with pglite: or postgresql://' });
    expect(() => parseCacheUrl('pglite:')).toThrow(expect.objectContaining({ code: 'CACHE_URL_INVALID' }));
  });

  it('describes URLs by scheme, host and database only', () => {
    expect(describeCacheUrl('postgresql://gateway:s3cret@db.internal:6543/cache?sslmode=require')).toBe('postgresql://db.internal:6543/cache');
    expect(describeCacheUrl('pglite:.chartgraph/cache')).toBe('pglite:.chartgraph/cache');
  });
});

describe('opening PGlite', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('creates the data folder, migrates, and closes', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'cg-open-'));
    dirs.push(root);
    const dir = path.join(root, 'nested', 'cache');
    const info: unknown[] = [];
    const db = await openDatabase(`pglite:${dir}`, { logger: { info: (obj) => info.push(obj), warn: () => undefined } });
    expect(db.kind).toBe('pglite');
    expect(existsSync(path.join(dir, 'PG_VERSION'))).toBe(true);
    expect(info).toEqual((await loadMigrations()).map((m) => ({ migration: m.name })));
    expect(await db.prisma.cachedSearch.count()).toBe(0);
    await db.close();
  });

  it('opens an in-memory database', async () => {
    const db = await openDatabase('pglite:memory:');
    expect(await db.prisma.unifiedPatient.count()).toBe(0);
    await db.close();
  });
});

describe.runIf(testDatabaseKinds().includes('postgresql'))('opening PostgreSQL', () => {
  const servers: net.Server[] = [];
  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
  });

  async function listen(onConnection: (socket: net.Socket) => void): Promise<number> {
    const server = net.createServer(onConnection);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as net.AddressInfo).port;
  }

  it('names the host, never the password, when the server is unreachable', async () => {
    const port = await listen((socket) => socket.destroy());
    const url = `postgresql://gateway:hunter2@127.0.0.1:${port}/cache`;
    const error = await openDatabase(url, { startupTimeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheDatabaseError);
    expect(error).toMatchObject({ code: 'CACHE_UNREACHABLE' });
    const message = (error as Error).message;
    expect(message).toContain(`Cache database postgresql://127.0.0.1:${port}/cache could not be opened`);
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('gateway');
  });

  it('gives up on a server that never answers, after the start-up deadline', async () => {
    const sockets: net.Socket[] = [];
    const port = await listen((socket) => sockets.push(socket));
    const started = Date.now();
    const error = await openDatabase(`postgresql://gateway:hunter2@127.0.0.1:${port}/cache`, { startupTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(CacheDatabaseError);
    expect(error).toMatchObject({
      code: 'CACHE_STARTUP_TIMEOUT',
      message: `Cache database postgresql://127.0.0.1:${port}/cache did not accept a connection within 300 ms`,
    });
    expect((error as Error).message).not.toContain('hunter2');
    for (const s of sockets) s.destroy();
  });

  it('reports a database that does not exist', async () => {
    const url = new URL(TEST_PG_URL);
    url.pathname = '/cg_does_not_exist';
    await expect(openDatabase(url.toString())).rejects.toMatchObject({
      code: 'CACHE_UNREACHABLE',
      message: expect.stringContaining('3D000'),
    });
  });
});
