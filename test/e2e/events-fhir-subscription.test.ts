import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Gateways restart and replicas fail over inside these tests: slow on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });
import { EHR_INFO } from '../../sandbox/index.js';
import type { Gateway } from '../../server/app.js';
import { freePort, openSse, startEventRig, type EventRig } from '../helpers/event-gateways.js';
import { until } from '../helpers/until.js';

const BY_MRN = `query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) { id } }`;
const SUBSCRIPTION = `subscription($ids: [ID!]) { patientEvents(patientIds: $ids) { id type provenance { source { id } } } }`;

/**
 * Waits until no replica holds St. Jude's poller lease any more: with polls 10 minutes apart
 * the lease (3 s in these tests) lapses between them, and a notification must still be acted on.
 */
async function leaseLapsed(gw: Gateway): Promise<void> {
  const prisma = gw.services.database.prisma;
  await until('the poller lease to lapse', async () => (await prisma.eventPollerLease.findMany({ where: { sourceId: 'stjude' } })).every((l) => l.expiresAt.getTime() < Date.now()));
}

/** Searches of `type` the gateway made at a sandbox EHR so far. */
function searches(rig: EventRig, ehr: 'mercy' | 'stjude', type: string): number {
  return rig.sandbox.ehr(ehr).requests.entries.filter((r) => r.interaction === 'search' && r.resourceType === type).length;
}

function admission(patientId: string) {
  return { resourceType: 'Encounter', status: 'arrived', class: { code: 'IMP' }, subject: { reference: `Patient/${patientId}` }, period: { start: new Date().toISOString() } };
}

async function createAt(rig: EventRig, resource: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${rig.sandbox.ehr('stjude').baseUrl}/Encounter`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(resource) });
  expect(res.status).toBe(201);
}

describe('FHIR Subscriptions (R4 Backport rest-hook) wake the poller', () => {
  let rig: EventRig;
  let gw: Gateway;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    // The shipped sandbox profiles: St. Jude offers rest-hook Subscriptions, Mercy does not.
    // Polls every 10 minutes: within a test, only a notification makes the gateway search again.
    rig = await startEventRig({ events: { pollSeconds: 600, subscriptionPollSeconds: 600, notificationBaseUrl: `http://127.0.0.1:${port}` } });
    gw = await rig.startGateway(port);
  }, 180_000);
  afterAll(async () => {
    await rig?.close();
  });

  it('subscribes where /metadata offers a topic, and an Encounter created there is delivered by the search its notification triggers', async () => {
    const prisma = gw.services.database.prisma;
    const sub = await until('subscription', async () => (await prisma.eventSourceSubscription.findMany()).find((s) => s.subscriptionId !== ''));
    expect(sub.sourceId).toBe('stjude');
    expect(sub.endpoint).toBe(`http://127.0.0.1:${port}/fhir/notifications/stjude`);
    expect(await prisma.eventSourceSubscription.count()).toBe(1); // Mercy offers no topic
    expect(rig.sandbox.ehr('stjude').restHooks.active).toBe(1);
    // Each source's first poll (every type) has set its cursors: the schedule waits 10 minutes now.
    await until('cursors', async () => (await prisma.eventCursor.count()) === 8);

    const patient = rig.sandbox.truth.patients.find((t) => t.ehrs.stjude)!;
    const found = await rig.query(gw, BY_MRN, { s: EHR_INFO.stjude.mrnSystem, v: patient.ehrs.stjude!.mrn });
    const unifiedId = found.data.patientByIdentifier.id;
    const sse = await openSse(gw.url, await rig.token('clinician'), SUBSCRIPTION, { ids: [unifiedId] });
    const sentBefore = rig.sandbox.ehr('stjude').restHooks.sent;
    await leaseLapsed(gw);
    const before = { stjude: searches(rig, 'stjude', 'Encounter'), mercy: searches(rig, 'mercy', 'Encounter') };
    await createAt(rig, admission(patient.ehrs.stjude!.patientId));
    const [event] = await sse.waitFor(1, 30_000);
    expect(event.data.patientEvents).toMatchObject({ type: 'ADMITTED', provenance: [{ source: { id: 'stjude' } }] });
    expect(rig.sandbox.ehr('stjude').restHooks.sent).toBe(sentBefore + 1);
    // One Encounter search at St. Jude, the notification's; none at Mercy, whose schedule did not come round.
    expect(searches(rig, 'stjude', 'Encounter') - before.stjude).toBe(1);
    expect(searches(rig, 'mercy', 'Encounter') - before.mercy).toBe(0);
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
    // The secret is checked before the body is read; notifications are id-only, so a large body is refused.
    const big = JSON.stringify({ resourceType: 'Bundle', type: 'history', entry: [], pad: 'x'.repeat(200_000) });
    const forged = await fetch(`${gw.url}/fhir/notifications/stjude`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: 'Bearer not-the-secret' }, body: big });
    expect(forged.status).toBe(401);
  });

  it('after a restart, makes a new Subscription when the source no longer has the old one', async () => {
    const prisma = gw.services.database.prisma;
    const old = (await prisma.eventSourceSubscription.findUniqueOrThrow({ where: { sourceId: 'stjude' } })).subscriptionId;
    await gw.close();
    // The source forgot it (as a restarted server would).
    const deleted = await fetch(`${rig.sandbox.ehr('stjude').baseUrl}/Subscription/${old}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(rig.sandbox.ehr('stjude').restHooks.active).toBe(0);
    gw = await rig.startGateway(port);
    const renewed = await until('a new subscription', async () => {
      const row = await gw.services.database.prisma.eventSourceSubscription.findUnique({ where: { sourceId: 'stjude' } });
      return row && row.subscriptionId !== '' && row.subscriptionId !== old ? row : undefined;
    });
    expect(renewed.endpoint).toBe(`http://127.0.0.1:${port}/fhir/notifications/stjude`);
    expect(rig.sandbox.ehr('stjude').restHooks.active).toBe(1);

    const patient = rig.sandbox.truth.patients.find((t) => t.ehrs.stjude)!;
    const found = await rig.query(gw, BY_MRN, { s: EHR_INFO.stjude.mrnSystem, v: patient.ehrs.stjude!.mrn });
    const sse = await openSse(gw.url, await rig.token('clinician'), SUBSCRIPTION, { ids: [found.data.patientByIdentifier.id] });
    await leaseLapsed(gw);
    const before = searches(rig, 'stjude', 'Encounter');
    await createAt(rig, { ...admission(patient.ehrs.stjude!.patientId), class: { code: 'EMER' } });
    const [event] = await sse.waitFor(1, 30_000);
    expect(event.data.patientEvents).toMatchObject({ type: 'EMERGENCY_VISIT', provenance: [{ source: { id: 'stjude' } }] });
    expect(searches(rig, 'stjude', 'Encounter') - before).toBe(1);
    sse.close();
  });
});
