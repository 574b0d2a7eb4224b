import { doubleMetaphone } from 'double-metaphone';
import type { SourcePatientRow } from '../datasources/cache/source-patient-store.js';
import type { Patient } from '../datasources/fhir/fhir-types.js';
import { toMatchRecord, type MatchRecord } from './match-record.js';

/**
 * The `source_patient` row of one FHIR Patient (its `id` must be set): the folded
 * demographics the matcher compares and the blocking keys that find candidates. Lookups
 * and `sync` both write rows with this one function, so the index and the matcher always
 * agree on what a name or a phone number is.
 */
export function toSourcePatientRow(sourceId: string, patient: Patient): SourcePatientRow {
  if (!patient.id) throw new TypeError('a Patient without an id cannot be indexed');
  const m = toMatchRecord(patient);
  const lastUpdated = patient.meta?.lastUpdated ? new Date(patient.meta.lastUpdated) : null;
  return {
    sourceId,
    sourcePatientId: patient.id,
    familyKey: m.family,
    familyKeys: m.families,
    givenKeys: m.given,
    birthDate: m.birthDate,
    gender: m.gender,
    addressLine: m.addressLine,
    postalCode: m.postalCode,
    phone: m.phone,
    identifiers: [...new Set(m.identifiers.map((i) => `${i.system}|${i.value}`))],
    lastUpdated: lastUpdated && !Number.isNaN(lastUpdated.getTime()) ? lastUpdated : null,
    ...blockingKeys(m),
  };
}

/** The blocking keys of a record besides birth date and phone: family-name sound and birth year. */
export function blockingKeys(m: Pick<MatchRecord, 'family' | 'birthDate'>): { familySound: string | null; birthYear: number | null } {
  return {
    familySound: familySound(m.family),
    birthYear: m.birthDate ? Number(m.birthDate.slice(0, 4)) : null,
  };
}

/**
 * Double Metaphone (primary code) of a folded family name, hyphens and spaces dropped:
 * SMITH, SMYTH and SMITHE share a code, so a typo in the family name still meets its
 * record in the same block.
 */
export function familySound(family: string | null): string | null {
  if (!family) return null;
  const code = doubleMetaphone(family.replace(/[- ]/g, ''))[0];
  return code || null;
}

/** The record a row stands for, as the matcher compares it. */
export function matchRecordOfRow(row: SourcePatientRow): MatchRecord {
  return {
    family: row.familyKey,
    families: row.familyKeys.length > 0 ? row.familyKeys : row.familyKey ? [row.familyKey] : [],
    given: row.givenKeys,
    birthDate: row.birthDate,
    gender: row.gender,
    addressLine: row.addressLine,
    postalCode: row.postalCode,
    phone: row.phone,
    identifiers: row.identifiers.map((t) => {
      const bar = t.indexOf('|');
      return { system: t.slice(0, bar), value: t.slice(bar + 1) };
    }),
  };
}
