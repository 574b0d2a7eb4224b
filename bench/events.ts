import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import { parseConfig } from '../config/load-config.js';
import { SimulatedEhr } from '../sandbox/fhir-server.js';
import { FhirStore } from '../sandbox/fhir-store.js';
import { DEFAULT_PROFILES } from '../sandbox/profiles.js';
import { startGateway, type Gateway } from '../server/app.js';
import { mintDevToken } from '../server/auth.js';

// The care-coordination event benchmark (PRODUCT.md, issue 15): N watched patients over E
// simulated EHRs, admissions written at R per second for D seconds (one in ten written at two
// EHRs at once: one event expected), two gateway replicas on one PostgreSQL, one SSE subscriber
// on each; half-way the first replica "crashes" (its pollers stop without giving up their
// leases, its subscriber's stream is cut and the subscriber resumes on the other replica with
// `after`). Reports write-to-delivery latency p50/p99 against the poll interval, and events
// lost and duplicated per subscriber (both must be 0).
//
//   npx tsx bench/events.ts [--patients 1000] [--ehrs 3] [--rate 10] [--duration 60] [--poll 5] [--lease 5]
//   (or after `npm run build`: node dist/bench/events.js ...). Small: --patients 50 --duration 10 --poll 1
// PostgreSQL at CHARTGRAPH_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test); a
// throwaway database is created and dropped.

export interface EventsBenchOptions {
  patients: number;
  ehrs: number;
  /** Logical admissions written per second. */
  rate: number;
  durationSeconds: number;
  pollSeconds: number;
  leaseSeconds: number;
}

export interface EventsSubscriberResult {
  subscriber: string;
  expected: number;
  received: number;
  duplicated: number;
  lost: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number | undefined;
}

export interface EventsBenchResult {
  options: EventsBenchOptions;
  subscribers: EventsSubscriberResult[];
  /** Delivery bound the target names: poll interval + 2 s. */
  deliveryBoundMs: number;
  /**
   * 0 lost, 0 duplicated, p99 delivery within the bound. p99, not max: admissions written just
   * before the kill wait for the dead replica's leases to expire, which the bound does not name.
   */
  met: boolean;
  lines: string[];
}

const PG_URL = process.env.CHARTGRAPH_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

const SUBSCRIPTION = `subscription($ids: [ID!], $after: String) { patientEvents(patientIds: $ids, after: $after, types: [ADMITTED]) { id provenance { sourceResourceId } } }`;

interface Received {
  id: string;
  at: number;
  resources: string[];
}

/** A subscriber that survives its replica: when the stream breaks, it resumes elsewhere with `after`. */
class Subscriber {
  readonly got: Received[] = [];
  private abort: AbortController | undefined;
  constructor(
    private readonly token: string,
    private readonly ids: string[],
  ) {}

