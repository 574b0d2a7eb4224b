import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Gateways restart and replicas fail over inside these tests: slow on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });
import WebSocket from 'ws';
import { EHR_INFO } from '../../sandbox/index.js';
import type { Gateway } from '../../server/app.js';
import { openSse, startEventRig, type EventRig } from '../helpers/event-gateways.js';
import { until } from '../helpers/until.js';

const BY_MRN = `query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) { id } }`;
const SUBSCRIPTION = `subscription($ids: [ID!]) { patientEvents(patientIds: $ids) { id type provenance { source { id } } } }`;

/** A graphql-ws subscription; collects every `next` payload. */
function subscribeWs(url: string, token: string, variables: Record<string, unknown>) {
  const results: any[] = [];
  const errors: unknown[] = [];
  const client = createClient({ url: url.replace(/^http/, 'ws') + '/graphql', webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false });
  const stop = client.subscribe({ query: SUBSCRIPTION, variables }, { next: (r) => results.push(r), error: (e) => errors.push(e), complete: () => undefined });
  return { results, errors, close: async () => { stop(); await client.dispose(); } };
}

describe('events with two gateway replicas on one PostgreSQL', () => {
  let rig: EventRig;
  let a: Gateway;
  let b: Gateway;
  let unifiedIds: string[];
  let stjudePatients: string[];

  beforeAll(async () => {
    rig = await startEventRig({ database: 'postgresql' });
    [a, b] = await Promise.all([rig.startGateway(), rig.startGateway()]);
    const people = rig.sandbox.truth.patients.filter((t) => t.ehrs.stjude && t.ehrs.mercy).slice(0, 3);
    unifiedIds = [];
    for (const p of people) unifiedIds.push((await rig.query(a, BY_MRN, { s: EHR_INFO.stjude.mrnSystem, v: p.ehrs.stjude!.mrn })).data.patientByIdentifier.id);
    stjudePatients = people.map((p) => p.ehrs.stjude!.patientId);
    await until('cursors', async () => (await a.services.database.prisma.eventCursor.count()) === 8);
  }, 180_000);
  afterAll(async () => {
    await rig?.close();
  });

  it('one replica polls each source (the lease), and each subscriber gets every event once, whichever replica it is on', async () => {
    await until('leases settled', () => ['mercy', 'stjude'].every((s) => [a, b].some((g) => leaseOf(g, s))));
    for (const source of ['mercy', 'stjude']) expect([a, b].filter((g) => leaseOf(g, source)).length).toBe(1);

    const onA = await openSse(a.url, await rig.token('care_coordinator'), SUBSCRIPTION, { ids: unifiedIds });
    const onB = subscribeWs(b.url, await rig.token('care_coordinator'), { ids: unifiedIds });
    await until('ws subscribed', () => b.services.events!.tail.size === 1);
    const ehr = rig.sandbox.ehr('stjude');
    const written: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = ehr.write({
        resourceType: 'Encounter',
        status: 'in-progress',
        class: { code: 'IMP' },
        subject: { reference: `Patient/${stjudePatients[i % stjudePatients.length]}` },
        period: { start: new Date(Date.now() - i * 3_600_000).toISOString() },
      } as never);
      written.push(r.id!);
      await new Promise((res) => setTimeout(res, 120));
    }
    await onA.waitFor(6, 15_000);
    await until('ws got 6', () => onB.results.length >= 6);
    await new Promise((r) => setTimeout(r, 1_000));
    for (const got of [onA.results, onB.results]) {
      expect(got).toHaveLength(6);
      expect(new Set(got.map((r) => r.data.patientEvents.id)).size).toBe(6);
      expect(got.every((r) => r.data.patientEvents.type === 'ADMITTED')).toBe(true);
    }
    expect(onB.errors).toEqual([]);
    onA.close();
    await onB.close();
  });

  it('a replica that stops hands its sources over; nothing is lost or repeated', async () => {
    const holderOfStJude = leaseOf(a, 'stjude') ? a : b;
    const other = holderOfStJude === a ? b : a;
    const watch = await openSse(other.url, await rig.token('clinician'), SUBSCRIPTION, { ids: unifiedIds });
    await until('subscribed', () => other.services.events!.tail.size === 1);
    const ehr = rig.sandbox.ehr('stjude');
    const write = (i: number) =>
      ehr.write({ resourceType: 'Condition', code: { text: `Finding ${i}`, coding: [{ system: 'http://snomed.info/sct', code: String(1000 + i) }] }, subject: { reference: `Patient/${stjudePatients[0]}` }, recordedDate: new Date().toISOString() } as never);
    write(1);
    await watch.waitFor(1, 15_000);
    await holderOfStJude.close();
    write(2);
    write(3);
    // The lease (3 s in tests) runs out, the survivor takes the source and finds both.
    await watch.waitFor(3, 20_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(watch.results.map((r) => r.data.patientEvents.type)).toEqual(['NEW_CONDITION', 'NEW_CONDITION', 'NEW_CONDITION']);
    expect(new Set(watch.results.map((r) => r.data.patientEvents.id)).size).toBe(3);
    expect(leaseOf(other, 'stjude')).toBe(true);
    watch.close();
  });
});

function leaseOf(g: Gateway, source: string): boolean {
  return !!g.eventFeed.pollers.get(source)?.leaseHeld;
}
