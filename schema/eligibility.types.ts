import { Field, Float, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { Gender, SourceRef } from './common.types.js';
import { DateScalar, DateTimeScalar } from './scalars.js';

export enum EligibilityStatus {
  ACTIVE = 'ACTIVE',
  INACTIVE = 'INACTIVE',
  REJECTED = 'REJECTED',
  UNKNOWN = 'UNKNOWN',
}
registerEnumType(EligibilityStatus, {
  name: 'EligibilityStatus',
  description: 'The outcome of an eligibility check.',
  valuesConfig: {
    ACTIVE: { description: 'The payer says the coverage is active.' },
    INACTIVE: { description: 'The payer says the coverage is not active.' },
    REJECTED: { description: 'The payer rejected the inquiry (see `rejection`).' },
    UNKNOWN: { description: 'The payer answered without saying whether the coverage is active.' },
  },
});

@ObjectType({ simpleResolvers: true, description: 'A deductible or out-of-pocket maximum: the amount for the period and what is left of it.' })
export class CostLimit {
  @Field(() => Float, { nullable: true, description: 'The amount for the period, in US dollars.' })
  total?: number | null;

  @Field(() => Float, { nullable: true, description: 'What is left to meet, in US dollars.' })
  remaining?: number | null;

  @Field(() => String, { nullable: true, description: 'The period the total runs over (Calendar Year, Service Year, ...).' })
  timePeriod?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'What the member pays for one service type under one network (in or out).' })
export class NetworkBenefits {
  @Field(() => Boolean, { nullable: true, description: 'False when the payer says the service is not covered under this network; null when it does not say.' })
  covered?: boolean | null;

  @Field(() => CostLimit, { nullable: true, description: 'Individual deductible.' })
  deductible?: CostLimit | null;

  @Field(() => CostLimit, { nullable: true, description: 'Family deductible (family plans).' })
  familyDeductible?: CostLimit | null;

  @Field(() => CostLimit, { nullable: true, description: 'Individual out-of-pocket maximum.' })
  outOfPocketMaximum?: CostLimit | null;

  @Field(() => CostLimit, { nullable: true, description: 'Family out-of-pocket maximum (family plans).' })
  familyOutOfPocketMaximum?: CostLimit | null;

  @Field(() => Float, { nullable: true, description: 'Copay per visit or service, in US dollars.' })
  copay?: number | null;

  @Field(() => Float, { nullable: true, description: 'Coinsurance the member pays, in percent (20 = 20%).' })
  coinsurancePercent?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'Whether the payer requires prior authorization.' })
  priorAuthorizationRequired?: boolean | null;
}

@ObjectType({ simpleResolvers: true, description: 'The benefits for one X12 service type code (30 = health benefit plan coverage, 98 = office visit, UC = urgent care, ...).' })
export class ServiceTypeBenefits {
  @Field(() => String, { description: 'The X12 service type code, as the payer sent it.' })
  serviceTypeCode!: string;

  @Field(() => String, { nullable: true, description: 'The service type’s name, when known.' })
  serviceType?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Whether the service type is covered; null when the payer does not say.' })
  active?: boolean | null;

  @Field(() => NetworkBenefits, { nullable: true, description: 'In-network cost sharing; deductible and out-of-pocket maximum fall back to the plan-level ones.' })
  inNetwork?: NetworkBenefits | null;

  @Field(() => NetworkBenefits, { nullable: true, description: 'Out-of-network cost sharing.' })
  outOfNetwork?: NetworkBenefits | null;
}

@ObjectType({ simpleResolvers: true, description: 'A payer’s rejection of an eligibility inquiry (an X12 AAA segment).' })
export class EligibilityRejection {
  @Field(() => String, { description: 'The reject reason code (72 invalid member id, 75 subscriber not found, 71 birth date mismatch, ...), as sent.' })
  code!: string;

  @Field(() => String, { nullable: true, description: 'What the code means.' })
  description?: string | null;

  @Field(() => String, { nullable: true, description: 'The follow-up action code (C correct and resubmit, N resubmission not allowed, R resubmission allowed, ...).' })
  followupActionCode?: string | null;

  @Field(() => String, { nullable: true, description: 'What to do next, in words.' })
  followupAction?: string | null;

  @Field(() => String, { nullable: true, description: 'Which part of the inquiry was rejected (subscriber, provider, ...), when the payer says.' })
  location?: string | null;

  @Field(() => Boolean, { description: 'True when the payer could not answer now (42, 80): try again later.' })
  transient!: boolean;
}

@ObjectType({ simpleResolvers: true, description: 'A warning the clearinghouse attached to an eligibility answer.' })
export class EligibilityWarning {
  @Field(() => String, { nullable: true, description: 'Warning code.' })
  code?: string | null;

  @Field(() => String, { nullable: true, description: 'Warning text.' })
  description?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'One plan status line of the answer.' })
export class EligibilityPlanStatus {
  @Field(() => String, { nullable: true, description: 'The status code (1 active, 6 inactive, ...).' })
  statusCode?: string | null;

  @Field(() => String, { nullable: true, description: 'The status in words.' })
  status?: string | null;

  @Field(() => String, { nullable: true, description: 'Plan details the payer gave with it.' })
  planDetails?: string | null;

  @Field(() => [String], { description: 'Service type codes this status applies to.' })
  serviceTypeCodes!: string[];
}

@ObjectType({ simpleResolvers: true, description: 'One benefit line of the answer as the payer sent it (an X12 EB segment), for what the summary does not cover.' })
export class EligibilityBenefit {
  @Field(() => String, { nullable: true, description: 'The benefit code (1 active, A coinsurance, B copay, C deductible, G out-of-pocket, I non-covered, ...), as sent.' })
  code?: string | null;

