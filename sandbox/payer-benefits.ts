import type { SimulatedMember, SimulatedPlanKind, SimulatedTradingPartner } from './payer-members.js';

// The benefit tables of the simulated plans and the 271 JSON the simulator answers with,
// in the shape of the clearinghouse `eligibility/v3` API (amounts as strings, X12 codes).

type Network = 'Y' | 'N' | 'W';
interface CostRow {
  /** Per network: individual deductible and out-of-pocket maximum (family is twice that). */
  deductible: Partial<Record<Network, number>>;
  outOfPocket: Partial<Record<Network, number>>;
  /** Coinsurance fraction per network for general medical (STC 30). */
  coinsurance: Partial<Record<Network, number>>;
  /** Copays per service type and network. */
  copays: Record<string, Partial<Record<Network, number>>>;
  /** Service types needing prior authorization. */
  priorAuth: string[];
  /** Out-of-network care not covered at all (HMO). */
  inNetworkOnly: boolean;
  name: string;
  planNumber: string;
  insuranceTypeCode: string;
  insuranceType: string;
}

/** The benefit table of each simulated plan. */
export const PLAN_TABLES: Readonly<Record<SimulatedPlanKind, CostRow>> = {
  'gold-ppo': {
    name: 'Acme Gold PPO',
    planNumber: 'ACME-GOLD-PPO',
    insuranceTypeCode: 'PR',
    insuranceType: 'Preferred Provider Organization (PPO)',
    deductible: { Y: 1500, N: 3000 },
    outOfPocket: { Y: 5000, N: 10000 },
    coinsurance: { Y: 0.2, N: 0.4 },
    copays: { '98': { Y: 25 }, UC: { Y: 50 }, '86': { W: 250 }, '88': { Y: 10 }, MH: { Y: 25 } },
    priorAuth: ['MH'],
    inNetworkOnly: false,
  },
  'silver-hmo': {
    name: 'Acme Silver HMO',
    planNumber: 'ACME-SILVER-HMO',
    insuranceTypeCode: 'HM',
    insuranceType: 'Health Maintenance Organization (HMO)',
    deductible: { Y: 3000 },
    outOfPocket: { Y: 7000 },
    coinsurance: { Y: 0.3 },
    copays: { '98': { Y: 40 }, UC: { Y: 75 }, '86': { W: 350 }, '88': { Y: 15 }, MH: { Y: 40 } },
    priorAuth: ['MH', '48'],
    inNetworkOnly: true,
  },
  medicaid: {
    name: 'State Medicaid Managed Care',
    planNumber: 'MCD-MMC',
    insuranceTypeCode: 'MC',
    insuranceType: 'Medicaid',
    deductible: { Y: 0 },
    outOfPocket: { Y: 0 },
    coinsurance: { Y: 0 },
    copays: { '98': { Y: 0 }, UC: { Y: 0 }, '86': { W: 0 }, '88': { Y: 3 }, MH: { Y: 0 } },
    priorAuth: ['MH'],
    inNetworkOnly: true,
  },
};

/** Service types the simulated medical plans cover; others (dental, vision) are answered as non-covered. */
export const COVERED_SERVICE_TYPES = new Set(['1', '2', '4', '5', '30', '33', '47', '48', '50', '86', '88', '98', 'MH', 'UC', 'BZ', 'PT']);

const SERVICE_NAMES: Record<string, string> = {
  '1': 'Medical Care',
  '30': 'Health Benefit Plan Coverage',
  '35': 'Dental Care',
  '48': 'Hospital - Inpatient',
  '86': 'Emergency Services',
  '88': 'Pharmacy',
  '98': 'Professional (Physician) Visit - Office',
  AL: 'Vision (Optometry)',
  MH: 'Mental Health',
  UC: 'Urgent Care',
};
const NETWORK_NAMES: Record<Network, string> = { Y: 'Yes', N: 'No', W: 'Not Applicable' };
const LEVEL_NAMES = { IND: 'Individual', FAM: 'Family' } as const;

