import type { Coding, Encounter, Observation, Resource } from '@medplum/fhirtypes';
import type { PatientEventType } from './event-types.js';

/** What the feed remembers of a resource it has seen (its last version). */
export interface SeenResource {
  versionId: string | null;
  lastUpdated: string | null;
  /** Encounter status when last seen. */
  status: string | null;
}

/** An event a resource change stands for, before it is tied to a unified patient. */
export interface DetectedEvent {
  type: PatientEventType;
  /** When it happened at the source (admission start, discharge end, onset, result time, ...). */
  occurredAt: string;
  /** What it is about, as sorted `system|code` tokens: part of the cross-source identity. */
  code: string;
  /** Lab results: the source's abnormal flag (interpretation), null when it gave none. */
  abnormal: boolean | null;
}

/** The outcome of looking at one resource version. */
export interface Detection {
  events: DetectedEvent[];
  /** What to remember of this version; null when it is the version already seen. */
  seen: SeenResource | null;
}

// Inpatient-like classes (HL7 v3 ActCode): a new encounter of these is an admission.
const INPATIENT_CLASSES = new Set(['IMP', 'ACUTE', 'NONAC', 'OBSENC', 'PRENC', 'SS']);
const EMERGENCY_CLASSES = new Set(['EMER']);
// An encounter that is under way or over; planned and cancelled ones admit nobody.
const STARTED = new Set(['arrived', 'triaged', 'in-progress', 'onleave', 'finished']);
// Interpretation codes (v3 ObservationInterpretation) that mean "not normal".
const ABNORMAL = new Set(['A', 'AA', 'H', 'HH', 'HU', 'L', 'LL', 'LU', '>', '<', 'POS', 'DET', 'R', 'I', 'W', 'CAR', 'HX', 'LX']);
const NORMAL = new Set(['N', 'NEG', 'ND', 'S']);
// Resources entered in error, drafts and refuted diagnoses are not news.
const NOT_EVENTS = new Set(['entered-in-error', 'draft', 'refuted', 'cancelled', 'preliminary', 'registered']);

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The events one version of a watched resource stands for, given what was seen of it before
 * (`previous`, null for a resource never seen). Seeing the same version again yields nothing,
 * so an overlapping or repeated poll is harmless.
 *
 * - Encounter: new and started, inpatient class -> ADMITTED; emergency class -> EMERGENCY_VISIT;
 *   reaching `finished` (inpatient or emergency, new or not) -> DISCHARGED; any other change, or a
 *   new encounter of another class -> ENCOUNTER_UPDATED.
 * - Condition, laboratory Observation, MedicationRequest: new -> NEW_CONDITION, NEW_LAB_RESULT
 *   (with the abnormal flag), NEW_MEDICATION. Later versions are not new again.
 * A resource is "new" when never seen and at its first version (`meta.versionId` 1 or absent);
 * a never-seen resource at a later version was created before the feed started watching.
 */
export function detectEvents(resource: Resource, previous: SeenResource | null): Detection {
  const r = resource as Any;
  const versionId = typeof r.meta?.versionId === 'string' ? r.meta.versionId : null;
  const lastUpdated = typeof r.meta?.lastUpdated === 'string' ? r.meta.lastUpdated : null;
  if (previous && sameVersion(previous, versionId, lastUpdated)) return { events: [], seen: null };
  const status = typeof r.status === 'string' ? r.status : null;
  const seen: SeenResource = { versionId, lastUpdated, status: resource.resourceType === 'Encounter' ? status : null };
  const isNew = !previous && (versionId === null || versionId === '1');
  const fallbackTime = lastUpdated ?? new Date().toISOString();

  switch (resource.resourceType) {
    case 'Encounter':
      return { events: encounterEvents(resource as Encounter, previous, isNew, fallbackTime), seen };
    case 'Condition': {
      if (!isNew || NOT_EVENTS.has(r.verificationStatus?.coding?.[0]?.code)) return { events: [], seen };
      const at = instant(r.recordedDate) ?? instant(r.onsetDateTime) ?? instant(r.onsetPeriod?.start) ?? fallbackTime;
      return { events: [{ type: 'NEW_CONDITION', occurredAt: at, code: codeKey(r.code?.coding), abnormal: null }], seen };
    }
    case 'Observation': {
      if (!isNew || !isLaboratory(resource as Observation) || NOT_EVENTS.has(status ?? '')) return { events: [], seen };
      const at = instant(r.effectiveDateTime) ?? instant(r.effectivePeriod?.start) ?? instant(r.effectiveInstant) ?? instant(r.issued) ?? fallbackTime;
      return { events: [{ type: 'NEW_LAB_RESULT', occurredAt: at, code: codeKey(r.code?.coding), abnormal: abnormalFlag(resource as Observation) }], seen };
    }
    case 'MedicationRequest': {
      if (!isNew || NOT_EVENTS.has(status ?? '')) return { events: [], seen };
      const at = instant(r.authoredOn) ?? fallbackTime;
      return { events: [{ type: 'NEW_MEDICATION', occurredAt: at, code: codeKey(r.medicationCodeableConcept?.coding), abnormal: null }], seen };
    }
    default:
      return { events: [], seen };
  }
}

