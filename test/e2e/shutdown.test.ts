import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../server/auth.js';
import { startSandbox, type Sandbox } from '../../sandbox/index.js';
import { cliBuilt, listeningUrl, startCli } from '../helpers/cli.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabaseHandle } from '../helpers/databases.js';

// SIGTERM while a slow request is in flight, against the real CLI (`chartgraph serve`): the
// request is answered (past Apollo's old 10 s cut, within the documented 15 s grace), its
// audit event is in the database when the process is gone, and the exit status is 0.

const SECRET = 'shutdown-test-secret-0123456789abcdef';
// Longer than the 10 s that Apollo's drain used to allow, shorter than the 15 s grace.
const SLOW_MS = 11_000;

let sandbox: Sandbox;
let tmp: string;
beforeAll(async () => {
  sandbox = await startSandbox({ maxPatients: 6 });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'cg-shutdown-'));
});
afterAll(async () => {
  await sandbox?.close();
  await rm(tmp, { recursive: true, force: true });
});

async function ask(url: string, token: string, query: string, variables: Record<string, unknown>, requestId: string) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': requestId },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: any[] } };
}

const CHART = `query Chart($id: ID!) { patient(id: $id) { id conditions { totalCount } } }`;

describe.skipIf(!cliBuilt())('SIGTERM during a slow request (chartgraph serve)', () => {
  for (const kind of testDatabaseKinds()) {
    it(`answers it, stores its audit event and exits 0 (${kind})`, async () => {
      const db: TestDatabaseHandle = await createTestDatabase(kind);
      const dir = await mkdtemp(path.join(tmp, `${kind}-`));
      try {
        const config = {
          server: { port: 0, logLevel: 'info' },
          cache: { url: db.url, defaultTtlSeconds: 0, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 0 },
          auth: { mode: 'dev', secret: SECRET },
          audit: { spoolFile: path.join(dir, 'spool.jsonl') },
          sources: sandbox.sourcesConfig().map((s) => ({ ...s, timeoutMs: 30_000 })),
        };
        const file = path.join(dir, 'chartgraph.yaml');
        await writeFile(file, JSON.stringify(config));
        const token = await mintDevToken({ mode: 'dev', secret: SECRET, issuer: 'chartgraph-dev', audience: 'chartgraph', maxTokenLifetimeSec: 3600 }, { role: 'clinician' });
        const serve = startCli(['serve', '--config', file], { cwd: dir });
        try {
          const url = await listeningUrl(serve);
          const mrn = sandbox.truth.patients.find((p) => p.ehrs.mercy)!.ehrs.mercy!.mrn;
          const found = await ask(url, token, `query($v: String!) { patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: $v) { id } }`, { v: mrn }, 'shutdown-lookup-1');
          const id = found.body.data.patientByIdentifier.id as string;
          const fast = await ask(url, token, CHART, { id }, 'shutdown-fast-0001');
          expect(fast.body.errors).toBeUndefined();

          await sandbox.ehr('mercy').setFaults({ resourceTypes: ['Condition'], latencyMs: SLOW_MS });
          const conditionCalls = () => sandbox.ehr('mercy').requests.entries.filter((r) => r.resourceType === 'Condition').length;
          const before = conditionCalls();
          const slow = ask(url, token, CHART, { id }, 'shutdown-slow-0001');
          // Signal once the slow request's own upstream call is under way.
          const started = Date.now();
          while (conditionCalls() === before) {
            await new Promise((r) => setTimeout(r, 50));
          }
          serve.child.kill('SIGTERM');
          const answer = await slow;
          expect(answer.status).toBe(200);
          expect(answer.body.errors).toBeUndefined();
          expect(answer.body.data.patient).toEqual(fast.body.data.patient);
          expect(await serve.exited).toEqual({ code: 0, signal: null });
          expect(Date.now() - started).toBeGreaterThanOrEqual(SLOW_MS);
          expect(serve.stderr()).toContain('SIGTERM: shutting down');
          expect(serve.stdout()).not.toContain('audit events lost');

          const database = await db.open();
          const events = await database.prisma.auditEvent.findMany({ where: { requestId: 'shutdown-slow-0001' } });
          expect(events).toHaveLength(1);
          expect(events[0]).toMatchObject({ subject: 'dev-clinician', action: 'read', patientIds: [id], outcome: 'success', fieldGroups: ['conditions'] });
          expect(await database.prisma.auditEvent.count({ where: { requestId: { in: ['shutdown-lookup-1', 'shutdown-fast-0001'] } } })).toBe(2);
        } finally {
          await sandbox.ehr('mercy').setFaults([]);
          if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
        }
      } finally {
        await db.dispose();
      }
    }, 180_000);
  }
});
