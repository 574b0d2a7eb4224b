import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Gateways start and poll inside these tests: slow on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });
import { EHR_INFO } from '../../sandbox/index.js';
import type { Gateway } from '../../server/app.js';
import { openSse, openWs, startEventRig, type EventRig, type WsOperation } from '../helpers/event-gateways.js';

// The event streams (SSE at /graphql/stream, WebSocket at /graphql) are held to the HTTP
// endpoint's rules: the same document checks, refusals audited the same way, one rate-limit
// budget per client, and a merged patient's id followed to its survivor.

const BY_MRN = `query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) { id } }`;
const SUBSCRIPTION = `subscription($ids: [ID!], $types: [PatientEventType!]) { patientEvents(patientIds: $ids, types: $types) { id type patient { id } } }`;

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Fixed one-minute rate windows: start a burst early in a window so it cannot straddle two. */
async function awayFromWindowEdge(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 10_000) await new Promise((r) => setTimeout(r, left + 50));
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
});

describe('rate limits on the event streams', () => {
  let rig: EventRig;
  let gw: Gateway;

  beforeAll(async () => {
    rig = await startEventRig({ events: { enabled: false }, config: { limits: { rateLimit: { perMinute: 3 } } } });
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
});
