import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Gateways restart and replicas fail over inside these tests: slow on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });
import { EHR_INFO, type TruthPatient } from '../../sandbox/index.js';
import type { Gateway } from '../../server/app.js';
import { openSse, startEventRig, type EventRig } from '../helpers/event-gateways.js';
import { until } from '../helpers/until.js';

const BY_MRN = `query($s: String!, $v: String!) { patientByIdentifier(system: $s, value: $v) { id sourceRecords { source { id } sourcePatientId } } }`;
const SUBSCRIPTION = `subscription($ids: [ID!], $after: String, $types: [PatientEventType!]) {
  patientEvents(patientIds: $ids, after: $after, types: $types) {
    id type occurredAt abnormal patient { id }
    item { __typename ... on Encounter { class period { start } } ... on Observation { code { text } } ... on Condition { code { text } } }
    provenance { source { id } sourceResourceId }
  }
}`;
const LIST = `query($ids: [ID!], $after: String, $first: Int) { patientEvents(patientIds: $ids, after: $after, first: $first) {
  totalCount nodes { id type provenance { source { id } } } pageInfo { hasNextPage endCursor } } }`;

function encounter(patientId: string, start: string, cls = 'IMP') {
  return {
    resourceType: 'Encounter',
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: cls },
    type: [{ coding: [{ system: 'http://snomed.info/sct', code: '32485007', display: 'Hospital admission' }] }],
    subject: { reference: `Patient/${patientId}` },
    period: { start },
  };
}

function labResult(patientId: string, flag: string) {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    code: { text: 'Potassium', coding: [{ system: 'http://loinc.org', code: '2823-3' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: new Date().toISOString(),
    valueQuantity: { value: 6.1, unit: 'mmol/L' },
    interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: flag }] }],
  };
}

