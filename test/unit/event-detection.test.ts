import { describe, expect, it } from 'vitest';
import { abnormalFlag, detectEvents } from '../../events/detect-events.js';
import { eventIdOf, isEventId } from '../../events/event-key.js';
import { PATIENT_EVENT_TYPES } from '../../events/event-types.js';
import { PatientEventType } from '../../schema/event.types.js';

const enc = (over: Record<string, unknown>) =>
  ({ resourceType: 'Encounter', id: 'e1', status: 'in-progress', class: { code: 'IMP' }, period: { start: '2026-11-30T08:15:00Z' }, meta: { versionId: '1', lastUpdated: '2026-11-30T08:16:00Z' }, ...over }) as never;

describe('event detection', () => {
  it('a new inpatient encounter is an admission; seeing the same version again is nothing', () => {
    const first = detectEvents(enc({}), null);
    expect(first.events).toEqual([{ type: 'ADMITTED', occurredAt: '2026-11-30T08:15:00.000Z', code: 'class|IMP', abnormal: null }]);
    expect(first.seen).toEqual({ versionId: '1', lastUpdated: '2026-11-30T08:16:00Z', status: 'in-progress' });
    expect(detectEvents(enc({}), first.seen)).toEqual({ events: [], seen: null });
  });

  it('reaching finished is a discharge at period.end; another change is an update', () => {
    const seen = { versionId: '1', lastUpdated: '2026-11-30T08:16:00Z', status: 'in-progress' };
    const done = detectEvents(enc({ status: 'finished', period: { start: '2026-11-30T08:15:00Z', end: '2026-12-01T10:00:00Z' }, meta: { versionId: '2', lastUpdated: '2026-12-01T10:01:00Z' } }), seen);
    expect(done.events.map((e) => [e.type, e.occurredAt])).toEqual([['DISCHARGED', '2026-12-01T10:00:00.000Z']]);
    const moved = detectEvents(enc({ meta: { versionId: '2', lastUpdated: '2026-11-30T12:00:00Z' } }), seen);
    expect(moved.events.map((e) => [e.type, e.occurredAt])).toEqual([['ENCOUNTER_UPDATED', '2026-11-30T12:00:00.000Z']]);
  });

  it('an emergency encounter is an emergency visit; an encounter first seen at a later version is not an admission', () => {
    expect(detectEvents(enc({ class: { code: 'EMER' } }), null).events.map((e) => e.type)).toEqual(['EMERGENCY_VISIT']);
    expect(detectEvents(enc({ meta: { versionId: '3', lastUpdated: '2026-11-30T09:00:00Z' } }), null).events.map((e) => e.type)).toEqual(['ENCOUNTER_UPDATED']);
    expect(detectEvents(enc({ status: 'entered-in-error' }), null).events).toEqual([]);
  });

  it('new conditions, laboratory results (with the abnormal flag) and medication orders; vital signs and refuted conditions are not events', () => {
    const lab = { resourceType: 'Observation', id: 'o1', status: 'final', category: [{ coding: [{ code: 'laboratory' }] }], code: { coding: [{ system: 'http://loinc.org', code: '2823-3' }] }, effectiveDateTime: '2026-11-30T07:00:00Z', interpretation: [{ coding: [{ code: 'HH' }] }] };
    expect(detectEvents(lab as never, null).events).toEqual([{ type: 'NEW_LAB_RESULT', occurredAt: '2026-11-30T07:00:00.000Z', code: 'http://loinc.org|2823-3', abnormal: true }]);
    expect(abnormalFlag({ ...lab, interpretation: [{ coding: [{ code: 'N' }] }] } as never)).toBe(false);
    expect(abnormalFlag({ ...lab, interpretation: [] } as never)).toBeNull();
    expect(detectEvents({ ...lab, category: [{ coding: [{ code: 'vital-signs' }] }] } as never, null).events).toEqual([]);
    const condition = { resourceType: 'Condition', id: 'c1', code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006' }] }, recordedDate: '2026-11-29' };
    expect(detectEvents(condition as never, null).events.map((e) => [e.type, e.occurredAt])).toEqual([['NEW_CONDITION', '2026-11-29T00:00:00.000Z']]);
    expect(detectEvents({ ...condition, verificationStatus: { coding: [{ code: 'refuted' }] } } as never, null).events).toEqual([]);
    const med = { resourceType: 'MedicationRequest', id: 'm1', status: 'active', medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '197361' }] }, authoredOn: '2026-11-30T09:00:00Z' };
    expect(detectEvents(med as never, null).events.map((e) => e.type)).toEqual(['NEW_MEDICATION']);
  });

  it('the event id ignores the source and the seconds, and differs per patient', () => {
    const at = (s: string) => ({ type: 'ADMITTED' as const, occurredAt: s, code: 'class|IMP' });
    expect(eventIdOf('u1', at('2026-11-30T08:15:00.000Z'))).toBe(eventIdOf('u1', at('2026-11-30T08:15:42.000Z')));
    expect(eventIdOf('u1', at('2026-11-30T08:15:00.000Z'))).not.toBe(eventIdOf('u2', at('2026-11-30T08:15:00.000Z')));
    expect(isEventId(eventIdOf('u1', at('2026-11-30T08:15:00.000Z')))).toBe(true);
    expect(isEventId('evt_short')).toBe(false);
  });

  it('the schema enum lists exactly the domain event types', () => {
    expect(Object.values(PatientEventType).sort()).toEqual([...PATIENT_EVENT_TYPES].sort());
  });
});
