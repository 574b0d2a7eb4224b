import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Gateways restart and replicas fail over inside these tests: slow on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });
import { EHR_INFO } from '../../sandbox/index.js';
import type { Gateway } from '../../server/app.js';
import { freePort, openSse, startEventRig, type EventRig } from '../helpers/event-gateways.js';

const BY_MRN = `query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) { id } }`;
const SUBSCRIPTION = `subscription($ids: [ID!]) { patientEvents(patientIds: $ids) { id type provenance { source { id } } } }`;

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('FHIR Subscriptions (R4 Backport rest-hook) wake the poller', () => {
  let rig: EventRig;
  let gw: Gateway;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    // Polls every 60 s: an event seen within seconds can only have come through a notification.
    rig = await startEventRig({ sandbox: { profiles: { stjude: { restHookSubscriptions: true } } }, events: { pollSeconds: 60, subscriptionPollSeconds: 60, notificationBaseUrl: `http://127.0.0.1:${port}` } });
    gw = await rig.startGateway(port);
  }, 180_000);
  afterAll(async () => {
    await rig?.close();
  });

  it('subscribes where /metadata offers a topic, and an Encounter created there arrives long before the next poll', async () => {
    const prisma = gw.services.database.prisma;
    const sub = await until('subscription', async () => (await prisma.eventSourceSubscription.findMany()).find((s) => s.subscriptionId !== ''));
    expect(sub.sourceId).toBe('stjude');
    expect(sub.endpoint).toBe(`http://127.0.0.1:${port}/fhir/notifications/stjude`);
    expect(await prisma.eventSourceSubscription.count()).toBe(1); // Mercy offers no topic
    await until('cursors', async () => (await prisma.eventCursor.count({ where: { sourceId: 'stjude' } })) === 4);

    const patient = rig.sandbox.truth.patients.find((t) => t.ehrs.stjude)!;
    const found = await rig.query(gw, BY_MRN, { s: EHR_INFO.stjude.mrnSystem, v: patient.ehrs.stjude!.mrn });
    const unifiedId = found.data.patientByIdentifier.id;
    const sse = await openSse(gw.url, await rig.token('clinician'), SUBSCRIPTION, { ids: [unifiedId] });
    const sentBefore = rig.sandbox.ehr('stjude').restHooks.sent;
    const written = Date.now();
    const res = await fetch(`${rig.sandbox.ehr('stjude').baseUrl}/Encounter`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Encounter', status: 'arrived', class: { code: 'IMP' }, subject: { reference: `Patient/${patient.ehrs.stjude!.patientId}` }, period: { start: new Date().toISOString() } }),
    });
    expect(res.status).toBe(201);
    const [event] = await sse.waitFor(1, 30_000);
    expect(event.data.patientEvents).toMatchObject({ type: 'ADMITTED', provenance: [{ source: { id: 'stjude' } }] });
    expect(Date.now() - written).toBeLessThan(30_000);
    expect(rig.sandbox.ehr('stjude').restHooks.sent).toBe(sentBefore + 1);
    sse.close();
  });

  it('refuses a notification without the subscription secret', async () => {
    const res = await fetch(`${gw.url}/fhir/notifications/stjude`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', authorization: 'Bearer not-the-secret' },
      body: JSON.stringify({ resourceType: 'Bundle', type: 'history', entry: [] }),
    });
    expect(res.status).toBe(401);
    const unknown = await fetch(`${gw.url}/fhir/notifications/nowhere`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: '{}' });
    expect(unknown.status).toBe(401);
  });
});