function encounterEvents(e: Encounter, previous: SeenResource | null, isNew: boolean, fallbackTime: string): DetectedEvent[] {
  const cls = e.class?.code ?? '';
  const status = e.status ?? '';
  if (status === 'entered-in-error') return [];
  const inpatient = INPATIENT_CLASSES.has(cls);
  const emergency = EMERGENCY_CLASSES.has(cls);
  // Class and type identify the visit across sources; the start time pins it.
  const code = [`class|${cls}`, ...(e.type ?? []).flatMap((t) => tokens(t.coding))].sort().join(',');
  const start = instant(e.period?.start) ?? fallbackTime;
  const events: DetectedEvent[] = [];
  if (isNew && STARTED.has(status) && inpatient) events.push({ type: 'ADMITTED', occurredAt: start, code, abnormal: null });
  if (isNew && STARTED.has(status) && emergency) events.push({ type: 'EMERGENCY_VISIT', occurredAt: start, code, abnormal: null });
  if (status === 'finished' && previous?.status !== 'finished' && (inpatient || emergency)) {
    events.push({ type: 'DISCHARGED', occurredAt: instant(e.period?.end) ?? fallbackTime, code, abnormal: null });
  }
  if (events.length === 0) {
    // Anything else that changed: a transfer, a status step, a new outpatient visit.
    events.push({ type: 'ENCOUNTER_UPDATED', occurredAt: instant(e.meta?.lastUpdated) ?? fallbackTime, code, abnormal: null });
  }
  return events;
}

function sameVersion(previous: SeenResource, versionId: string | null, lastUpdated: string | null): boolean {
  if (versionId !== null && previous.versionId !== null) return versionId === previous.versionId;
  return lastUpdated !== null && previous.lastUpdated !== null && Date.parse(lastUpdated) === Date.parse(previous.lastUpdated);
}

function isLaboratory(o: Observation): boolean {
  return (o.category ?? []).some((c) => (c.coding ?? []).some((x) => x.code === 'laboratory'));
}

/** True for a flagged value (high, low, abnormal, critical, positive, ...), false for normal, null when not said. */
export function abnormalFlag(o: Observation): boolean | null {
  const codes = (o.interpretation ?? []).flatMap((c) => (c.coding ?? []).map((x) => x.code ?? ''));
  if (codes.some((c) => ABNORMAL.has(c.toUpperCase()))) return true;
  if (codes.some((c) => NORMAL.has(c.toUpperCase()))) return false;
  return null;
}

function tokens(codings: Coding[] | undefined): string[] {
  return (codings ?? []).filter((c) => c.code).map((c) => `${c.system ?? ''}|${c.code}`);
}

/** Codes as sorted `system|code` tokens, so coding order and extra displays do not matter. */
export function codeKey(codings: Coding[] | undefined): string {
  return tokens(codings).sort().join(',');
}

/** A FHIR dateTime/instant as an ISO instant, or null when absent or malformed. */
function instant(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}
