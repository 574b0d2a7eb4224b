import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Gateways start and poll inside these tests: slow on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });
import { EHR_INFO } from '../../sandbox/index.js';
import type { Gateway } from '../../server/app.js';
import { WS_RATE_LIMITED, WS_TOKEN_EXPIRED } from '../../server/event-stream.js';
import { openSse, openWs, startEventRig, type EventRig, type WsOperation } from '../helpers/event-gateways.js';
import { until } from '../helpers/until.js';

// The event streams (SSE at /graphql/stream, WebSocket at /graphql) are held to the HTTP
// endpoint's rules: the same document checks, refusals audited the same way, one rate-limit
// budget per client, and a merged patient's id followed to its survivor.

const BY_MRN = `query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) { id } }`;
const SUBSCRIPTION = `subscription($ids: [ID!], $types: [PatientEventType!]) { patientEvents(patientIds: $ids, types: $types) { id type patient { id } } }`;
const RESUME = `subscription($after: String) { patientEvents(after: $after) { id type } }`;

/** Fixed one-minute rate windows: start a burst early in a window so it cannot straddle two. */
async function awayFromWindowEdge(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 10_000) await new Promise((r) => setTimeout(r, left + 50));
}

let admissions = 0;

/**
 * Writes an admission of the Mercy-only patient to Mercy (the poller turns it into an ADMITTED
 * event). Each starts in an hour of its own, a day back: event ids are by the minute, so two
 * admissions in one minute would be one event. (Minutes back by the count were not enough: on
 * a loaded machine the next admission came a minute later, into the minute of an admission
 * written "now" by an earlier test.)
 */
function admit(rig: EventRig): void {
  const start = new Date(Date.now() - 86_400_000 - 3_600_000 * ++admissions);
  const patient = rig.sandbox.truth.patients.find((t) => t.ehrs.mercy && !t.ehrs.stjude)!;
  rig.sandbox.ehr('mercy').write({
    resourceType: 'Encounter',
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    subject: { reference: `Patient/${patient.ehrs.mercy!.patientId}` },
    period: { start: start.toISOString() },
  } as never);
}

/** The errors an operation on a WebSocket ended with: refused before it ran (an `error` message) or by its resolver (a result with errors, then `complete`). */
async function errorsOf(op: WsOperation): Promise<any[]> {
  const end = await op.ended;
  return end.errors ?? op.results.flatMap((r) => r.errors ?? []);
}

async function httpQuery(gw: Gateway, token: string, query: string, variables?: Record<string, unknown>) {
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: any[] } };
}

