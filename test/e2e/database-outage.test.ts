import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE_UNAVAILABLE_NOTICE } from '../../server/plugins/database-outage.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { postgresBinDir, startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/throwaway-postgres.js';
import { until } from '../helpers/until.js';

// The cache database goes away during traffic and comes back, with no restart of the
// gateway (README "Operations", "When the database is down"):
// - clinical reads go on from the sources, with one CACHE_UNAVAILABLE error in `errors`;
// - patients already opened by id are still served (their links are in memory); a first
//   lookup, which needs the index, answers CACHE_UNAVAILABLE;
// - audit events go to the local spool and are in the database once it is back;
// - the outage is logged once, /readyz says database down, and the gateway reconnects.

const binDir = postgresBinDir();
if (!binDir) console.warn('database-outage.test.ts skipped: no PostgreSQL server binaries (initdb) under /usr/lib/postgresql/*/bin');

const MRN = 'http://mercy.example/fhir/mrn';
const CHART = `query Chart($id: ID!) { patient(id: $id) { id name { family } conditions { totalCount } observations(first: 3) { totalCount } } }`;
const LOOKUP = `query Lookup($v: String!) { patientByIdentifier(system: "${MRN}", value: $v) { id } }`;

let pgc: ThrowawayPostgres;
let t: TestGateway;
const logs: { level: number; msg: string; [field: string]: unknown }[] = [];

async function post(query: string, variables: Record<string, unknown>, requestId: string) {
  const res = await fetch(`${t.gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token('clinician')}`, 'x-request-id': requestId },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as { data?: any; errors?: any[] }) };
}

async function readyz() {
  const res = await fetch(`${t.gateway.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { database: string; status: string } };
}

describe.skipIf(!binDir)('a PostgreSQL outage during traffic', () => {
  const mrns: string[] = [];
  beforeAll(async () => {
    pgc = await startThrowawayPostgres(binDir!);
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    t = await startTestGateway({
      logger,
      // The cache is used (fresh for 5 min) and has no memory tier, so every cache read
      // goes to PostgreSQL.
      cache: { url: pgc.url('chartgraph'), defaultTtlSeconds: 300, memoryMaxResources: 0 },
      gatewayOptions: { auditFlushIntervalMs: 100 },
    });
    mrns.push(...t.sandbox.truth.patients.filter((p) => p.ehrs.mercy).map((p) => p.ehrs.mercy!.mrn));
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    await pgc?.dispose();
  });

  it('serves known patients from the sources, spools audit, reconnects and replays', async () => {
    const known = (await post(LOOKUP, { v: mrns[0] }, 'outage-lookup-0')).data.patientByIdentifier.id as string;
    const before = await post(CHART, { id: known }, 'outage-before-1');
    expect(before.errors).toBeUndefined();
    expect(before.data.patient.conditions.totalCount).toBeGreaterThan(0);
    // Served from the cache now: no upstream call.
    t.resetCounts();
    expect((await post(CHART, { id: known }, 'outage-before-2')).data).toEqual(before.data);
    expect(t.calls.filter((c) => c.resourceType === 'Condition')).toHaveLength(0);
    expect((await readyz()).status).toBe(200);

    // Traffic while the database stops.
    let stop = false;
    const during: { errors?: any[]; data?: any }[] = [];
    const traffic = (async () => {
      for (let i = 0; !stop; i++) during.push(await post(CHART, { id: known }, `outage-traffic-${String(i).padStart(4, '0')}`));
    })();
    await new Promise((r) => setTimeout(r, 300));
    pgc.stop();
    // Requests answered before the stop may have had their audit events written already.
    const atStop = during.length;
    await new Promise((r) => setTimeout(r, 2_500));
    stop = true;
    await traffic;
    expect(during.length).toBeGreaterThan(2);
    for (const r of during) {
      expect(r.data).toEqual(before.data);
      expect((r.errors ?? []).map((e) => e.extensions.code).filter((c) => c !== 'CACHE_UNAVAILABLE')).toEqual([]);
    }

    t.resetCounts();
    const down = await post(CHART, { id: known }, 'outage-down-0001');
    expect(down.data).toEqual(before.data);
    expect(down.errors).toEqual([{ message: CACHE_UNAVAILABLE_NOTICE, extensions: { code: 'CACHE_UNAVAILABLE' } }]);
    // Answered from the sources: the cache could not be read.
    expect(t.calls.filter((c) => c.resourceType === 'Condition').length).toBeGreaterThan(0);

    const first = await post(LOOKUP, { v: mrns[1] }, 'outage-lookup-1');
    expect(first.data).toEqual({ patientByIdentifier: null });
    expect(first.errors!.map((e) => [e.extensions.code, e.path])).toEqual([['CACHE_UNAVAILABLE', ['patientByIdentifier']]]);

    const ready = await readyz();
    expect(ready.status).toBe(503);
    expect(ready.body.database).toBe('down');

    // Audit events of the outage are on disk, not lost.
    await until('the spool to fill', async () => (await t.gateway.services.auditSpool.count()) >= during.length - atStop);
    const unreachable = logs.filter((l) => l.msg.startsWith('cache database unreachable'));
    expect(unreachable).toHaveLength(1);
    expect(logs.filter((l) => l.level >= 50)).toEqual([]);

    pgc.start();
    await until('/readyz to say ready', async () => (await readyz()).status === 200);
    await until('the spool to drain', async () => (await t.gateway.services.auditSpool.count()) === 0);
    expect(logs.filter((l) => l.msg === 'cache database reachable again')).toHaveLength(1);
    // The replay logs after its last file is deleted, so the spool can read empty a moment
    // before the line is written; a replay cut short by a hiccup is tried again and logs again.
    const replayLogs = () => logs.filter((l) => l.msg === 'spooled audit events written to the database') as { replayed?: number }[];
    await until('the replay to be logged', async () => replayLogs().length > 0);
    expect(replayLogs().reduce((n, l) => n + l.replayed!, 0)).toBeGreaterThanOrEqual(during.length - atStop);

    const prisma = t.gateway.services.database.prisma;
    const ids = ['outage-down-0001', 'outage-lookup-1', ...during.map((_, i) => `outage-traffic-${String(i).padStart(4, '0')}`)];
    const stored = await prisma.auditEvent.groupBy({ by: ['requestId'], where: { requestId: { in: ids } }, _count: true });
    expect(stored.map((s) => [s.requestId, s._count]).sort()).toEqual(ids.map((id) => [id, 1]).sort());

    // Back to normal, without a restart: no notice, first lookups link again.
    const after = await post(CHART, { id: known }, 'outage-after-1');
    expect(after.errors).toBeUndefined();
    expect(after.data).toEqual(before.data);
    const linked = await post(LOOKUP, { v: mrns[1] }, 'outage-lookup-2');
    expect(linked.errors).toBeUndefined();
    expect(linked.data.patientByIdentifier.id).toMatch(/^[0-9a-f-]{36}$/);
  }, 240_000);
});
