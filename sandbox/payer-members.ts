import type { Coverage, HumanName, Patient } from '@medplum/fhirtypes';
import { hashDigits, hashUnit } from './hash.js';
import type { SplitResult } from './split.js';

/** A payer the simulator answers for, as a clearinghouse's trading partner. */
export interface SimulatedTradingPartner {
  tradingPartnerServiceId: string;
  /** The payor display the simulated EHRs put on Coverage. */
  payorDisplay: string;
  name: string;
  /** The config source id the sandbox suggests for it. */
  sourceId: string;
}

/** The trading partners of the sandbox payer gateway. */
export const SANDBOX_TRADING_PARTNERS: readonly SimulatedTradingPartner[] = [
  { tradingPartnerServiceId: '62308', payorDisplay: 'Acme Health Plan', name: 'Acme Health Plan', sourceId: 'acme-payer' },
  { tradingPartnerServiceId: 'SKMCD', payorDisplay: 'Medicaid', name: 'State Medicaid', sourceId: 'state-medicaid' },
];

/** The kinds of plan the simulator knows; each has its own benefit table. */
export type SimulatedPlanKind = 'gold-ppo' | 'silver-hmo' | 'medicaid';

/** One member on the simulated payer's books. */
export interface SimulatedMember {
  memberId: string;
  tradingPartnerServiceId: string;
  firstName: string;
  lastName: string;
  /** YYYYMMDD */
  dateOfBirth: string;
  gender?: 'M' | 'F';
  plan: SimulatedPlanKind;
  /** `IND` or `FAM`. */
  coverageLevelCode: 'IND' | 'FAM';
  /** False: the coverage ended on 31 December of the year before the date of service. */
  active: boolean;
  /** YYYYMMDD: when the member's eligibility began (the EHR Coverage's period start). */
  eligibilityBegin: string;
  groupNumber?: string;
  groupName?: string;
  /** Share (0 to 1) of the deductible and out-of-pocket maximum already met this year. */
  metShare: number;
}

function officialName(p: Patient): HumanName | undefined {
  return p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
}

/**
 * The payer's members, from the Coverage resources the simulated EHRs hold (one member per
 * member id), with names and birth dates from the fixture patient (Mercy's copy, which has
 * no nickname variants). Deterministic: about one in five members is inactive, about a third
 * of commercial members have family coverage.
 */
export function deriveMembers(split: SplitResult): SimulatedMember[] {
  const patients = new Map<string, Patient>();
  for (const r of split.ehrs.mercy.resources) if (r.resourceType === 'Patient' && r.id) patients.set(r.id, r);
  // Coverage in St. Jude points at St. Jude's patient id; the truth leads back to Mercy's.
  const toMercy = new Map<string, string>();
  for (const t of split.truth.patients) if (t.ehrs.stjude && t.ehrs.mercy) toMercy.set(t.ehrs.stjude.patientId, t.ehrs.mercy.patientId);

  const members = new Map<string, SimulatedMember>();
  for (const ehr of ['mercy', 'stjude'] as const) {
    for (const r of split.ehrs[ehr].resources) {
      if (r.resourceType !== 'Coverage') continue;
      const cov = r as Coverage;
      const memberId = cov.subscriberId;
      const partner = SANDBOX_TRADING_PARTNERS.find((p) => cov.payor?.some((x) => x.display === p.payorDisplay));
      const ref = /^Patient\/(.+)$/.exec(cov.beneficiary?.reference ?? '')?.[1];
      if (!memberId || !partner || !ref || members.has(memberId)) continue;
      const patient = patients.get(ehr === 'mercy' ? ref : (toMercy.get(ref) ?? ''));
      const name = patient && officialName(patient);
      if (!patient?.birthDate || !name?.family || !name.given?.[0]) continue;
      const medicaid = partner.tradingPartnerServiceId === 'SKMCD';
      const family = !medicaid && hashUnit('payer-family', memberId) < 0.35;
      members.set(memberId, {
        memberId,
        tradingPartnerServiceId: partner.tradingPartnerServiceId,
        firstName: name.given[0],
        lastName: name.family,
        dateOfBirth: patient.birthDate.replaceAll('-', ''),
        ...(patient.gender === 'male' ? { gender: 'M' as const } : patient.gender === 'female' ? { gender: 'F' as const } : {}),
        plan: medicaid ? 'medicaid' : hashUnit('payer-plan', memberId) < 0.6 ? 'gold-ppo' : 'silver-hmo',
        coverageLevelCode: family ? 'FAM' : 'IND',
        active: hashUnit('payer-active', memberId) >= 0.2,
        eligibilityBegin: (cov.period?.start ?? '2020-01-01').slice(0, 10).replaceAll('-', ''),
        ...(!medicaid && { groupNumber: `GRP${hashDigits(6, 'payer-group', memberId)}`, groupName: family ? 'Acme Employer Group - Family' : 'Acme Employer Group' }),
        metShare: Math.floor(hashUnit('payer-met', memberId) * 10) / 10,
      });
    }
  }
  return [...members.values()];
}