const money = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));
/** What is left of `total` once `share` of it is met, in whole tens. */
const left = (total: number, share: number) => Math.max(0, total - Math.round((total * share) / 10) * 10);

/** The request fields the 271 echoes. */
export interface InquiryEcho {
  controlNumber: string;
  provider: { npi?: string; organizationName?: string };
  serviceTypeCodes: string[];
  /** YYYYMMDD */
  dateOfService: string;
}

/** A 271 with benefits for a member the payer found. */
export function build271(member: SimulatedMember, partner: SimulatedTradingPartner, q: InquiryEcho): Record<string, unknown> {
  const table = PLAN_TABLES[member.plan];
  const year = q.dateOfService.slice(0, 4);
  const stcs = q.serviceTypeCodes.length > 0 ? q.serviceTypeCodes : ['30'];
  const benefits: Record<string, unknown>[] = [];
  const base = (code: string, name: string, extra: Record<string, unknown>) =>
    benefits.push({ code, name, ...extra });
  const stcFields = (codes: string[]) => ({ serviceTypeCodes: codes, serviceTypes: codes.map((c) => SERVICE_NAMES[c] ?? c) });
  const net = (n: Network) => ({ inPlanNetworkIndicatorCode: n, inPlanNetworkIndicator: NETWORK_NAMES[n] });

  const head = {
    ...header(member, partner, q),
    planInformation: {
      planNumber: table.planNumber,
      ...(member.groupNumber && { groupNumber: member.groupNumber, groupDescription: member.groupName }),
    },
  };

  if (!member.active) {
    const lastYear = String(Number(year) - 1);
    base('6', 'Inactive', { coverageLevelCode: member.coverageLevelCode, coverageLevel: LEVEL_NAMES[member.coverageLevelCode], ...stcFields(['30']), insuranceTypeCode: table.insuranceTypeCode, planCoverage: table.name });
    return {
      ...head,
      planStatus: [{ statusCode: '6', status: 'Inactive', planDetails: table.name, serviceTypeCodes: ['30'] }],
      planDateInformation: { planBegin: `${lastYear}0101`, planEnd: `${lastYear}1231`, eligibilityBegin: member.eligibilityBegin, eligibilityEnd: `${lastYear}1231` },
      benefitsInformation: benefits,
    };
  }

  const covered = stcs.filter((c) => COVERED_SERVICE_TYPES.has(c));
  const notCovered = stcs.filter((c) => !COVERED_SERVICE_TYPES.has(c));
  const activeStcs = [...new Set(['30', ...covered])];
  base('1', 'Active Coverage', {
    coverageLevelCode: member.coverageLevelCode,
    coverageLevel: LEVEL_NAMES[member.coverageLevelCode],
    ...stcFields(activeStcs),
    insuranceTypeCode: table.insuranceTypeCode,
    insuranceType: table.insuranceType,
    planCoverage: table.name,
  });
  for (const c of notCovered) base('I', 'Non-Covered', { coverageLevelCode: member.coverageLevelCode, ...stcFields([c]) });

  // Plan-level accumulators under STC 30, at the individual level and, for family plans, the family level.
  const levels: Array<'IND' | 'FAM'> = member.coverageLevelCode === 'FAM' ? ['IND', 'FAM'] : ['IND'];
  for (const [code, name, totals] of [
    ['C', 'Deductible', table.deductible],
    ['G', 'Out of Pocket (Stop Loss)', table.outOfPocket],
  ] as const) {
    for (const n of ['Y', 'N'] as const) {
      const ind = totals[n];
      if (ind === undefined) continue;
      for (const level of levels) {
        const total = level === 'FAM' ? ind * 2 : ind;
        // The family has met more than the member alone, but a smaller share of its larger total.
        const share = level === 'FAM' ? member.metShare / 2 : member.metShare;
        const common = { coverageLevelCode: level, coverageLevel: LEVEL_NAMES[level], ...stcFields(['30']), insuranceTypeCode: table.insuranceTypeCode, ...net(n) };
        base(code, name, { ...common, timeQualifierCode: '23', timeQualifier: 'Calendar Year', benefitAmount: money(total) });
        base(code, name, { ...common, timeQualifierCode: '29', timeQualifier: 'Remaining', benefitAmount: money(n === 'Y' ? left(total, share) : total) });
      }
    }
  }
  for (const n of ['Y', 'N'] as const) {
    const pct = table.coinsurance[n];
    if (pct !== undefined) base('A', 'Co-Insurance', { coverageLevelCode: 'IND', ...stcFields(['30']), benefitPercent: String(pct), ...net(n) });
  }
  if (table.inNetworkOnly) {
    base('I', 'Non-Covered', { ...stcFields(['30']), ...net('N'), additionalInformation: [{ description: 'Out-of-network services are not covered except emergencies' }] });
  }
  for (const c of covered) {
    for (const [n, amount] of Object.entries(table.copays[c] ?? {}) as Array<[Network, number]>) {
      base('B', 'Co-Payment', { coverageLevelCode: 'IND', ...stcFields([c]), timeQualifierCode: '27', timeQualifier: 'Visit', benefitAmount: money(amount), ...net(n) });
    }
    if (table.priorAuth.includes(c)) {
      base('CB', 'Coverage Basis', { ...stcFields([c]), authOrCertIndicator: 'Y', ...net('Y'), additionalInformation: [{ description: 'Prior authorization required' }] });
    }
  }
  return {
    ...head,
    planStatus: [{ statusCode: '1', status: 'Active Coverage', planDetails: table.name, serviceTypeCodes: activeStcs }],
    planDateInformation: { planBegin: `${year}0101`, planEnd: `${year}1231`, eligibilityBegin: member.eligibilityBegin },
    benefitsInformation: benefits,
  };
}

