import type { Coverage } from '@medplum/fhirtypes';
import type { EligibilitySourceConfig } from '../../config/config.schema.js';
import type { EligibilityInquiry } from './eligibility-types.js';

/** Service type asked for when the caller names none: health benefit plan coverage. */
export const DEFAULT_SERVICE_TYPES = ['30'] as const;

const norm = (s: string) => s.trim().toLowerCase();

/**
 * Whether an EHR Coverage names this payer. EHRs identify the payer in `Coverage.payor`,
 * usually by an Organization display name, sometimes with an identifier (a payer id or NAIC
 * code); a payer source matches when any payor's identifier value or display equals
 * (ignoring case) its trading partner id, its name, or one of its `payerIds`.
 */
export function payerMatchesCoverage(source: EligibilitySourceConfig, coverage: Coverage): boolean {
  const names = new Set([source.tradingPartnerServiceId, ...(source.name ? [source.name] : []), ...source.payerIds].map(norm));
  return (coverage.payor ?? []).some(
    (p) => (p.display !== undefined && names.has(norm(p.display))) || (p.identifier?.value !== undefined && names.has(norm(p.identifier.value))),
  );
}

/** The first payer source (config order) that a Coverage names, if any. */
export function findPayerFor(sources: readonly EligibilitySourceConfig[], coverage: Coverage): EligibilitySourceConfig | undefined {
  return sources.find((s) => payerMatchesCoverage(s, coverage));
}

/**
 * The member id of a Coverage: `subscriberId` for the subscriber, or for a dependent whose
 * card carries its own number, the identifier typed `MB` (member number).
 */
export function memberIdOf(coverage: Coverage): string | undefined {
  const typed = coverage.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MB'))?.value;
  return coverage.subscriberId ?? typed;
}

/** The Coverage's relationship code (`self`, `spouse`, `child`, ...); `self` when unsaid. */
export function relationshipOf(coverage: Coverage): string {
  return coverage.relationship?.coding?.find((c) => c.code)?.code ?? 'self';
}

/** Demographics that go into an inquiry, as the graph knows them. */
export interface MemberDemographics {
  given?: string | null;
  family?: string | null;
  /** FHIR date; only a full YYYY-MM-DD is sent. */
  birthDate?: string | null;
  gender?: string | null;
}

/** FHIR administrative gender to X12 (`M`/`F`); other values are not sent. */
export function x12Gender(gender: string | null | undefined): 'M' | 'F' | undefined {
  return gender === 'male' ? 'M' : gender === 'female' ? 'F' : undefined;
}

/** Sorted service type codes without repeats, or the default. */
export function normaliseServiceTypes(codes: readonly string[] | null | undefined): string[] {
  const list = [...new Set((codes ?? []).map((c) => c.trim().toUpperCase()).filter(Boolean))].sort();
  return list.length > 0 ? list : [...DEFAULT_SERVICE_TYPES];
}

/**
 * The inquiry for a patient's Coverage: member id from the Coverage, names, birth date and
 * gender from the patient. The patient goes in the dependent loop when the Coverage says
 * they are not the subscriber. Undefined when the Coverage has no member id.
 */
export function inquiryFromCoverage(
  coverage: Coverage,
  patient: MemberDemographics,
  serviceTypeCodes: readonly string[] | null | undefined,
  dateOfService: string,
): EligibilityInquiry | undefined {
  const memberId = memberIdOf(coverage)?.trim();
  if (!memberId) return undefined;
  const birthDate = patient.birthDate && /^\d{4}-\d{2}-\d{2}$/.test(patient.birthDate) ? patient.birthDate : undefined;
  const gender = x12Gender(patient.gender);
  return {
    memberId,
    ...(patient.given && { firstName: patient.given }),
    ...(patient.family && { lastName: patient.family }),
    ...(birthDate && { dateOfBirth: birthDate }),
    ...(gender && { gender }),
    ...(relationshipOf(coverage) !== 'self' && { dependent: true }),
    serviceTypeCodes: normaliseServiceTypes(serviceTypeCodes),
    dateOfService,
  };
}

/** Whether a Coverage is in force on a day (status active, period containing it). */
export function coverageInForce(coverage: Coverage, day: string): boolean {
  if (coverage.status && coverage.status !== 'active') return false;
  const start = coverage.period?.start?.slice(0, 10);
  const end = coverage.period?.end?.slice(0, 10);
  return (!start || start <= day) && (!end || end >= day);
}