  @Field(() => String, { nullable: true, description: 'The benefit code in words.' })
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'Coverage level code (IND, FAM, ...).' })
  coverageLevelCode?: string | null;

  @Field(() => [String], { description: 'Service type codes the line applies to (none: the whole plan).' })
  serviceTypeCodes!: string[];

  @Field(() => String, { nullable: true, description: 'Time period qualifier code (23 calendar year, 29 remaining, 27 visit, ...).' })
  timeQualifierCode?: string | null;

  @Field(() => Float, { nullable: true, description: 'Amount in US dollars.' })
  amount?: number | null;

  @Field(() => Float, { nullable: true, description: 'Percent as the payer sent it, as a fraction (0.2 = 20%).' })
  percent?: number | null;

  @Field(() => String, { nullable: true, description: 'Y in network, N out of network, W both, U unknown.' })
  inPlanNetworkIndicatorCode?: string | null;

  @Field(() => String, { nullable: true, description: 'Plan or coverage name given on the line.' })
  planCoverage?: string | null;

  @Field(() => [String], { description: 'Free-text messages attached to the line.' })
  messages!: string[];
}

@ObjectType({ simpleResolvers: true, description: 'A payer’s real-time eligibility answer (X12 271) for one member, service types and date of service.' })
export class EligibilityResult {
  @Field(() => SourceRef, { description: 'The payer eligibility source that answered.' })
  payer!: SourceRef;

  @Field(() => EligibilityStatus, { description: 'ACTIVE, INACTIVE, REJECTED (see `rejection`) or UNKNOWN.' })
  status!: EligibilityStatus;

  @Field(() => Boolean, { nullable: true, description: 'Whether the coverage is active; null when rejected or not said.' })
  active?: boolean | null;

  @Field(() => EligibilityRejection, { nullable: true, description: 'The payer’s first rejection of the inquiry; null when it answered.' })
  rejection?: EligibilityRejection | null;

  @Field(() => [EligibilityRejection], { description: 'Every rejection the payer sent.' })
  rejections!: EligibilityRejection[];

  @Field(() => String, { nullable: true, description: 'The payer’s name as it answered.' })
  payerName?: string | null;

  @Field(() => String, { nullable: true, description: 'The member id the payer answered for.' })
  memberId?: string | null;

  @Field(() => String, { nullable: true, description: 'Plan name.' })
  planName?: string | null;

  @Field(() => String, { nullable: true, description: 'Plan number.' })
  planNumber?: string | null;

  @Field(() => String, { nullable: true, description: 'Group number.' })
  groupNumber?: string | null;

  @Field(() => String, { nullable: true, description: 'Group name.' })
  groupName?: string | null;

  @Field(() => String, { nullable: true, description: 'X12 insurance type code (PR PPO, HM HMO, MC Medicaid, ...).' })
  insuranceTypeCode?: string | null;

  @Field(() => String, { nullable: true, description: 'Coverage level of the active coverage (IND individual, FAM family, ...).' })
  coverageLevelCode?: string | null;

  @Field(() => DateScalar, { nullable: true, description: 'When the plan (or the member’s eligibility) began.' })
  coverageStart?: string | null;

  @Field(() => DateScalar, { nullable: true, description: 'When the plan (or the member’s eligibility) ends or ended.' })
  coverageEnd?: string | null;

  @Field(() => DateScalar, { description: 'The date of service asked about.' })
  dateOfService!: string;

  @Field(() => [ServiceTypeBenefits], { description: 'Per service type: covered or not, deductible, out-of-pocket maximum, copay, coinsurance, in and out of network. Asked-for types first.' })
  serviceTypes!: ServiceTypeBenefits[];

  @Field(() => [EligibilityPlanStatus], { description: 'The plan status lines as sent.' })
  planStatus!: EligibilityPlanStatus[];

  @Field(() => [EligibilityBenefit], { description: 'Every benefit line as sent.' })
  benefits!: EligibilityBenefit[];

  @Field(() => [EligibilityWarning], { description: 'Warnings attached to the answer.' })
  warnings!: EligibilityWarning[];

  @Field(() => DateTimeScalar, { description: 'When the payer gave this answer.' })
  fetchedAt!: string;

  @Field(() => Boolean, { description: 'True when served from the cache after its expiry because the payer could not be reached.' })
  stale!: boolean;

  @Field(() => ID, { nullable: true, description: 'The coverage (Patient.coverage id) the check was made for; null for ad-hoc checks.' })
  coverageId?: string | null;
}

@InputType({ description: 'An ad-hoc eligibility check by member details.' })
export class EligibilityInput {
  @Field(() => String, { description: 'The id of a configured payer eligibility source.' })
  payerId!: string;

  @Field(() => String, { description: 'The member id on the insurance card.' })
  memberId!: string;

  @Field(() => String, { nullable: true, description: 'Member’s first name.' })
  firstName?: string | null;

  @Field(() => String, { nullable: true, description: 'Member’s last name.' })
  lastName?: string | null;

  @Field(() => DateScalar, { nullable: true, description: 'Member’s birth date (YYYY-MM-DD).' })
  birthDate?: string | null;

  @Field(() => Gender, { nullable: true, description: 'Member’s administrative gender (sent as M or F when male or female).' })
  gender?: Gender | null;

  @Field(() => Boolean, { nullable: true, description: 'True when the member is a dependent on the subscriber’s plan (names and birth date are the dependent’s).' })
  dependent?: boolean | null;

  @Field(() => [String], { nullable: true, description: 'X12 service type codes to ask about; default ["30"].' })
  serviceTypeCodes?: string[] | null;

  @Field(() => DateScalar, { nullable: true, description: 'Date of service (YYYY-MM-DD); default today in the payer’s time zone.' })
  dateOfService?: string | null;
}