/** A 271 that rejects the inquiry with one AAA error. */
export function build271Rejection(partner: SimulatedTradingPartner | undefined, q: InquiryEcho, code: string, description: string, loop: string): Record<string, unknown> {
  const error = { field: 'AAA', code, description, followupAction: 'Please Correct and Resubmit', location: loop, possibleResolutions: [] };
  return {
    controlNumber: q.controlNumber,
    reassociationKey: q.controlNumber,
    ...(partner && { tradingPartnerServiceId: partner.tradingPartnerServiceId, payer: { name: partner.name, entityIdentifier: 'Payer' } }),
    subscriber: { aaaErrors: [error] },
    errors: [error],
  };
}

function header(member: SimulatedMember, partner: SimulatedTradingPartner, q: InquiryEcho): Record<string, unknown> {
  return {
    meta: { applicationMode: 'sandbox', traceId: `sandbox-${q.controlNumber}` },
    // Clearinghouses answer with their own control number and echo ours as the reassociation key.
    controlNumber: String((Number(q.controlNumber) + 500_000_000) % 1_000_000_000).padStart(9, '0'),
    reassociationKey: q.controlNumber,
    tradingPartnerServiceId: partner.tradingPartnerServiceId,
    provider: { providerName: q.provider.organizationName?.toUpperCase(), entityIdentifier: 'Provider', entityType: 'Non-Person Entity', npi: q.provider.npi },
    subscriber: {
      memberId: member.memberId,
      firstName: member.firstName.toUpperCase(),
      lastName: member.lastName.toUpperCase(),
      ...(member.gender && { gender: member.gender }),
      dateOfBirth: member.dateOfBirth,
      entityIdentifier: 'Insured or Subscriber',
      entityType: 'Person',
      ...(member.groupNumber && { groupNumber: member.groupNumber }),
    },
    payer: { entityIdentifier: 'Payer', entityType: 'Non-Person Entity', name: partner.name.toUpperCase() },
    errors: [],
    warnings: [],
  };
}
