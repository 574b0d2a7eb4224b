import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../datasources/cache/database.js';
import type { Role } from '../../permissions/roles.js';
import { SSN_SYSTEM } from '../../sandbox/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Every read of patient data leaves an audit event in the database: who, role, purpose,
// which patients, which field groups, outcome, time, request id. Written in batches off
// the request path, and never lost on a graceful shutdown.

let t: TestGateway;
let unifiedId: string;
let otherId: string;

async function ask(query: string, variables: Record<string, unknown>, role: Role, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(role)}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { requestId: res.headers.get('x-request-id')!, body: (await res.json()) as any };
}

async function eventOf(requestId: string) {
  await t.gateway.services.auditWriter.flush();
  return t.gateway.services.database.prisma.auditEvent.findMany({ where: { requestId } });
}

beforeAll(async () => {
  // Nothing is written until a flush, unless the test asks for one: so the shutdown test
  // below closes with events still queued.
  t = await startTestGateway({ gatewayOptions: { auditFlushIntervalMs: 3_600_000 } });
  const withSsn = t.sandbox.truth.patients.filter((p) => p.ssn && p.ehrs.mercy?.hasSsn);
  const ids: string[] = [];
  for (const p of withSsn.slice(0, 2)) {
    const res = await t.query(`query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) { id } }`, { v: p.ssn }, 'admin');
    ids.push(res.data.patientByIdentifier.id);
  }
  [unifiedId, otherId] = ids as [string, string];
});
afterAll(async () => t?.close());

