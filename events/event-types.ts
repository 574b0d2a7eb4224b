/** What happened to a patient, as the event feed reports it (PRODUCT.md's public names). */
export const PATIENT_EVENT_TYPES = [
  'ADMITTED',
  'DISCHARGED',
  'EMERGENCY_VISIT',
  'ENCOUNTER_UPDATED',
  'NEW_CONDITION',
  'NEW_LAB_RESULT',
  'NEW_MEDICATION',
] as const;
export type PatientEventType = (typeof PATIENT_EVENT_TYPES)[number];

/** The FHIR resource types the feed watches, and the event types each can produce. */
export const WATCHED_TYPES = {
  Encounter: ['ADMITTED', 'DISCHARGED', 'EMERGENCY_VISIT', 'ENCOUNTER_UPDATED'],
  Condition: ['NEW_CONDITION'],
  Observation: ['NEW_LAB_RESULT'],
  MedicationRequest: ['NEW_MEDICATION'],
} as const satisfies Record<string, readonly PatientEventType[]>;
export type WatchedType = keyof typeof WATCHED_TYPES;
export const WATCHED_TYPE_NAMES = Object.keys(WATCHED_TYPES) as WatchedType[];

/** The resource type behind an event type. */
export function resourceTypeOf(type: PatientEventType): WatchedType {
  for (const t of WATCHED_TYPE_NAMES) if ((WATCHED_TYPES[t] as readonly string[]).includes(type)) return t;
  throw new TypeError(`unknown event type ${type}`);
}

export function isPatientEventType(value: unknown): value is PatientEventType {
  return typeof value === 'string' && (PATIENT_EVENT_TYPES as readonly string[]).includes(value);
}
