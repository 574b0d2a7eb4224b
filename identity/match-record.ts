import type { Patient } from '@medplum/fhirtypes';
import { foldName, normalizeAddressLine, normalizeBirthDate, normalizePhone, normalizePostalCode } from './normalize.js';

/** One identifier as `system` and `value`, both as the source sent them. */
export interface IdentifierValue {
  system: string;
  value: string;
}

/**
 * The demographics of one source patient, folded for matching. Every field may be null:
 * a missing value is neutral evidence, never a disagreement.
 */
export interface MatchRecord {
  /** Folded family name of the official (else first) name. */
  family: string | null;
  /** Every folded family name the record carries (official, maiden, old), for name-change matches. */
  families: string[];
  /** Folded given names of the official (else first) name, first name first. */
  given: string[];
  /** `YYYY-MM-DD`; partial dates count as missing. */
  birthDate: string | null;
  gender: string | null;
  /** Normalised first line(s) of the home (else first) address. */
  addressLine: string | null;
  /** Five-digit ZIP of that address. */
  postalCode: string | null;
  /** Last ten digits of the first phone. */
  phone: string | null;
  identifiers: IdentifierValue[];
}

/** Folds a FHIR Patient into a {@link MatchRecord}. */
export function toMatchRecord(patient: Patient): MatchRecord {
  const names = patient.name ?? [];
  const main = names.find((n) => n.use === 'official') ?? names.find((n) => n.use !== 'old' && n.use !== 'maiden') ?? names[0];
  const address = (patient.address ?? []).find((a) => a.use === 'home' && !a.period?.end) ?? patient.address?.[0];
  const phone = (patient.telecom ?? []).find((t) => t.system === 'phone' && t.value);
  const families = new Set<string>();
  for (const n of names) {
    const f = foldName(n.family);
    if (f) families.add(f);
  }
  return {
    family: foldName(main?.family),
    families: [...families],
    given: (main?.given ?? []).flatMap((g) => (foldName(g) ?? '').split(' ')).filter(Boolean),
    birthDate: normalizeBirthDate(patient.birthDate),
    gender: patient.gender ?? null,
    addressLine: normalizeAddressLine(address?.line),
    postalCode: normalizePostalCode(address?.postalCode),
    phone: normalizePhone(phone?.value),
    identifiers: (patient.identifier ?? [])
      .filter((i): i is { system: string; value: string } => !!i.system && !!i.value)
      .map((i) => ({ system: i.system, value: i.value.trim() })),
  };
}
