import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cliBuilt, listeningUrl, runCli, startCli, type CliProcess } from '../helpers/cli.js';

// Every command of the README's CLI table, run as a new user would in a fresh clone: on a
// copy of the shipped chartgraph.yaml (only its ports moved, so that it runs beside other
// tests), with `chartgraph sandbox` up. Then the start-up failures an operator meets first.

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A run of `n` consecutive free ports. */
async function freePorts(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await isFree(base + i);
    if (ok) return base;
  }
  throw new Error('no free ports');
}

let dir: string;
let configFile: string;
let sandbox: CliProcess | undefined;
let gatewayPort: number;
let sandboxEnv: NodeJS.ProcessEnv;
// A fresh clone's environment: none of the sandbox's secrets.
const cleanEnv: NodeJS.ProcessEnv = { CHARTGRAPH_SANDBOX_KEY: undefined, CHARTGRAPH_SANDBOX_PAYER_TOKEN: undefined, CHARTGRAPH_CONFIG: undefined };

describe.skipIf(!cliBuilt())('README CLI commands on the shipped chartgraph.yaml', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cg-cli-'));
    const base = await freePorts(4);
    gatewayPort = await freePorts(1);
    const shipped = await readFile(path.join(ROOT, 'chartgraph.yaml'), 'utf8');
    const moved = shipped
      .replace(/127\.0\.0\.1:410([0-3])/g, (_, i: string) => `127.0.0.1:${base + Number(i)}`)
      .replace(/port: 4000/, `port: ${gatewayPort}`)
      .replace(/127\.0\.0\.1:4000/g, `127.0.0.1:${gatewayPort}`)
      .replace(/logLevel: \w+/, 'logLevel: info');
    expect(moved).not.toMatch(/:410[0-3]|:4000|port: 4000/);
    configFile = path.join(dir, 'chartgraph.yaml');
    await writeFile(configFile, moved);
    sandbox = startCli(['sandbox', '--base-port', String(base)], { cwd: dir, env: cleanEnv });
    const hint = await sandbox.waitFor(/npx chartgraph serve/, 120_000);
    const key = await readFile(path.join(dir, '.chartgraph/sandbox-client-key.pem'), 'utf8');
    const payerToken = /CHARTGRAPH_SANDBOX_PAYER_TOKEN=(\S+)/.exec(hint)![1]!;
    sandboxEnv = { ...cleanEnv, CHARTGRAPH_SANDBOX_KEY: key, CHARTGRAPH_SANDBOX_PAYER_TOKEN: payerToken };
  }, 180_000);
  afterAll(async () => {
    sandbox?.child.kill('SIGTERM');
    await sandbox?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  let token = '';
  it('token --role clinician needs none of the sources’ secrets', async () => {
    const r = await runCli(['token', '--role', 'clinician', '--config', configFile], { cwd: dir, env: cleanEnv });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    token = r.stdout.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).toMatchObject({ role: 'clinician', sub: 'dev-clinician' });
  }, 60_000);

  it('migrate', async () => {
    const r = await runCli(['migrate', '--config', configFile], { cwd: dir, env: cleanEnv });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('cache database is up to date');
  }, 120_000);

  it('check reaches both EHRs', async () => {
    const r = await runCli(['check', '--config', configFile], { cwd: dir, env: { ...cleanEnv, CHARTGRAPH_SANDBOX_KEY: sandboxEnv.CHARTGRAPH_SANDBOX_KEY } });
    expect(r.code).toBe(0);
    // The table, then one line that explains where each capability was learned.
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^\(config: /);
    const rows = lines.slice(0, -1).map((l) => l.split(/\s{2,}/));
    expect(rows.map((row) => row.slice(0, 3))).toEqual([
      ['source', 'metadata', 'search'],
      ['mercy', 'reachable', 'ok'],
      ['stjude', 'reachable', 'ok'],
    ]);
  }, 60_000);

  it('sync indexes every patient', async () => {
    const r = await runCli(['sync', '--config', configFile], { cwd: dir, env: { ...cleanEnv, CHARTGRAPH_SANDBOX_KEY: sandboxEnv.CHARTGRAPH_SANDBOX_KEY }, timeoutMs: 240_000 });
    expect(r.code).toBe(0);
  }, 240_000);

  it('serve answers with the minted token and stops on SIGTERM with status 0; a second serve on the same port exits 2', async () => {
    const serve = startCli(['serve', '--config', configFile], { cwd: dir, env: sandboxEnv });
    try {
      const url = await listeningUrl(serve);
      expect(url).toBe(`http://127.0.0.1:${gatewayPort}`);
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ sources { id status } searchPatients(first: 1) { totalCount } }' }),
      });
      const body = (await res.json()) as { data: { sources: { id: string }[]; searchPatients: { totalCount: number } }; errors?: unknown };
      expect(body.errors).toBeUndefined();
      expect(body.data.sources.map((s) => s.id)).toEqual(['mercy', 'stjude', 'acme-payer', 'state-medicaid']);
      // Answered from the index `sync` filled.
      expect(body.data.searchPatients.totalCount).toBeGreaterThan(0);

      const second = await runCli(['serve', '--config', configFile], { cwd: dir, env: sandboxEnv });
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`chartgraph cannot start: cannot listen on 127.0.0.1:${gatewayPort}: the port is already in use`);
      expect(second.stderr).toContain('set server.port');
      expect(second.stderr).not.toMatch(/^\s+at /m);
    } finally {
      serve.child.kill('SIGTERM');
    }
    expect(await serve.exited).toEqual({ code: 0, signal: null });
  }, 240_000);

  it('an unreachable database at start says so and exits 2', async () => {
    const closed = await freePorts(1);
    const file = path.join(dir, 'unreachable.yaml');
    await writeFile(file, (await readFile(configFile, 'utf8')).replace(/url: "pglite:[^"]*"/, `url: "postgresql://postgres@127.0.0.1:${closed}/nowhere"`));
    const r = await runCli(['serve', '--config', file], { cwd: dir, env: sandboxEnv });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`chartgraph cannot start: Cache database postgresql://127.0.0.1:${closed}/nowhere could not be opened`);
    expect(r.stderr).toContain('Check cache.url in the config');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 120_000);
});
