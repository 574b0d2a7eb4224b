import type {
  BenefitEntry,
  CostLimit,
  EligibilityAnswer,
  EligibilityWarning,
  NetworkBenefits,
  PlanStatus,
  Rejection,
  ServiceTypeBenefits,
} from './eligibility-types.js';
import {
  ACTIVE_CODES,
  BENEFIT_CODES,
  codeName,
  COVERAGE_LEVELS,
  FOLLOWUP_ACTIONS,
  INACTIVE_CODES,
  REJECT_REASONS,
  REMAINING_QUALIFIERS,
  SERVICE_TYPES,
  TIME_QUALIFIERS,
  TRANSIENT_REJECTS,
} from './x12-codes.js';

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A string field; numbers are accepted (some payers send codes as numbers). */
function str(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() === '' ? null : v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

function strings(v: unknown): string[] {
  return list(v)
    .map(str)
    .filter((s): s is string => s !== null);
}

/** X12 amounts arrive as strings ("1500", "1500.00", sometimes "1,500"); anything else is null. */
export function parseAmount(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  const s = str(v)?.replace(/[$,\s]/g, '');
  if (!s || !/^-?\d+(\.\d+)?$|^-?\.\d+$/.test(s)) return null;
  return Number(s);
}

/** `20240131` to `2024-01-31`; null for anything that is not a real calendar date. */
export function x12Date(v: unknown): string | null {
  const s = str(v);
  const m = s ? /^(\d{4})(\d{2})(\d{2})$/.exec(s) : null;
  if (!m) return null;
  const iso = `${m[1]}-${m[2]}-${m[3]}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso ? iso : null;
}

/** A 271 date or range (`20240101-20241231`) as [start, end]. */
function dateRange(v: unknown): [string | null, string | null] {
  const s = str(v);
  if (!s) return [null, null];
  const [a, b] = s.split('-');
  return [x12Date(a), b === undefined ? null : x12Date(b)];
}

function mapBenefit(raw: Json): BenefitEntry {
  const code = str(raw.code);
  const coverageLevelCode = str(raw.coverageLevelCode);
  const timeQualifierCode = str(raw.timeQualifierCode);
  const messages = list(raw.additionalInformation)
    .map((m) => (isObj(m) ? str(m.description) : null))
    .filter((m): m is string => m !== null);
  return {
    code,
    name: str(raw.name) ?? codeName(BENEFIT_CODES, code) ?? null,
    coverageLevelCode,
    coverageLevel: str(raw.coverageLevel) ?? codeName(COVERAGE_LEVELS, coverageLevelCode) ?? null,
    serviceTypeCodes: strings(raw.serviceTypeCodes),
    insuranceTypeCode: str(raw.insuranceTypeCode),
    planCoverage: str(raw.planCoverage),
    timeQualifierCode,
    timeQualifier: str(raw.timeQualifier) ?? codeName(TIME_QUALIFIERS, timeQualifierCode) ?? null,
    amount: parseAmount(raw.benefitAmount),
    percent: parseAmount(raw.benefitPercent),
    inPlanNetworkIndicatorCode: str(raw.inPlanNetworkIndicatorCode),
    authOrCertIndicator: str(raw.authOrCertIndicator),
    quantityQualifierCode: str(raw.quantityQualifierCode),
    quantity: parseAmount(raw.benefitQuantity),
    messages,
  };
}

function mapRejection(raw: Json): Rejection | null {
  const code = str(raw.code);
  if (!code) return null;
  const followupText = str(raw.followupAction);
  let followupActionCode = str(raw.followupActionCode);
  // Some clearinghouses send only the text of AAA04; the code is recoverable from it.
  if (!followupActionCode && followupText) {
    followupActionCode = Object.entries(FOLLOWUP_ACTIONS).find(([, text]) => text.toLowerCase() === followupText.toLowerCase())?.[0] ?? null;
  }
  return {
    code,
    description: str(raw.description) ?? codeName(REJECT_REASONS, code) ?? null,
    followupActionCode,
    followupAction: followupText ?? codeName(FOLLOWUP_ACTIONS, followupActionCode) ?? null,
    location: str(raw.location) ?? null,
    transient: TRANSIENT_REJECTS.has(code),
  };
}

/** AAA errors: the top-level `errors`, or, from payers that nest them only, each loop's `aaaErrors`. */
function collectRejections(raw: Json): Rejection[] {
  const out: Rejection[] = [];
  const seen = new Set<string>();
  const add = (e: unknown, loop?: string) => {
    if (!isObj(e)) return;
    const r = mapRejection(loop && !e.location ? { ...e, location: loop } : e);
    if (!r || seen.has(r.code)) return;
    seen.add(r.code);
    out.push(r);
  };
  for (const e of list(raw.errors)) add(e);
  if (out.length === 0) {
    for (const loop of ['payer', 'provider', 'subscriber'] as const) {
      const part = raw[loop];
      if (isObj(part)) for (const e of list(part.aaaErrors)) add(e, loop);
    }
    for (const dep of list(raw.dependents)) if (isObj(dep)) for (const e of list(dep.aaaErrors)) add(e, 'dependent');
  }
  return out;
}

function networkOf(entry: BenefitEntry): 'in' | 'out' | 'both' {
  // W is "not applicable": the benefit holds in and out of network. An absent or unknown
  // indicator is read the same way; an explicit Y or N entry wins over it (see pick below).
  if (entry.inPlanNetworkIndicatorCode === 'Y') return 'in';
  if (entry.inPlanNetworkIndicatorCode === 'N') return 'out';
  return 'both';
}

const GENERAL_STC = '30';
const FAMILY_LEVELS = new Set(['FAM', 'ESP', 'ECH', 'SPC', 'DEP', 'CHD']);

/**
 * The summary for one service type under one network. Deductibles and out-of-pocket
 * maximums are usually sent once for the whole plan (under STC 30 or with no STC), so a
 * field the service type lacks is taken from the plan-level entries.
 */
function summarise(benefits: BenefitEntry[], stc: string, network: 'in' | 'out'): NetworkBenefits | null {
  const forStc = (e: BenefitEntry) => e.serviceTypeCodes.includes(stc);
  const general = (e: BenefitEntry) => e.serviceTypeCodes.length === 0 || e.serviceTypeCodes.includes(GENERAL_STC);
  const inNetwork = (e: BenefitEntry) => {
    const n = networkOf(e);
    return n === network || n === 'both';
  };
  // Prefer the service type's own entries, then explicit network entries over "both".
  const pick = (code: string, extra: (e: BenefitEntry) => boolean = () => true): BenefitEntry[] => {
    const candidates = benefits.filter((e) => e.code === code && inNetwork(e) && extra(e));
    const own = candidates.filter(forStc);
    const pool = own.length > 0 ? own : candidates.filter(general);
    const explicit = pool.filter((e) => networkOf(e) === network);
    return explicit.length > 0 ? explicit : pool;
  };
  const limit = (code: string, family: boolean): CostLimit | null => {
    const entries = pick(code, (e) => (e.coverageLevelCode ? FAMILY_LEVELS.has(e.coverageLevelCode) === family : !family));
    const totals = entries.filter((e) => e.amount !== null && !REMAINING_QUALIFIERS.has(e.timeQualifierCode ?? ''));
    const remaining = entries.filter((e) => e.amount !== null && REMAINING_QUALIFIERS.has(e.timeQualifierCode ?? ''));
    if (totals.length === 0 && remaining.length === 0) return null;
    return { total: totals[0]?.amount ?? null, remaining: remaining[0]?.amount ?? null, timePeriod: totals[0]?.timeQualifier ?? null };
  };
  const copay = pick('B').find((e) => e.amount !== null)?.amount ?? null;
  const percent = pick('A').find((e) => e.percent !== null)?.percent ?? null;
  const auth = benefits.filter((e) => forStc(e) && inNetwork(e) && e.authOrCertIndicator)[0]?.authOrCertIndicator;
  // A service type's own lines beat a plan-wide "not covered" (HMOs: "out of network not
  // covered except emergencies", with an out-of-network emergency copay).
  const own = benefits.filter((e) => forStc(e) && inNetwork(e) && !ACTIVE_CODES.has(e.code ?? '') && !INACTIVE_CODES.has(e.code ?? ''));
  const nonCovered = own.some((e) => e.code === 'I') || (own.length === 0 && benefits.some((e) => general(e) && inNetwork(e) && e.code === 'I'));
  const out: NetworkBenefits = {
    covered: nonCovered ? false : null,
    deductible: limit('C', false),
    familyDeductible: limit('C', true),
    outOfPocketMaximum: limit('G', false),
    familyOutOfPocketMaximum: limit('G', true),
    copay,
    coinsurancePercent: percent === null ? null : Math.round(percent * 100 * 1e4) / 1e4,
    priorAuthorizationRequired: auth === 'Y' ? true : auth === 'N' ? false : null,
  };
  if (Object.values(out).every((v) => v === null)) return null;
  // Any cost sharing stated for this network means the service is covered there.
  if (!nonCovered) out.covered = true;
  return out;
}

function stcActive(benefits: BenefitEntry[], statuses: PlanStatus[], stc: string, overall: boolean | null): boolean | null {
  // An out-of-network-only "non-covered" line (an HMO) does not make the service uncovered.
  const codes = [
    ...benefits.filter((e) => e.serviceTypeCodes.includes(stc) && e.inPlanNetworkIndicatorCode !== 'N').map((e) => e.code ?? ''),
    ...statuses.filter((s) => s.serviceTypeCodes.includes(stc)).map((s) => s.statusCode ?? ''),
  ];
  if (codes.some((c) => c === 'I' || INACTIVE_CODES.has(c))) return false;
  if (codes.some((c) => ACTIVE_CODES.has(c))) return true;
  return overall;
}

/**
 * Maps a 271 answer in the clearinghouse JSON form. Never throws on payer quirks: unknown
 * codes are kept as sent, unparseable amounts and dates become null, missing arrays are
 * empty. `requestedServiceTypes` come first in the per-service-type summary.
 */
export function map271(raw: unknown, requestedServiceTypes: readonly string[] = []): EligibilityAnswer {
  const r: Json = isObj(raw) ? raw : {};
  const planStatus: PlanStatus[] = list(r.planStatus)
    .filter(isObj)
    .map((s) => ({ statusCode: str(s.statusCode), status: str(s.status), planDetails: str(s.planDetails), serviceTypeCodes: strings(s.serviceTypeCodes) }));
  const benefits = list(r.benefitsInformation).filter(isObj).map(mapBenefit);
  const rejections = collectRejections(r);
  const warnings: EligibilityWarning[] = list(r.warnings)
    .filter(isObj)
    .map((w) => ({ code: str(w.code), description: str(w.description) }));

  const statusCodes = [...planStatus.map((s) => s.statusCode ?? ''), ...benefits.map((b) => b.code ?? '')];
  let active: boolean | null = null;
  if (rejections.length === 0) {
    if (statusCodes.some((c) => ACTIVE_CODES.has(c))) active = true;
    else if (statusCodes.some((c) => INACTIVE_CODES.has(c))) active = false;
  }

  const info = isObj(r.planInformation) ? r.planInformation : {};
  const dates = isObj(r.planDateInformation) ? r.planDateInformation : {};
  const subscriber = isObj(r.subscriber) ? r.subscriber : {};
  const payer = isObj(r.payer) ? r.payer : {};
  const [planStart, planEnd] = dateRange(dates.plan);
  const [eligStart, eligEnd] = dateRange(dates.eligibility);
  const statusEntry = benefits.find((b) => ACTIVE_CODES.has(b.code ?? '')) ?? benefits.find((b) => INACTIVE_CODES.has(b.code ?? ''));

  const stcs = [...new Set([...requestedServiceTypes, ...benefits.flatMap((b) => b.serviceTypeCodes)])];
  const serviceTypes: ServiceTypeBenefits[] =
    rejections.length > 0
      ? []
      : stcs.map((stc) => ({
          serviceTypeCode: stc,
          serviceType: serviceTypeName(r, stc),
          active: stcActive(benefits, planStatus, stc, active),
          inNetwork: summarise(benefits, stc, 'in'),
          outOfNetwork: summarise(benefits, stc, 'out'),
        }));

  return {
    controlNumber: str(r.controlNumber),
    active,
    planStatus,
    payerName: str(payer.name) ?? str(payer.lastName),
    memberId: str(subscriber.memberId),
    planName: str(info.planDescription) ?? statusEntry?.planCoverage ?? benefits.find((b) => b.planCoverage)?.planCoverage ?? null,
    planNumber: str(info.planNumber) ?? str(subscriber.planNumber),
    groupNumber: str(info.groupNumber) ?? str(subscriber.groupNumber),
    groupName: str(info.groupDescription) ?? str(subscriber.groupDescription),
    insuranceTypeCode: statusEntry?.insuranceTypeCode ?? benefits.find((b) => b.insuranceTypeCode)?.insuranceTypeCode ?? null,
    coverageLevelCode: statusEntry?.coverageLevelCode ?? null,
    coverageStart: x12Date(dates.planBegin) ?? planStart ?? x12Date(dates.eligibilityBegin) ?? eligStart,
    coverageEnd: x12Date(dates.planEnd) ?? planEnd ?? x12Date(dates.eligibilityEnd) ?? eligEnd,
    serviceTypes,
    benefits,
    rejections,
    warnings,
  };
}

/** The service type's name: ours, else the payer's own (`serviceTypes` parallels `serviceTypeCodes`). */
function serviceTypeName(r: Json, stc: string): string | null {
  const known = codeName(SERVICE_TYPES, stc);
  if (known) return known;
  for (const b of list(r.benefitsInformation)) {
    if (!isObj(b)) continue;
    const codes = strings(b.serviceTypeCodes);
    const names = list(b.serviceTypes);
    const i = codes.indexOf(stc);
    if (i >= 0) {
      const name = str(names[i]);
      if (name) return name;
    }
  }
  return null;
}
