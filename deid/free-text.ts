/**
 * Fields whose values are free text or names that may carry identifiers (a clinician's
 * note, a report conclusion, an organisation or person's display name, an upstream record
 * id). De-identified views drop them: lists become empty, single values null, and the
 * non-null `Provenance.sourceResourceId` becomes the empty string.
 */
export const FREE_TEXT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  DiagnosticReport: ['conclusion'],
  Observation: ['valueString'],
  ObservationComponent: ['valueString'],
  MedicationRequest: ['dosageInstructions'],
  Encounter: ['serviceProvider'],
  Provenance: ['sourceResourceId'],
};

/** The redacted stand-in for a value of this shape. */
export function redactedValue(shape: { list: boolean; nonNull: boolean }): [] | null | '' {
  if (shape.list) return [];
  return shape.nonNull ? '' : null;
}
