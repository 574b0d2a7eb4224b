// The JSON form of the X12 270 inquiry and 271 answer used by clearinghouse APIs (Stedi's and
// Change Healthcare's `eligibility/v3`), and chartgraph's mapped form of the answer.

/** Subscriber or dependent of a 270 inquiry. Dates are YYYYMMDD, gender `M` or `F`. */
export interface InquiryPerson {
  memberId?: string;
  firstName?: string;
  lastName?: string;
  dateOfBirth?: string;
  gender?: 'M' | 'F';
}

/** The body of a 270 inquiry as sent to the payer. */
export interface EligibilityRequest {
  /** 9 digits, unique per request (ISA13/ST02 in X12). */
  controlNumber: string;
  tradingPartnerServiceId: string;
  provider: { npi: string; organizationName: string };
  subscriber: InquiryPerson;
  /** Set when the patient is not the subscriber (a spouse or child on the subscriber's plan). */
  dependents?: InquiryPerson[];
  encounter: { serviceTypeCodes: string[]; dateOfService: string };
}

/**
 * What chartgraph asks about one member: the request minus what the payer config supplies
 * (control number, trading partner, provider). Dates are YYYY-MM-DD here.
 */
export interface EligibilityInquiry {
  memberId: string;
  firstName?: string;
  lastName?: string;
  /** YYYY-MM-DD */
  dateOfBirth?: string;
  gender?: 'M' | 'F';
  /** The patient is a dependent on the subscriber's plan: their details go in `dependents`. */
  dependent?: boolean;
  /** Sorted, without repeats; default `["30"]` (health benefit plan coverage). */
  serviceTypeCodes: string[];
  /** YYYY-MM-DD */
  dateOfService: string;
}

/** One 271 `planStatus` entry. */
export interface PlanStatus {
  statusCode: string | null;
  status: string | null;
  planDetails: string | null;
  serviceTypeCodes: string[];
}

/** One 271 `benefitsInformation` entry (an EB segment with its messages). */
export interface BenefitEntry {
  /** EB01, e.g. `1` active, `C` deductible; unknown codes kept as sent. */
  code: string | null;
  name: string | null;
  coverageLevelCode: string | null;
  coverageLevel: string | null;
  serviceTypeCodes: string[];
  insuranceTypeCode: string | null;
  planCoverage: string | null;
  timeQualifierCode: string | null;
  timeQualifier: string | null;
  /** EB07 as a number; null when absent or not a number. */
  amount: number | null;
  /** EB08 as a fraction (0.2 = 20%); null when absent or not a number. */
  percent: number | null;
  /** EB12: Y in network, N out of network, W both, U unknown; null when absent. */
  inPlanNetworkIndicatorCode: string | null;
  /** EB11: Y prior authorization required, N not, U unknown. */
  authOrCertIndicator: string | null;
  quantityQualifierCode: string | null;
  quantity: number | null;
  /** MSG free text the payer attached. */
  messages: string[];
}

/** One AAA rejection of the inquiry. */
export interface Rejection {
  /** AAA03, e.g. `72` invalid member id; kept as sent when unknown. */
  code: string;
  description: string | null;
  /** AAA04 when the payer sent the code (or it could be told from the text). */
  followupActionCode: string | null;
  followupAction: string | null;
  /** Where the payer put it (`Loop 2100C`, or the loop name: `subscriber`, `provider`, ...), when said. */
  location: string | null;
  /** True for rejections that mean "try again later" (42, 80). */
  transient: boolean;
}

/** One warning the clearinghouse attached to the answer. */
export interface EligibilityWarning {
  code: string | null;
  description: string | null;
}

/** A deductible or out-of-pocket maximum: the amount for the period, and what is left. */
export interface CostLimit {
  total: number | null;
  remaining: number | null;
  /** The period the total runs over (`Calendar Year`, `Service Year`, ...). */
  timePeriod: string | null;
}

/** What the member pays under one network for one service type. */
export interface NetworkBenefits {
  /** False when the payer says the service is not covered under this network. */
  covered: boolean | null;
  deductible: CostLimit | null;
  familyDeductible: CostLimit | null;
  outOfPocketMaximum: CostLimit | null;
  familyOutOfPocketMaximum: CostLimit | null;
  copay: number | null;
  /** 0 to 100. */
  coinsurancePercent: number | null;
  priorAuthorizationRequired: boolean | null;
}

/** The benefits summary for one service type code. */
export interface ServiceTypeBenefits {
  serviceTypeCode: string;
  serviceType: string | null;
  /** Covered for this service type; null when the answer does not say. */
  active: boolean | null;
  inNetwork: NetworkBenefits | null;
  outOfNetwork: NetworkBenefits | null;
}

/** A 271 mapped into chartgraph's terms. Every field tolerates payers that leave it out. */
export interface EligibilityAnswer {
  controlNumber: string | null;
  /** True when any plan status or benefit says active, false when only inactive ones, null when rejected or silent. */
  active: boolean | null;
  planStatus: PlanStatus[];
  payerName: string | null;
  memberId: string | null;
  planName: string | null;
  planNumber: string | null;
  groupNumber: string | null;
  groupName: string | null;
  insuranceTypeCode: string | null;
  /** The coverage level of the active coverage (`IND`, `FAM`, ...). */
  coverageLevelCode: string | null;
  /** YYYY-MM-DD */
  coverageStart: string | null;
  /** YYYY-MM-DD */
  coverageEnd: string | null;
  serviceTypes: ServiceTypeBenefits[];
  benefits: BenefitEntry[];
  rejections: Rejection[];
  warnings: EligibilityWarning[];
}
