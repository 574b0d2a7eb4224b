/** Patient fields that together make up the `demographics` field group of an audit event. */
export const DEMOGRAPHIC_FIELDS = new Set(['name', 'birthDate', 'birthYear', 'ageGroup', 'gender', 'addresses', 'telecom']);

/**
 * The audit field group a Patient field belongs to: demographics, or the field's own name
 * (identifiers, sourceRecords, conditions, observations, coverage, eligibility, ...). The
 * id alone is no group: it only echoes what the caller sent.
 */
export function fieldGroupOf(field: string): string | null {
  if (field === 'id' || field === '__typename') return null;
  return DEMOGRAPHIC_FIELDS.has(field) ? 'demographics' : field;
}

/**
 * What one request did with patient data, gathered while it runs (by a field middleware)
 * and written as one audit event when the response is sent.
 */
export class RequestAuditTrail {
  /** Unified ids of the patients whose fields were read or refused. */
  readonly patients = new Set<string>();
  readonly groupsRead = new Set<string>();
  readonly groupsDenied = new Set<string>();
  /** Groups a field started to resolve for, whether or not it finished before the answer went out. */
  readonly groupsAsked = new Set<string>();
  /** Root fields that look patients up (`patient`, `searchPatients`, ...). */
  readonly lookups = new Set<string>();
  /** Cohort criteria (codes, ranges and dates the caller sent; no patient values) and the breakdowns asked. */
  readonly cohorts: { criteria: Record<string, unknown>; breakdowns: string[][] }[] = [];

  /** A patient field started to resolve. */
  asked(patientId: string | undefined, group: string | null): void {
    if (patientId) this.patients.add(patientId);
    if (group) this.groupsAsked.add(group);
  }

  /** A patient field answered. */
  read(patientId: string | undefined, group: string | null): void {
    if (patientId) this.patients.add(patientId);
    if (group) this.groupsRead.add(group);
  }

  /** A patient field or lookup was refused by the permission rules. */
  denied(patientIds: readonly string[], groups: readonly string[]): void {
    for (const id of patientIds) this.patients.add(id);
    for (const g of groups) this.groupsDenied.add(g);
  }

  /** A root field that finds patients ran (even if it found none: the lookup itself is a disclosure). */
  lookedUp(field: string): void {
    this.lookups.add(field);
  }

  /** A cohort ran with these criteria; `breakdowns` fills as its breakdown fields resolve. */
  cohortQueried(entry: { criteria: Record<string, unknown>; breakdowns: string[][] }): void {
    this.cohorts.push(entry);
  }

  /** True when the request touched patient data at all (and so must be audited). */
  get touchesPatients(): boolean {
    return this.patients.size > 0 || this.lookups.size > 0 || this.groupsDenied.size > 0;
  }
}
