import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../server/auth.js';
import { startSandbox, type Sandbox } from '../../sandbox/index.js';
import { cliBuilt, listeningUrl, startCli, type CliProcess } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabaseHandle } from '../helpers/databases.js';

// The README's replica recipe, from outside: two `chartgraph serve` processes on one
// PostgreSQL and one Redis. Twenty parallel first lookups of one new patient, spread over
// both, end with one unified id; the rate limit is one budget across both.

const SECRET = 'replica-test-secret-0123456789abcdef';
const PER_MINUTE = 30;
const MRN: Record<string, string> = { mercy: 'http://mercy.example/fhir/mrn', stjude: 'http://stjude.example/fhir/mrn' };
const BY_MRN = `query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) { id } }`;

let sandbox: Sandbox;
let db: TestDatabaseHandle;
let dir: string;
const replicas: CliProcess[] = [];
const urls: string[] = [];

describe.skipIf(!cliBuilt())('two chartgraph processes on one PostgreSQL and Redis', () => {
  beforeAll(async () => {
    sandbox = await startSandbox({ maxPatients: 12 });
    db = await createTestDatabase('postgresql');
    dir = await mkdtemp(path.join(os.tmpdir(), 'cg-replicas-'));
    for (const n of [1, 2]) {
      const file = path.join(dir, `replica-${n}.yaml`);
      await writeFile(
        file,
        JSON.stringify({
          server: { port: 0, logLevel: 'info' },
          cache: { url: db.url, defaultTtlSeconds: 0, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 0 },
          auth: { mode: 'dev', secret: SECRET },
          identity: { linkCacheSeconds: 0 },
          limits: { rateLimit: { perMinute: PER_MINUTE, redisUrl: 'redis://127.0.0.1:6379' } },
          audit: { spoolFile: path.join(dir, `spool-${n}.jsonl`) },
          sources: sandbox.sourcesConfig(),
        }),
      );
      replicas.push(startCli(['serve', '--config', file], { cwd: dir }));
    }
    urls.push(...(await Promise.all(replicas.map((r) => listeningUrl(r)))));
  }, 180_000);
  afterAll(async () => {
    for (const r of replicas) r.child.kill('SIGTERM');
    const exits = await Promise.all(replicas.map((r) => r.exited));
    await sandbox?.close();
    await db?.dispose();
    await rm(dir, { recursive: true, force: true });
    expect(exits).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
  }, 60_000);

  async function ask(url: string, token: string, variables: Record<string, unknown>) {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: BY_MRN, variables }),
    });
    return { status: res.status, ...((await res.json()) as { data?: any; errors?: any[] }) };
  }

  it('20 parallel first lookups over both replicas give one unified id, and the rate limit is shared', async () => {
    // A subject of its own: the rate-limit budget in Redis is per subject.
    const token = await mintDevToken({ mode: 'dev', secret: SECRET, issuer: 'chartgraph-dev', audience: 'chartgraph', maxTokenLifetimeSec: 3600 }, { role: 'clinician', sub: `replica-${randomUUID()}` });
    const patient = sandbox.truth.patients.find((p) => p.ehrs.mercy && p.ehrs.stjude)!;
    // The limit counts in fixed clock minutes: start early in one, so that all 31 requests fall in it.
    if (Date.now() % 60_000 > 20_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 200));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const ehr = i % 4 < 2 ? 'mercy' : 'stjude';
        return ask(urls[i % 2]!, token, { s: MRN[ehr], v: patient.ehrs[ehr as 'mercy' | 'stjude']!.mrn });
      }),
    );
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(new Set(results.map((r) => r.data.patientByIdentifier.id)).size).toBe(1);
    const database = await db.open();
    const links = await database.prisma.patientLink.findMany({
      where: { OR: (['mercy', 'stjude'] as const).map((s) => ({ sourceId: s, sourcePatientId: patient.ehrs[s]!.patientId })) },
    });
    expect(links.map((l) => l.unifiedId)).toEqual([results[0]!.data.patientByIdentifier.id, results[0]!.data.patientByIdentifier.id]);

    // 20 of the 30 a minute are spent; the next 10, on either replica, pass, the 11th does not.
    const statuses: number[] = [];
    for (let i = 0; i < PER_MINUTE - 20 + 1; i++) statuses.push((await ask(urls[i % 2]!, token, { s: MRN.mercy, v: patient.ehrs.mercy!.mrn })).status);
    expect(statuses).toEqual([...Array(PER_MINUTE - 20).fill(200), 429]);
  }, 120_000);
});