/** POSTs a resource to a sandbox EHR as FHIR create (the St. Jude sandbox needs no token). */
async function create(baseUrl: string, resource: Record<string, unknown>): Promise<{ id: string }> {
  const res = await fetch(`${baseUrl}/${resource.resourceType as string}`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify(resource),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
}

/** Every (source, type) cursor is set: the pollers have started and anything written from now on is news. */
async function pollersStarted(g: Gateway, sources = 2): Promise<void> {
  await until('cursors', async () => (await g.services.database.prisma.eventCursor.count()) === sources * 4);
}

function bothEhrsPatient(rig: EventRig): TruthPatient {
  const p = rig.sandbox.truth.patients.find((t) => t.ehrs.mercy?.hasSsn && t.ehrs.stjude?.hasSsn);
  if (!p) throw new Error('fixture has no patient with an SSN at both EHRs');
  return p;
}

describe('care-coordination events (PGlite, one gateway)', () => {
  let rig: EventRig;
  let gw: Gateway;
  let patient: TruthPatient;
  let unifiedId: string;

  beforeAll(async () => {
    rig = await startEventRig();
    gw = await rig.startGateway();
    patient = bothEhrsPatient(rig);
    const found = await rig.query(gw, BY_MRN, { s: EHR_INFO.mercy.mrnSystem, v: patient.ehrs.mercy!.mrn });
    unifiedId = found.data.patientByIdentifier.id;
    expect(found.data.patientByIdentifier.sourceRecords.map((r: any) => r.source.id).sort()).toEqual(['mercy', 'stjude']);
    await pollersStarted(gw);
  }, 180_000);
  afterAll(async () => {
    await rig?.close();
  });

  it('the same admission written at both EHRs arrives once over SSE, with both provenances in the feed', async () => {
    const sse = await openSse(gw.url, await rig.token('clinician'), SUBSCRIPTION, { ids: [unifiedId] });
    expect(sse.status).toBe(200);
    const start = new Date(Date.now() - 60_000).toISOString();
    const atStJude = await create(rig.sandbox.ehr('stjude').baseUrl, encounter(patient.ehrs.stjude!.patientId, start));
    const atMercy = rig.sandbox.ehr('mercy').write(encounter(patient.ehrs.mercy!.patientId, start) as never);
    const [first] = await sse.waitFor(1);
    expect(first.errors).toBeUndefined();
    expect(first.data.patientEvents).toMatchObject({ type: 'ADMITTED', patient: { id: unifiedId }, item: { __typename: 'Encounter', class: 'IMP' } });
    expect(Date.parse(first.data.patientEvents.occurredAt)).toBe(Date.parse(start));
    // Both sources are polled several times more: still one event.
    await until('both records', async () => (await gw.services.database.prisma.patientEventRecord.count()) === 2);
    await new Promise((r) => setTimeout(r, 800));
    expect(sse.results).toHaveLength(1);
    sse.close();

    const listed = await rig.query(gw, LIST, { ids: [unifiedId] });
    expect(listed.errors).toBeUndefined();
    expect(listed.data.patientEvents.totalCount).toBe(1);
    const event = listed.data.patientEvents.nodes[0];
    expect(event.id).toBe(first.data.patientEvents.id);
    expect(event.provenance.map((p: any) => p.source.id).sort()).toEqual(['mercy', 'stjude']);
    expect([atStJude.id, atMercy.id]).toContain(first.data.patientEvents.provenance[0].sourceResourceId);
  });

  it('a care coordinator gets admissions but not lab values; a clinician gets the abnormal flag; billing gets nothing', async () => {
    const clinician = await openSse(gw.url, await rig.token('clinician'), SUBSCRIPTION, { ids: [unifiedId], types: ['NEW_LAB_RESULT', 'EMERGENCY_VISIT'] });
    const coordinator = await openSse(gw.url, await rig.token('care_coordinator'), SUBSCRIPTION, { ids: [unifiedId] });
    const refusedLabs = await openSse(gw.url, await rig.token('care_coordinator'), SUBSCRIPTION, { ids: [unifiedId], types: ['NEW_LAB_RESULT'] });
    const billing = await openSse(gw.url, await rig.token('billing'), SUBSCRIPTION, { ids: [unifiedId] });
    for (const refused of [refusedLabs, billing]) {
      const [r] = await refused.waitFor(1);
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }

    const stjude = rig.sandbox.ehr('stjude').baseUrl;
    await create(stjude, labResult(patient.ehrs.stjude!.patientId, 'H'));
    await create(stjude, encounter(patient.ehrs.stjude!.patientId, new Date().toISOString(), 'EMER'));
    const got = await clinician.waitFor(2);
    expect(got.map((r) => r.data.patientEvents.type).sort()).toEqual(['EMERGENCY_VISIT', 'NEW_LAB_RESULT']);
    const lab = got.find((r) => r.data.patientEvents.type === 'NEW_LAB_RESULT')!.data.patientEvents;
    expect(lab).toMatchObject({ abnormal: true, item: { __typename: 'Observation', code: { text: 'Potassium' } } });

    const [visit] = await coordinator.waitFor(1);
    expect(visit.data.patientEvents.type).toBe('EMERGENCY_VISIT');
    await new Promise((r) => setTimeout(r, 600));
    expect(coordinator.results.map((r) => r.data.patientEvents.type)).toEqual(['EMERGENCY_VISIT']);
    for (const s of [clinician, coordinator, refusedLabs, billing]) s.close();

    const asCoordinator = await rig.query(gw, LIST, { ids: [unifiedId] }, 'care_coordinator');
    expect(asCoordinator.data.patientEvents.nodes.map((n: any) => n.type)).not.toContain('NEW_LAB_RESULT');
    const asBilling = await rig.query(gw, LIST, { ids: [unifiedId] }, 'billing');
    expect(asBilling.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('every delivered event is an audited read of that patient, and so is the refused subscription', async () => {
    const rows = await until('audit rows', async () => {
      const found = await gw.services.database.prisma.auditEvent.findMany({ where: { role: 'care_coordinator', action: 'read' } });
      const sse = found.filter((r) => (r.detail as any)?.transport === 'sse' && r.fieldGroups.includes('events'));
      return sse.length >= 2 ? sse : undefined;
    });
    const audit = rows.filter((r) => r.outcome === 'success');
    expect(audit).toHaveLength(1);
    expect(audit[0].patientIds).toEqual([unifiedId]);
    expect(audit[0].fieldGroups).toEqual(expect.arrayContaining(['encounters', 'events']));
    // The subscription for lab values, refused to the care coordinator.
    expect(rows.filter((r) => r.outcome !== 'success').map((r) => [r.outcome, r.patientIds, r.fieldGroups, (r.detail as any).errorCodes])).toEqual([['denied', [unifiedId], ['events'], ['FORBIDDEN']]]);
  });

  it('a client resuming with its last event id gets what it missed, across a gateway restart', async () => {
    const listed = await rig.query(gw, LIST, { ids: [unifiedId], first: 100 });
    const lastSeen = listed.data.patientEvents.nodes.at(-1).id;
    const before = listed.data.patientEvents.totalCount;
    await gw.close();
    // Written while no gateway runs.
    await create(rig.sandbox.ehr('stjude').baseUrl, {
      resourceType: 'Condition',
      code: { text: 'Acute kidney injury', coding: [{ system: 'http://snomed.info/sct', code: '14669001' }] },
      subject: { reference: `Patient/${patient.ehrs.stjude!.patientId}` },
      recordedDate: new Date().toISOString(),
    });
    gw = await rig.startGateway();
    const sse = await openSse(gw.url, await rig.token('clinician'), SUBSCRIPTION, { ids: [unifiedId], after: lastSeen });
    const [missed] = await sse.waitFor(1);
    expect(missed.data.patientEvents).toMatchObject({ type: 'NEW_CONDITION', item: { __typename: 'Condition', code: { text: 'Acute kidney injury' } } });
    await new Promise((r) => setTimeout(r, 600));
    expect(sse.results).toHaveLength(1);
    sse.close();
    const after = await rig.query(gw, LIST, { ids: [unifiedId], first: 100 });
    expect(after.data.patientEvents.totalCount).toBe(before + 1);
    const page = await rig.query(gw, LIST, { ids: [unifiedId], after: lastSeen });
    expect(page.data.patientEvents.nodes.map((n: any) => n.type)).toEqual(['NEW_CONDITION']);
  });

  it('refuses a malformed `after` and patient ids with BAD_USER_INPUT', async () => {
    const bad = await rig.query(gw, LIST, { ids: [unifiedId], after: 'evt_nope' });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badId = await rig.query(gw, LIST, { ids: ['not-a-uuid'] });
    expect(badId.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('an SSE request without a token is refused with 401', async () => {
    const sse = await openSse(gw.url, null, SUBSCRIPTION, { ids: [unifiedId] });
    expect(sse.status).toBe(401);
  });
});