  async connect(url: string): Promise<void> {
    this.abort?.abort();
    const abort = (this.abort = new AbortController());
    const after = this.got.at(-1)?.id;
    const res = await fetch(`${url}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ query: SUBSCRIPTION, variables: { ids: this.ids, ...(after && { after }) } }),
      signal: abort.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`subscription answered HTTP ${res.status}`);
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let at: number;
          while ((at = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, at);
            buffer = buffer.slice(at + 2);
            if (!/^event: next$/m.test(block)) continue;
            const data = JSON.parse(block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).join('\n'));
            const e = data.data?.patientEvents;
            if (e) this.got.push({ id: e.id, at: Date.now(), resources: e.provenance.map((p: { sourceResourceId: string }) => p.sourceResourceId) });
          }
        }
      } catch {
        // cut
      }
    })();
  }

  close(): void {
    this.abort?.abort();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export async function runEventsBench(opts: EventsBenchOptions): Promise<EventsBenchResult> {
  const { patients: PATIENTS, ehrs: EHRS, rate: RATE, durationSeconds: DURATION_S, pollSeconds: POLL_S, leaseSeconds: LEASE_S } = opts;
  const dbName = `cg_bench_events_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(PG_URL);
  dbUrl.pathname = `/${dbName}`;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'cg-bench-events-'));
  const ehrs: SimulatedEhr[] = [];
  const gateways: Gateway[] = [];
  try {
    for (let i = 0; i < EHRS; i++) {
      ehrs.push(await SimulatedEhr.start({ id: `ehr${i + 1}`, name: `EHR ${i + 1}`, store: new FhirStore([]), profile: { ...DEFAULT_PROFILES.stjude, restHookSubscriptions: false } }));
    }
    const config = parseConfig({
      server: { port: 0, logLevel: 'silent' },
      cache: { url: dbUrl.toString(), defaultTtlSeconds: 0, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 0 },
      auth: { mode: 'dev' },
      events: { enabled: true, pollSeconds: POLL_S, leaseSeconds: LEASE_S, overlapSeconds: 2, deliveryCheckMs: 1000, subscriberQueueSize: 10_000 },
      sources: ehrs.map((e) => ({ id: e.id, kind: 'fhir', name: e.name, baseUrl: e.baseUrl, auth: { type: 'none' } })),
    });
    const secretFile = path.join(tmp, 'dev-secret');
    const logger = pino({ level: 'silent' });
    for (let i = 0; i < 2; i++) gateways.push(await startGateway(config, { logger, port: 0, devSecretFile: secretFile }));
    const [a, b] = gateways;

    // Watched patients: one unified patient per person, linked to a record at every EHR.
    const people: Array<{ unifiedId: string; ids: string[] }> = [];
    for (let p = 0; p < PATIENTS; p++) {
      const ids = ehrs.map((_, e) => `p${p}-e${e}`);
      const unifiedId = await a.services.index.linkRecords(ids.map((id, e) => ({ sourceId: ehrs[e].id, sourcePatientId: id, method: 'identifier' })));
      people.push({ unifiedId, ids });
    }
    const cursorsReady = async () => (await a.services.database.prisma.eventCursor.count()) >= EHRS * 4;
    while (!(await cursorsReady())) await new Promise((r) => setTimeout(r, 100));

    const token = await mintDevToken(config.auth, { role: 'care_coordinator' }, secretFile);
    const ids = people.map((p) => p.unifiedId);
    const subs = [new Subscriber(token, ids), new Subscriber(token, ids)];
    await subs[0].connect(a.url);
    await subs[1].connect(b.url);
    await new Promise((r) => setTimeout(r, 500));

    // Injection: each logical admission is one or two writes (same patient, class and start).
    const writtenAt = new Map<string, number>(); // resource id -> write time
    const logical: string[][] = []; // resource ids of one expected event
    const total = Math.round(RATE * DURATION_S);
    const started = Date.now();
    let killed = false;
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / RATE;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      if (!killed && Date.now() - started >= (DURATION_S * 1000) / 2) {
        killed = true;
        // A crash: pollers stop holding their leases (they expire), the stream is cut.
        await Promise.all([...a.eventFeed.pollers.values()].map((p) => p.stop({ release: false })));
        void a.close();
        await subs[0].connect(b.url);
      }
      const person = people[Math.floor(Math.random() * people.length)];
      const start = new Date(Date.now() - n * 60_000).toISOString();
      const twice = n % 10 === 0 && EHRS > 1;
      const targets = twice ? [0, 1] : [Math.floor(Math.random() * EHRS)];
      const ids: string[] = [];
      for (const e of targets) {
        const r = ehrs[e].write({ resourceType: 'Encounter', status: 'in-progress', class: { code: 'IMP' }, subject: { reference: `Patient/${person.ids[e]}` }, period: { start } } as never);
        writtenAt.set(r.id!, Date.now());
        ids.push(r.id!);
      }
      logical.push(ids);
    }
    // Stragglers: a poll interval, a lease expiry and some slack.
    await new Promise((r) => setTimeout(r, (POLL_S + LEASE_S + 5) * 1000));

    const report = subs.map((s, i) => {
      const byResource = new Map<string, Received>();
      for (const g of s.got) for (const r of g.resources) byResource.set(r, g);
      const unique = new Set(s.got.map((g) => g.id));
      const lost = logical.filter((ids) => !ids.some((id) => byResource.has(id))).length;
      const latencies = logical
        .map((ids) => {
          const got = ids.map((id) => byResource.get(id)).find(Boolean);
          return got ? got.at - Math.min(...ids.map((id) => writtenAt.get(id)!)) : undefined;
        })
        .filter((x): x is number => x !== undefined)
        .sort((x, y) => x - y);
      return { subscriber: i === 0 ? 'replica A (killed), resumed on B' : 'replica B', expected: logical.length, received: s.got.length, duplicated: s.got.length - unique.size, lost, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: latencies.at(-1) };
    });
    for (const s of subs) s.close();
    const deliveryBoundMs = (POLL_S + 2) * 1000;
    const met = report.every((r) => r.lost === 0 && r.duplicated === 0 && r.p99Ms <= deliveryBoundMs);
    const lines = [
      `events: ${PATIENTS} patients, ${EHRS} EHRs, ${RATE}/s for ${DURATION_S} s, poll ${POLL_S} s, lease ${LEASE_S} s, one replica killed half-way`,
      '',
      '| subscriber | expected | received | lost | duplicated | p50 | p99 | max | bound (poll + 2 s) |',
      '|---|---|---|---|---|---|---|---|---|',
      ...report.map((r) => `| ${r.subscriber} | ${r.expected} | ${r.received} | ${r.lost} | ${r.duplicated} | ${r.p50Ms} ms | ${r.p99Ms} ms | ${r.maxMs ?? '-'} ms | ${deliveryBoundMs} ms |`),
    ];
    return { options: opts, subscribers: report, deliveryBoundMs, met, lines };
  } finally {
    for (const g of gateways) await g.close().catch(() => undefined);
    await Promise.all(ehrs.map((e) => e.close()));
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await runEventsBench({
    patients: flag('patients', 1000),
    ehrs: flag('ehrs', 3),
    rate: flag('rate', 10),
    durationSeconds: flag('duration', 60),
    pollSeconds: flag('poll', 5),
    leaseSeconds: flag('lease', 5),
  });
  console.log(JSON.stringify({ ...result.options, deliveryBoundMs: result.deliveryBoundMs, subscribers: result.subscribers }, null, 2));
  console.log(`\n${result.lines.join('\n')}\n\n${result.met ? 'met' : 'MISSED'}`);
  process.exitCode = result.met ? 0 : 1;
}