describe('audit events', () => {
  it('record who read which patients’ field groups, why, with the request id', async () => {
    const { requestId, body } = await ask(
      `query Chart($id: ID!) { patient(id: $id) { id name { family } birthDate conditions(first: 2) { totalCount } identifiers { system } } }`,
      { id: unifiedId },
      'clinician',
      { 'X-Purpose-Of-Use': 'TREAT', 'x-request-id': 'audit-test-0001' },
    );
    expect(body.errors).toBeUndefined();
    expect(requestId).toBe('audit-test-0001');
    const events = await eventOf(requestId);
    expect(events).toHaveLength(1);
    const e = events[0]!;
    expect(e).toMatchObject({
      requestId,
      subject: 'dev-clinician',
      role: 'clinician',
      purposeOfUse: 'TREAT',
      action: 'read',
      patientIds: [unifiedId],
      fieldGroups: ['conditions', 'demographics', 'identifiers'],
      outcome: 'success',
      detail: { operationName: 'Chart', lookups: ['patient'] },
    });
    expect(Date.now() - e.at.getTime()).toBeLessThan(10_000);
  });

  it('record refused reads as denied, with the groups asked for', async () => {
    const billing = await ask(`query($id: ID!) { patient(id: $id) { gender observations { totalCount } } }`, { id: unifiedId }, 'billing', { 'x-purpose-of-use': 'HPAYMT' });
    expect(billing.body.errors.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
    const [b] = await eventOf(billing.requestId);
    expect(b).toMatchObject({ role: 'billing', purposeOfUse: 'HPAYMT', patientIds: [unifiedId], fieldGroups: ['demographics', 'observations'], outcome: 'denied', detail: { deniedGroups: ['observations'] } });

    const analyst = await ask(`query($v: String!) { patientByIdentifier(system: "${SSN_SYSTEM}", value: $v) { id name { family } conditions { totalCount } } }`, { v: '999-99-9999' }, 'analyst');
    expect(analyst.body.errors.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
    const [a] = await eventOf(analyst.requestId);
    expect(a).toMatchObject({ role: 'analyst', purposeOfUse: null, patientIds: [], fieldGroups: ['conditions', 'demographics'], outcome: 'denied' });
    // The SSN asked for is patient data: it is not in the audit row either.
    expect(JSON.stringify(a)).not.toContain('999-99-9999');
  });

  it('record lookups that find nobody, skip requests without patient data, and mark odd purpose headers', async () => {
    const miss = await ask(`query($id: ID!) { patient(id: $id) { id } }`, { id: '00000000-0000-4000-8000-000000000000' }, 'clinician', { 'x-purpose-of-use': 'TREAT; DROP TABLE' });
    expect(miss.body.data.patient).toBeNull();
    expect(await eventOf(miss.requestId)).toMatchObject([{ patientIds: [], fieldGroups: [], outcome: 'success', purposeOfUse: 'INVALID' }]);
    const sources = await ask(`{ sources { id } }`, {}, 'clinician');
    expect(await eventOf(sources.requestId)).toEqual([]);
  });

  it('are listed for admins, newest first, with filters and cursor paging', async () => {
    const sent: string[] = [];
    for (const [i, id] of [unifiedId, otherId, unifiedId, otherId, unifiedId].entries()) {
      sent.push((await ask(`query($id: ID!) { patient(id: $id) { gender } }`, { id }, i % 2 ? 'care_coordinator' : 'clinician', { 'x-request-id': `audit-page-000${i}` })).requestId);
    }
    await t.gateway.services.auditWriter.flush();
    const Q = `query($p: ID, $s: String, $after: String, $from: DateTime) { auditEvents(patientId: $p, subject: $s, first: 2, after: $after, from: $from) { totalCount nodes { requestId subject patientIds } pageInfo { hasNextPage endCursor } } }`;
    const from = new Date(Date.now() - 60_000).toISOString();
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const res: any = await t.query(Q, { p: unifiedId, s: 'dev-clinician', after, from }, 'admin');
      expect(res.errors).toBeUndefined();
      const conn = res.data.auditEvents;
      for (const n of conn.nodes) {
        expect(n.subject).toBe('dev-clinician');
        expect(n.patientIds).toContain(unifiedId);
        seen.push(n.requestId);
      }
      after = conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null;
      pages++;
    } while (after && pages < 20);
    const mine = seen.filter((r) => r.startsWith('audit-page-'));
    expect(mine).toEqual(['audit-page-0004', 'audit-page-0002', 'audit-page-0000']);
    expect(new Set(seen).size).toBe(seen.length);

    // Reading the trail is itself audited: it says who looked at whom.
    const read = await ask(Q, { p: unifiedId, s: 'dev-clinician', after: null, from }, 'admin', { 'x-request-id': 'audit-read-0001' });
    expect(read.body.errors).toBeUndefined();
    expect((await eventOf('audit-read-0001')).map((e) => [e.subject, e.role, e.action, e.outcome, e.fieldGroups])).toEqual([['dev-admin', 'admin', 'read', 'success', ['auditEvents']]]);

    const denied = await t.query(`{ auditEvents(outcome: "denied") { totalCount nodes { outcome } } }`, {}, 'admin');
    expect(denied.data.auditEvents.totalCount).toBeGreaterThanOrEqual(2);
    expect(denied.data.auditEvents.nodes.every((n: any) => n.outcome === 'denied')).toBe(true);

    for (const role of ['clinician', 'billing', 'analyst', 'care_coordinator'] as const) {
      const res = await t.query(`{ auditEvents { totalCount } }`, {}, role);
      expect(res.data).toBeNull();
      expect(res.errors!.map((e) => e.extensions!.code)).toEqual(['FORBIDDEN']);
    }
    const bad = await t.query(`{ auditEvents(after: "bm9wZQ") { totalCount } }`, {}, 'admin');
    expect(bad.errors!.map((e) => e.extensions!.code)).toEqual(['BAD_USER_INPUT']);
  });

  it('are all in the database after a graceful shutdown, even those still queued', async () => {
    const N = 30;
    await t.gateway.services.auditWriter.flush();
    const sent = await Promise.all(
      Array.from({ length: N }, (_, i) => ask(`query($id: ID!) { patient(id: $id) { gender } }`, { id: i % 2 ? unifiedId : otherId }, 'clinician', { 'x-request-id': `shutdown-${String(i).padStart(4, '0')}` })),
    );
    expect(sent.every((s) => s.body.data.patient.gender)).toBe(true);
    const url = t.config.cache.url;
    expect(t.gateway.services.auditWriter.pending).toBe(N);
    await t.gateway.close();
    const db = await openDatabase(url);
    try {
      const rows = await db.prisma.auditEvent.findMany({ where: { requestId: { startsWith: 'shutdown-' } }, orderBy: { requestId: 'asc' } });
      expect(rows.map((r) => r.requestId)).toEqual(sent.map((s) => s.requestId).sort());
      expect(rows.every((r) => r.outcome === 'success' && r.fieldGroups.join() === 'demographics')).toBe(true);
    } finally {
      await db.close();
    }
  });
});