describe('event streams on one gateway (PGlite)', () => {
  let rig: EventRig;
  let gw: Gateway;
  let unifiedId: string;

  beforeAll(async () => {
    rig = await startEventRig();
    gw = await rig.startGateway();
    const patient = rig.sandbox.truth.patients.find((t) => t.ehrs.mercy && !t.ehrs.stjude)!;
    const found = await rig.query(gw, BY_MRN, { s: EHR_INFO.mercy.mrnSystem, v: patient.ehrs.mercy!.mrn });
    unifiedId = found.data.patientByIdentifier.id;
    await until('cursors', async () => (await gw.services.database.prisma.eventCursor.count()) === 8);
  }, 180_000);
  afterAll(async () => {
    await rig?.close();
  });

  const auditRows = async (where: Record<string, unknown>) => {
    await gw.services.auditWriter.flush();
    return gw.services.database.prisma.auditEvent.findMany({ where, orderBy: { at: 'asc' } });
  };

  it('refuse a subscription document over the field or token limit with the codes the HTTP endpoint gives, over SSE and WebSocket', async () => {
    const token = await rig.token('clinician');
    const tooManyFields = `subscription { patientEvents { ${Array.from({ length: 501 }, () => 'id').join(' ')} } }`;
    const tooManyTokens = `subscription { patientEvents { id ${'__typename '.repeat(10_000)} } }`;
    const ws = openWs(gw.url, token);
    try {
      for (const [doc, expected] of [
        [tooManyFields, { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'fields', max: 500, actual: 502 }],
        [tooManyTokens, { code: 'GRAPHQL_PARSE_FAILED' }],
      ] as const) {
        const http = await httpQuery(gw, token, doc);
        expect(http.body.errors?.map((e) => e.extensions)).toEqual([expected]);
        const sse = await openSse(gw.url, token, doc);
        const [sent] = await sse.waitFor(1);
        expect(sent!.errors?.map((e: any) => e.extensions)).toEqual([expected]);
        expect((await errorsOf(ws.run(doc))).map((e: any) => e.extensions)).toEqual([expected]);
      }
    } finally {
      await ws.close();
    }
  });

  it('audit a refused subscription like a refused query: the role without the feed, a type the role may not see, bad arguments, an oversized document', async () => {
    const billing = await openSse(gw.url, await rig.token('billing'), SUBSCRIPTION, { ids: [unifiedId] }, { 'x-request-id': 'events-refused-0001', 'x-purpose-of-use': 'HPAYMT' });
    const [refused] = await billing.waitFor(1);
    expect(refused!.errors?.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
    expect(await auditRows({ requestId: 'events-refused-0001' })).toMatchObject([
      {
        subject: 'dev-billing',
        role: 'billing',
        purposeOfUse: 'HPAYMT',
        action: 'read',
        patientIds: [unifiedId],
        fieldGroups: ['events'],
        outcome: 'denied',
        detail: { operationName: 'patientEvents', transport: 'sse', errorCodes: ['FORBIDDEN'], deniedGroups: ['events'] },
      },
    ]);

    const ws = openWs(gw.url, await rig.token('care_coordinator', undefined, 'coordinator-refused'));
    try {
      const labs = await errorsOf(ws.run(SUBSCRIPTION, { ids: [unifiedId], types: ['NEW_LAB_RESULT'] }));
      expect(labs.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
      const badIds = await errorsOf(ws.run(SUBSCRIPTION, { ids: ['not-a-uuid'] }));
      expect(badIds.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    } finally {
      await ws.close();
    }
    const coordinator = await auditRows({ subject: 'coordinator-refused' });
    expect(coordinator.map((r) => [r.action, r.outcome, r.patientIds, r.fieldGroups, (r.detail as any).transport, (r.detail as any).errorCodes])).toEqual([
      ['read', 'denied', [unifiedId], ['events'], 'ws', ['FORBIDDEN']],
      ['read', 'error', [], ['events'], 'ws', ['BAD_USER_INPUT']],
    ]);

    const huge = `subscription { patientEvents { ${Array.from({ length: 501 }, () => 'id').join(' ')} } }`;
    const sse = await openSse(gw.url, await rig.token('clinician'), huge, undefined, { 'x-request-id': 'events-refused-0002' });
    await sse.waitFor(1);
    expect(await auditRows({ requestId: 'events-refused-0002' })).toMatchObject([
      { subject: 'dev-clinician', action: 'request', patientIds: [], fieldGroups: [], outcome: 'denied', detail: { transport: 'sse', errorCodes: ['GRAPHQL_VALIDATION_FAILED'], limits: ['fields'] } },
    ]);
  });

  it('follow a patient id merged into another: the survivor’s events reach a subscriber who asked with the old id, and the poll finds them', async () => {
    const prisma = gw.services.database.prisma;
    // A second unified patient for the same person (created later, so the first survives).
    const oldId = randomUUID();
    await prisma.unifiedPatient.create({ data: { id: oldId } });
    const merge = await gw.services.index.mergePatients(unifiedId, oldId, { method: 'manual', by: 'events-test' });
    expect(merge).toMatchObject({ merged: true, merge: { survivorId: unifiedId, mergedId: oldId } });

    const sse = await openSse(gw.url, await rig.token('clinician'), SUBSCRIPTION, { ids: [oldId] });
    expect(sse.status).toBe(200);
    const patient = rig.sandbox.truth.patients.find((t) => t.ehrs.mercy && !t.ehrs.stjude)!;
    rig.sandbox.ehr('mercy').write({
      resourceType: 'Encounter',
      status: 'in-progress',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
      subject: { reference: `Patient/${patient.ehrs.mercy!.patientId}` },
      period: { start: new Date().toISOString() },
    } as never);
    const [event] = await sse.waitFor(1, 30_000);
    expect(event!.errors).toBeUndefined();
    expect(event!.data.patientEvents).toMatchObject({ type: 'ADMITTED', patient: { id: unifiedId } });
    sse.close();

    const listed = await rig.query(gw, `query($ids: [ID!]) { patientEvents(patientIds: $ids) { totalCount nodes { id } } }`, { ids: [oldId] });
    expect(listed.errors).toBeUndefined();
    expect(listed.data.patientEvents).toEqual({ totalCount: 1, nodes: [{ id: event!.data.patientEvents.id }] });
  });

  /** Runs `wait`; when it fails, says how Mercy's polls went (so a slow machine can be told from a lost event). */
  const withFeedState = async <T>(wait: () => Promise<T>): Promise<T> => {
    try {
      return await wait();
    } catch (err) {
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      const polls = metrics.split('\n').filter((l) => (l.startsWith('chartgraph_event_polls_total') || l.startsWith('chartgraph_events_detected_total')) && l.includes('source="mercy"'));
      (err as Error).message += `\nmercy breaker: ${gw.services.clients.get('mercy')?.breakerState}; polls:\n${polls.join('\n')}`;
      throw err;
    }
  };

  /** Writes an admission of the Mercy-only patient to Mercy (the poller turns it into an ADMITTED event). */
  const admitSomeone = () => admit(rig);

  /** The id of an event in the feed (an admission written to Mercy when there is none yet). */
  const anEventId = async (): Promise<string> => {
    const listed = async () => (await rig.query(gw, `{ patientEvents(first: 1) { nodes { id } } }`)).data?.patientEvents.nodes[0]?.id as string | undefined;
    const known = await listed();
    if (known) return known;
    admitSomeone();
    return until('an event', listed, 30_000);
  };

  it('hold one client to maxSubscriptionsPerSubject however many subscribes it sends at once, and give the slots back on refusal and close', async () => {
    const after = await anEventId();
    const sub = `cap-${randomUUID()}`;
    const feed = gw.services.events!;
    const cap = feed.maxSubscriptionsPerSubject;
    expect(cap).toBe(10);
    const ws = openWs(gw.url, await rig.token('clinician', undefined, sub));
    const ops = Array.from({ length: 40 }, () => ws.run(RESUME, { after }));
    try {
      const ended: WsOperation[] = [];
      for (const op of ops) void op.ended.then(() => ended.push(op));
      await until('the refusals', async () => ended.length >= ops.length - cap, 60_000);
      const refused = await Promise.all(ended.map(errorsOf));
      expect(refused.map((errors) => errors.map((e: any) => e.extensions.code))).toEqual(Array.from({ length: ops.length - cap }, () => ['RATE_LIMITED']));
      expect(feed.openBySubject.get(sub)).toBe(cap);
      // A subscribe refused by its arguments takes no slot for good.
      const other = openWs(gw.url, await rig.token('clinician', undefined, `${sub}-other`));
      const bad = await errorsOf(other.run(RESUME, { after: 'no-such-event' }));
      await other.close();
      expect(bad.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
      expect(feed.openBySubject.has(`${sub}-other`)).toBe(false);
    } finally {
      await ws.close();
    }
    await until('the slots given back', async () => !feed.openBySubject.has(sub));
    const again = openWs(gw.url, await rig.token('clinician', undefined, sub));
    try {
      const op = again.run(RESUME, { after });
      await until('a slot taken again', async () => feed.openBySubject.get(sub) === 1);
      op.cancel();
      await until('the slot given back on complete', async () => !feed.openBySubject.has(sub));
    } finally {
      await again.close();
    }
  });

  it('end SSE and WebSocket streams when their token expires; a stream with a live token stays open', async () => {
    const feed = gw.services.events!;
    const subscribersBefore = feed.tail.size;
    const shortSse = await openSse(gw.url, await rig.token('clinician', undefined, 'expiring-sse', 3), SUBSCRIPTION, {});
    const longSse = await openSse(gw.url, await rig.token('clinician', undefined, 'lasting-sse'), SUBSCRIPTION, {});
    const shortWs = openWs(gw.url, await rig.token('clinician', undefined, 'expiring-ws', 3));
    const longWs = openWs(gw.url, await rig.token('clinician', undefined, 'lasting-ws'));
    try {
      expect([shortSse.status, longSse.status]).toEqual([200, 200]);
      const shortOp = shortWs.run(SUBSCRIPTION, {});
      const longOp = longWs.run(SUBSCRIPTION, {});
      await until('the short-lived SSE stream ended', async () => shortSse.ended, 30_000);
      expect(shortSse.results.map((r) => r.errors?.map((e: any) => e.extensions.code))).toEqual([['UNAUTHENTICATED']]);
      expect(shortSse.results[0]!.data).toBeUndefined();
      expect(await shortWs.closed).toEqual({ code: WS_TOKEN_EXPIRED, reason: 'token expired' });
      await shortOp.ended;
      expect(shortOp.results).toEqual([]);
      // Both short streams are over; the long-lived ones, opened at the same time, are not.
      expect(longSse.ended).toBe(false);
      let longClosed = false;
      void longWs.closed.then(() => (longClosed = true));
      const probe = longWs.run('{ sources { id } }');
      expect(await probe.ended).toEqual({});
      expect(longClosed).toBe(false);
      // And they still deliver: an event detected after the short ones ended reaches both.
      const [sseSeen, wsSeen] = [longSse.results.length, longOp.results.length];
      admitSomeone();
      const [sseEvent, wsEvent] = await withFeedState(async () => [(await longSse.waitFor(sseSeen + 1, 30_000)).at(-1)!, (await longOp.waitFor(wsSeen + 1, 30_000)).at(-1)!]);
      for (const r of [sseEvent, wsEvent]) {
        expect(r.errors).toBeUndefined();
        expect(r.data.patientEvents).toMatchObject({ type: 'ADMITTED', patient: { id: unifiedId } });
      }
      // Closed by the client, the live streams free their subscribers and slots.
      longSse.close();
      await longWs.close();
      await until('subscribers freed', async () => feed.tail.size === subscribersBefore && !feed.openBySubject.has('lasting-sse') && !feed.openBySubject.has('lasting-ws'));
      expect([...feed.openBySubject.keys()].filter((k) => k.startsWith('expiring-'))).toEqual([]);
    } finally {
      shortSse.close();
      longSse.close();
      await shortWs.close();
      await longWs.close();
    }
  });

  it('audit a billing user’s refused patientEvents query as denied', async () => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await rig.token('billing')}`, 'x-request-id': 'events-query-refused-01' },
      body: JSON.stringify({ query: `query($ids: [ID!]) { patientEvents(patientIds: $ids) { nodes { id } } }`, variables: { ids: [unifiedId] } }),
    });
    const body = (await res.json()) as { errors?: any[] };
    expect(body.errors?.map((e) => e.extensions.code)).toEqual(['FORBIDDEN']);
    expect(await auditRows({ requestId: 'events-query-refused-01' })).toMatchObject([
      { subject: 'dev-billing', role: 'billing', action: 'read', patientIds: [unifiedId], fieldGroups: ['events'], outcome: 'denied' },
    ]);
  });

  it('give each WebSocket operation its own audit request id, even when two connections use the same operation id', async () => {
    const sub = `ws-ids-${randomUUID()}`;
    const token = await rig.token('billing', undefined, sub);
    const sockets = [openWs(gw.url, token, { generateID: () => 'op-0001' }), openWs(gw.url, token, { generateID: () => 'op-0001' })];
    try {
      for (const ws of sockets) {
        const errors = await errorsOf(ws.run(SUBSCRIPTION, { ids: [unifiedId] }));
        expect(errors.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
      }
    } finally {
      for (const ws of sockets) await ws.close();
    }
    const rows = await auditRows({ subject: sub });
    expect(rows.map((r) => [r.outcome, r.patientIds])).toEqual([
      ['denied', [unifiedId]],
      ['denied', [unifiedId]],
    ]);
    const ids = rows.map((r) => r.requestId);
    for (const id of ids) expect(id).toMatch(/^ws-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-op-0001$/);
    expect(new Set(ids).size).toBe(2);
  });
});

const PER_IP = 8;

describe('rate limits on the event streams', () => {
  let rig: EventRig;
  let gw: Gateway;

  beforeAll(async () => {
    rig = await startEventRig({
      events: { enabled: false },
      config: { server: { port: 0, logLevel: 'silent', trustProxy: ['loopback'] }, limits: { rateLimit: { perMinute: 3, perIpPerMinute: PER_IP } } },
    });
    gw = await rig.startGateway();
  }, 180_000);
  afterAll(async () => {
    await rig?.close();
  });

  it('count every subscribe operation on a WebSocket, from the same budget as the client’s HTTP requests', async () => {
    await awayFromWindowEdge();
    const token = await rig.token('clinician', undefined, `rate-${randomUUID()}`);
    expect((await httpQuery(gw, token, '{ sources { id } }')).status).toBe(200); // 1
    const ws = openWs(gw.url, token);
    try {
      // Opening the socket is no request; each operation on it is.
      for (let i = 2; i <= 3; i++) {
        const op = ws.run('{ sources { id } }');
        expect(await op.ended).toEqual({});
        expect(op.results).toHaveLength(1);
      }
      const refused = await errorsOf(ws.run(SUBSCRIPTION, {})); // 4
      expect(refused.map((e: any) => e.extensions.code)).toEqual(['RATE_LIMITED']);
    } finally {
      await ws.close();
    }
    const http = await httpQuery(gw, token, '{ sources { id } }'); // 5
    expect(http.status).toBe(429);
    expect(http.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });

  /** Connects with `token` from `ip` (forwarded by the trusted loopback proxy) and returns the server's close code. */
  const connectFrom = async (ip: string, token: string): Promise<number> => {
    const ws = openWs(gw.url, token, { headers: { 'x-forwarded-for': ip } });
    void ws.run('{ sources { id } }');
    const { code } = await ws.closed;
    await ws.close();
    return code;
  };

  it('charge a WebSocket connect to the client’s address (behind the trusted proxy) before its token is checked, the same budget as HTTP', async () => {
    await awayFromWindowEdge();
    const flood = '203.0.113.7';
    const codes: number[] = [];
    for (let i = 0; i <= PER_IP; i++) codes.push(await connectFrom(flood, 'not-a-token'));
    expect(codes).toEqual([...Array.from({ length: PER_IP }, () => 4403), WS_RATE_LIMITED]);
    // The same address over HTTP is out of budget too, a good token notwithstanding.
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': flood, authorization: `Bearer ${await rig.token('clinician', undefined, `flood-${randomUUID()}`)}` },
      body: JSON.stringify({ query: '{ sources { id } }' }),
    });
    expect(res.status).toBe(429);
    // Another client behind the same proxy has its own budget, and its refusal is audited with its address.
    expect(await connectFrom('203.0.113.8', 'not-a-token')).toBe(4403);
    await gw.services.auditWriter.flush();
    const refused = await gw.services.database.prisma.auditEvent.findMany({ where: { subject: 'anonymous', action: 'authenticate' } });
    const byAddress = (ip: string) => refused.filter((r) => (r.detail as any).ip === ip).map((r) => (r.detail as any).transport);
    expect(byAddress('203.0.113.8')).toEqual(['ws']);
    expect(byAddress(flood)).toEqual(Array.from({ length: PER_IP }, () => 'ws'));
  });

  it('name the client’s address (as HTTP sees it) in the audit of a refused SSE operation', async () => {
    const huge = `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: sources { id }`).join(' ')} }`;
    const token = await rig.token('clinician', undefined, `sse-ip-${randomUUID()}`);
    const sse = await openSse(gw.url, token, huge, undefined, { 'x-request-id': 'events-sse-ip-0001', 'x-forwarded-for': '203.0.113.9' });
    const [sent] = await sse.waitFor(1);
    expect(sent!.errors?.map((e: any) => e.extensions.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    await gw.services.auditWriter.flush();
    const rows = await gw.services.database.prisma.auditEvent.findMany({ where: { requestId: 'events-sse-ip-0001' } });
    expect(rows.map((r) => [r.action, (r.detail as any).transport, (r.detail as any).ip])).toEqual([['request', 'sse', '203.0.113.9']]);
  });
});

describe('the HTTP endpoint’s document checks on the event streams (introspection off)', () => {
  let rig: EventRig;
  let gw: Gateway;

  beforeAll(async () => {
    rig = await startEventRig({ events: { enabled: false }, config: { server: { port: 0, logLevel: 'silent', introspection: false } } });
    gw = await rig.startGateway();
  }, 180_000);
  afterAll(async () => {
    await rig?.close();
  });

  const upstreamCalls = () => rig.sandbox.ehrs.reduce((n, ehr) => n + ehr.requests.entries.length, 0);

  it('refuse introspection, alias floods, patient floods, long strings and field floods over SSE and WebSocket as over HTTP, before any upstream call', async () => {
    const token = await rig.token('clinician');
    const ids = Array.from({ length: 1000 }, () => randomUUID());
    const cases: Array<{ query: string; variables?: Record<string, unknown>; codes: string[]; extensions?: Record<string, unknown> }> = [
      { query: '{ __schema { types { name } } }', codes: ['GRAPHQL_VALIDATION_FAILED'] },
      {
        query: `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: sources { id }`).join(' ')} }`,
        codes: ['GRAPHQL_VALIDATION_FAILED'],
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'aliases', max: 30, actual: 31 },
      },
      {
        query: `query($ids: [ID!]!) { ${Array.from({ length: 5 }, (_, i) => `a${i}: patients(ids: $ids) { id name { family } }`).join(' ')} }`,
        variables: { ids },
        codes: ['BAD_USER_INPUT'],
        extensions: { code: 'BAD_USER_INPUT', limit: 'patients', max: 1000 },
      },
      {
        query: `query($v: String!) { patientByIdentifier(system: "urn:oid:2.16.840.1.113883.4.1", value: $v) { id } }`,
        variables: { v: 'a'.repeat(20_000) },
        codes: ['BAD_USER_INPUT'],
        extensions: { code: 'BAD_USER_INPUT', argument: '$v', limit: 'stringLength', max: 256 },
      },
      {
        query: `subscription { patientEvents { ${Array.from({ length: 1500 }, (_, i) => `f${i}: id`).join(' ')} } }`,
        codes: ['GRAPHQL_VALIDATION_FAILED'],
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'fields', max: 500, actual: 1501 },
      },
    ];
    const ws = openWs(gw.url, token);
    try {
      const before = upstreamCalls();
      for (const c of cases) {
        const http = await httpQuery(gw, token, c.query, c.variables);
        const sse = await openSse(gw.url, token, c.query, c.variables);
        const [sent] = await sse.waitFor(1);
        const overWs = await errorsOf(ws.run(c.query, c.variables));
        for (const errors of [http.body.errors ?? [], sent!.errors ?? [], overWs]) {
          expect([...new Set(errors.map((e: any) => e.extensions.code))]).toEqual(c.codes);
          if (c.extensions) expect(errors.map((e: any) => e.extensions)).toEqual([c.extensions]);
        }
        expect(sent!.data).toBeUndefined();
      }
      expect(upstreamCalls()).toBe(before);
    } finally {
      await ws.close();
    }
  });
});

describe('event streams with a short request deadline', () => {
  const DEADLINE_MS = 2_000;
  let rig: EventRig;
  let gw: Gateway;
  let family: string;

  beforeAll(async () => {
    rig = await startEventRig({ config: { limits: { requestDeadlineMs: DEADLINE_MS } } });
    gw = await rig.startGateway();
    const patient = rig.sandbox.truth.patients.find((t) => t.ehrs.mercy && !t.ehrs.stjude)!;
    const found = await rig.query(gw, `query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) { name { family } } }`, { s: EHR_INFO.mercy.mrnSystem, v: patient.ehrs.mercy!.mrn });
    family = found.data.patientByIdentifier.name.family;
    expect(family).toMatch(/\w/);
    await until('cursors', async () => (await gw.services.database.prisma.eventCursor.count()) === 8);
  }, 180_000);
  afterAll(async () => {
    await rig?.close();
  });

  it('give each event its own deadline, from when it arrives: an event long after the subscribe still loads its patient', async () => {
    const withName = `subscription { patientEvents(types: [ADMITTED]) { type patient { name { family } } } }`;
    const token = await rig.token('clinician');
    const sse = await openSse(gw.url, token, withName);
    const ws = openWs(gw.url, token);
    const op = ws.run(withName);
    try {
      expect(sse.status).toBe(200);
      // Both subscriptions are open (their contexts made) before the deadline starts to run out.
      await until('both subscribed', async () => gw.services.events!.tail.size >= 2);
      const openedAt = Date.now();
      await until('a deadline past', async () => Date.now() > openedAt + DEADLINE_MS + 500);
      const upstreamBefore = rig.sandbox.ehr('mercy').requests.entries.length;
      admit(rig);
      const [[sent], [got]] = await Promise.all([sse.waitFor(1, 30_000), op.waitFor(1, 30_000)]);
      for (const r of [sent!, got!]) {
        expect(r.errors).toBeUndefined();
        expect(r.data.patientEvents).toMatchObject({ type: 'ADMITTED', patient: { name: { family } } });
      }
      // The names were read from the source (no cache here), under the events' own deadlines.
      expect(rig.sandbox.ehr('mercy').requests.entries.length).toBeGreaterThan(upstreamBefore);
    } finally {
      sse.close();
      await ws.close();
    }
  });
});
