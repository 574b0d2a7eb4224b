import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A FHIR date: YYYY, YYYY-MM or YYYY-MM-DD. Partial dates are kept as the source sent them. */
  Date: { input: string; output: string; }
  /** A FHIR dateTime: a date of any precision, or a date and time with seconds and, when the source gave one, a time-zone offset. */
  DateTime: { input: string; output: string; }
};

/** A postal address, as in FHIR Address. */
export type Address = {
  __typename?: 'Address';
  /** City. */
  city?: Maybe<Scalars['String']['output']>;
  /** Country. */
  country?: Maybe<Scalars['String']['output']>;
  /** Street lines. */
  line: Array<Scalars['String']['output']>;
  /** Postal code. */
  postalCode?: Maybe<Scalars['String']['output']>;
  /** State or province. */
  state?: Maybe<Scalars['String']['output']>;
};

/** An allergy or intolerance (FHIR AllergyIntolerance). */
export type AllergyIntolerance = {
  __typename?: 'AllergyIntolerance';
  /** food, medication, environment, biologic. */
  category: Array<Scalars['String']['output']>;
  /** active, inactive or resolved. */
  clinicalStatus?: Maybe<Scalars['String']['output']>;
  /** The substance. */
  code?: Maybe<CodeableConcept>;
  /** low, high or unable-to-assess. */
  criticality?: Maybe<Scalars['String']['output']>;
  /** chartgraph id of the item: `<source>/<ResourceType>/<source resource id>` of its first provenance. */
  id: Scalars['ID']['output'];
  /** Every source that reported this item (more than one when two sources sent the same item). */
  provenance: Array<Provenance>;
  /** Reactions seen (manifestations). */
  reactions: Array<CodeableConcept>;
  /** When it was recorded. */
  recordedDate?: Maybe<Scalars['DateTime']['output']>;
  /** allergy or intolerance. */
  type?: Maybe<Scalars['String']['output']>;
  /** unconfirmed, confirmed, refuted or entered-in-error. */
  verificationStatus?: Maybe<Scalars['String']['output']>;
};

/** A page of allergy or intolerances. */
export type AllergyIntoleranceConnection = {
  __typename?: 'AllergyIntoleranceConnection';
  /** The allergy or intolerances of this page, with cursors. */
  edges: Array<AllergyIntoleranceEdge>;
  /** The allergy or intolerances of this page. */
  nodes: Array<AllergyIntolerance>;
  /** Where this page stands. */
  pageInfo: PageInfo;
  /** How many allergy or intolerances match, across every source and after de-duplication; not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** One allergy or intolerance with its cursor. */
export type AllergyIntoleranceEdge = {
  __typename?: 'AllergyIntoleranceEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The allergy or intolerance. */
  node: AllergyIntolerance;
};

/** One recorded access to patient data (or attempt), for compliance review. Admins only. */
export type AuditEvent = {
  __typename?: 'AuditEvent';
  /** `read` for queries; admin actions such as `link` or `unlink` use their own names. */
  action: Scalars['String']['output'];
  /** When the request was answered. */
  at: Scalars['DateTime']['output'];
  /** Field groups the permission rules refused (empty unless the outcome is `denied`). */
  deniedGroups: Array<Scalars['String']['output']>;
  /** Field groups asked for: demographics, identifiers, sourceRecords, conditions, observations, coverage, ... */
  fieldGroups: Array<Scalars['String']['output']>;
  /** Event id. */
  id: Scalars['ID']['output'];
  /** The GraphQL operation name, when the client gave one. */
  operationName?: Maybe<Scalars['String']['output']>;
  /** `success`, `partial` (some sources failed), `denied` (a permission rule refused part of the request) or `error`. */
  outcome: Scalars['String']['output'];
  /** Unified ids of the patients whose data was read or refused. */
  patientIds: Array<Scalars['ID']['output']>;
  /** Purpose of use from the `X-Purpose-Of-Use` header (TREAT, HPAYMT, HOPERAT, ...), null when none was sent. */
  purposeOfUse?: Maybe<Scalars['String']['output']>;
  /** The request id (the `x-request-id` response header), to find the request in the logs. */
  requestId: Scalars['String']['output'];
  /** The role the token carried. */
  role: Scalars['String']['output'];
  /** Who asked: the token’s subject. */
  subject: Scalars['String']['output'];
};

/** A page of audit events. */
export type AuditEventConnection = {
  __typename?: 'AuditEventConnection';
  /** The audit events of this page, with cursors. */
  edges: Array<AuditEventEdge>;
  /** The audit events of this page. */
  nodes: Array<AuditEvent>;
  /** Where this page stands. */
  pageInfo: PageInfo;
  /** How many audit events match, across every source and after de-duplication; not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** One audit event with its cursor. */
export type AuditEventEdge = {
  __typename?: 'AuditEventEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The audit event. */
  node: AuditEvent;
};

/** State of a source’s circuit breaker. */
export type BreakerState =
  /** Calls go through. */
  | 'CLOSED'
  /** A trial call decides whether the breaker closes again. */
  | 'HALF_OPEN'
  /** Recent calls failed: calls fail at once, without reaching the source, until a trial call is due. */
  | 'OPEN';

/** What a cache invalidation removed. */
export type CacheInvalidation = {
  __typename?: 'CacheInvalidation';
  /** Per-patient cached searches dropped; the next read of them goes to the source. */
  searches: Scalars['Int']['output'];
};

/** How chartgraph learned one capability of a source. */
export type CapabilityOrigin =
  /** Set in the source’s `capabilities` config, which overrides everything else. */
  | 'CONFIG'
  /** Nothing said and nothing probed yet: the safe default (no OR lists, no batch, the configured page size). */
  | 'DEFAULT'
  /** Read from the source’s CapabilityStatement (`/metadata`). */
  | 'METADATA'
  /** Found out by probing the source (a count-only search or batch, or the reply to a large `_count`), because /metadata did not say. */
  | 'PROBE';

/** A concept given by one or more codes and/or text, as in FHIR CodeableConcept. */
export type CodeableConcept = {
  __typename?: 'CodeableConcept';
  /** The codes that name this concept, in the order the source gave them. */
  coding: Array<Coding>;
  /** Plain-text representation of the concept. */
  text?: Maybe<Scalars['String']['output']>;
};

/** A code from a code system, as in FHIR Coding. */
export type Coding = {
  __typename?: 'Coding';
  /** The code within the system. */
  code?: Maybe<Scalars['String']['output']>;
  /** The code system’s display text for the code. */
  display?: Maybe<Scalars['String']['output']>;
  /** The code system URI, for example http://snomed.info/sct. */
  system?: Maybe<Scalars['String']['output']>;
};

/** One cell of a cohort breakdown. */
export type CohortCell = {
  __typename?: 'CohortCell';
  /** Distinct patients in the cell; null when suppressed. */
  count?: Maybe<Scalars['Int']['output']>;
  /** The cell’s value of each dimension, in the order asked. */
  keys: Array<Scalars['String']['output']>;
  /** True when the count is withheld: for analysts, a count under `analytics.suppressionThreshold`, or a complementary cell withheld so that a suppressed one cannot be worked out from the totals. */
  suppressed: Scalars['Boolean']['output'];
};

/** The patients who meet cohort criteria, a page at a time, with breakdowns and freshness. */
export type CohortConnection = {
  __typename?: 'CohortConnection';
  /** Distinct patients per combination of the dimensions (cells without patients are left out). For analysts, cells under `analytics.suppressionThreshold` come back `count: null, suppressed: true`, with complementary cells suppressed so no hidden count follows from the totals. */
  breakdown: Array<CohortCell>;
  /** The patients of this page, with cursors. */
  edges: Array<CohortEdge>;
  /** How current the population store behind this answer is. */
  freshness: CohortFreshness;
  /** The patients of this page (none for analysts when the cohort is under the suppression threshold). */
  nodes: Array<Patient>;
  /** Where this page stands. */
  pageInfo: PageInfo;
  /** Patients in the cohort across every source, each unified patient once. Null for analysts when under the suppression threshold. */
  totalCount?: Maybe<Scalars['Int']['output']>;
};


/** The patients who meet cohort criteria, a page at a time, with breakdowns and freshness. */
export type CohortConnectionBreakdownArgs = {
  by: Array<CohortDimension>;
};

/** Who is in a cohort. Every field is optional; fields combine with AND, the values of one list with OR. */
export type CohortCriteria = {
  /** Oldest age in whole years as of today (inclusive). Analysts: at most 89 (older ages are one group). */
  ageMax?: InputMaybe<Scalars['Int']['input']>;
  /** Youngest age in whole years as of today (inclusive). */
  ageMin?: InputMaybe<Scalars['Int']['input']>;
  /** Condition codes as tokens (`system|code` or `code`): a patient with any of them, of any clinical status (entered-in-error and refuted ones never count). */
  conditions?: InputMaybe<Array<Scalars['String']['input']>>;
  /** A patient with an encounter starting on or after this date (analysts: from the first day of its year). */
  encounterSince?: InputMaybe<Scalars['Date']['input']>;
  /** Administrative gender. */
  gender?: InputMaybe<Gender>;
  /** Medication codes as tokens (MedicationRequest.medicationCodeableConcept, or the code of the Medication its medicationReference names, contained or on the same source): a patient with a request for any of them. */
  medications?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Observation tests: a patient passing any of them. */
  observations?: InputMaybe<Array<ObservationCriterion>>;
  /** Payers of an active Coverage, by `payor` display or identifier value. */
  payers?: InputMaybe<Array<Scalars['String']['input']>>;
  /** A patient with a record at any of these sources (facts of every source still count). */
  sources?: InputMaybe<Array<Scalars['ID']['input']>>;
};

/** What a cohort breakdown groups by. */
export type CohortDimension =
  /** Age as of today in decades (`0-9`, `10-19`, ... `80-89`), `90+` together, `unknown` without a birth date. */
  | 'AGE_GROUP'
  /** Administrative gender (`unknown` when no record says). */
  | 'GENDER'
  /** Payer of each active Coverage (a patient with two payers counts in both; `none` without one). */
  | 'PAYER'
  /** Each source holding a record of the patient (a patient of two sources counts in both). */
  | 'SOURCE'
  /** Year of the patient’s latest encounter at any source (`none` without one). */
  | 'YEAR_OF_LAST_ENCOUNTER';

/** One patient of a cohort with its cursor. */
export type CohortEdge = {
  __typename?: 'CohortEdge';
  /** Opaque cursor of this patient. */
  cursor: Scalars['String']['output'];
  /** The patient. */
  node: Patient;
};

/** How current a cohort answer is: cohorts come from the local store that `chartgraph sync --resources` fills. */
export type CohortFreshness = {
  __typename?: 'CohortFreshness';
  /** When this answer was computed. */
  asOf: Scalars['DateTime']['output'];
  /** The oldest time the synced sources’ facts are current to: the start of the oldest last complete sync, or earlier where a type lags (see `typesNotCurrent`). Null before any sync. */
  oldestFetchedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Configured sources never synced with resources: their patients and facts may be missing. */
  sourcesNotSynced: Array<Scalars['ID']['output']>;
  /** Sources being synced right now (the answer may change as they finish). */
  sourcesSyncing: Array<Scalars['ID']['output']>;
  /** Resource types of synced sources whose facts are behind the source’s last sync: the source would not list their changes without a patient, so only per-patient lists older than the type’s cache TTL were fetched again (`oldestFetchedAt` counts them). */
  typesNotCurrent: Array<CohortTypeNotCurrent>;
};

/** A resource type of one source whose cohort facts lag behind that source’s last sync. */
export type CohortTypeNotCurrent = {
  __typename?: 'CohortTypeNotCurrent';
  /** The FHIR resource type (`Condition`, `Observation`, ...). */
  resourceType: Scalars['String']['output'];
  /** The source. */
  source: Scalars['ID']['output'];
};

/** A problem, diagnosis or health concern (FHIR Condition). */
export type Condition = {
  __typename?: 'Condition';
  /** When it resolved or went into remission. */
  abatement?: Maybe<Scalars['DateTime']['output']>;
  /** problem-list-item, encounter-diagnosis, ... */
  category: Array<CodeableConcept>;
  /** active, recurrence, relapse, inactive, remission or resolved. */
  clinicalStatus?: Maybe<Scalars['String']['output']>;
  /** What the condition is. */
  code?: Maybe<CodeableConcept>;
  /** chartgraph id of the item: `<source>/<ResourceType>/<source resource id>` of its first provenance. */
  id: Scalars['ID']['output'];
  /** When it began. */
  onset?: Maybe<Scalars['DateTime']['output']>;
  /** Every source that reported this item (more than one when two sources sent the same item). */
  provenance: Array<Provenance>;
  /** When it was first recorded. */
  recordedDate?: Maybe<Scalars['DateTime']['output']>;
  /** unconfirmed, provisional, differential, confirmed, refuted or entered-in-error. */
  verificationStatus?: Maybe<Scalars['String']['output']>;
};

/** A page of conditions. */
export type ConditionConnection = {
  __typename?: 'ConditionConnection';
  /** The conditions of this page, with cursors. */
  edges: Array<ConditionEdge>;
  /** The conditions of this page. */
  nodes: Array<Condition>;
  /** Where this page stands. */
  pageInfo: PageInfo;
  /** How many conditions match, across every source and after de-duplication; not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** One condition with its cursor. */
export type ConditionEdge = {
  __typename?: 'ConditionEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The condition. */
  node: Condition;
};

/** A phone number or e-mail address, as in FHIR ContactPoint. */
export type ContactPoint = {
  __typename?: 'ContactPoint';
  /** phone, email, ... */
  system?: Maybe<Scalars['String']['output']>;
  /** home, work, mobile, ... */
  use?: Maybe<Scalars['String']['output']>;
  /** The number or address. */
  value?: Maybe<Scalars['String']['output']>;
};

/** A deductible or out-of-pocket maximum: the amount for the period and what is left of it. */
export type CostLimit = {
  __typename?: 'CostLimit';
  /** What is left to meet, in US dollars. */
  remaining?: Maybe<Scalars['Float']['output']>;
  /** The period the total runs over (Calendar Year, Service Year, ...). */
  timePeriod?: Maybe<Scalars['String']['output']>;
  /** The amount for the period, in US dollars. */
  total?: Maybe<Scalars['Float']['output']>;
};

/** An insurance policy or health program a patient is covered by, as the EHRs record it (FHIR Coverage). */
export type Coverage = {
  __typename?: 'Coverage';
  /** Group and plan of the coverage. */
  classes: Array<CoverageClass>;
  /** The configured payer eligibility source this coverage is checked with (matched on the payor’s id or name); null when none matches. */
  eligibilitySource?: Maybe<SourceRef>;
  /** chartgraph id of the coverage: `<source>/Coverage/<source resource id>` of its first provenance. */
  id: Scalars['ID']['output'];
  /** The member id the payer knows the patient by (the subscriber id, or the member number on a dependent’s card). */
  memberId?: Maybe<Scalars['String']['output']>;
  /** The insurer’s network the coverage belongs to, if the EHR says. */
  network?: Maybe<Scalars['String']['output']>;
  /** Order of this coverage among the patient’s (1 = primary). */
  order?: Maybe<Scalars['Int']['output']>;
  /** Who pays (the insurer), as the EHR names them. */
  payors: Array<CoveragePayor>;
  /** When the coverage is in force. */
  period?: Maybe<Period>;
  /** Every EHR that recorded this coverage (more than one when two sources hold the same policy). */
  provenance: Array<Provenance>;
  /** How the patient relates to the subscriber: self, spouse, child, other, ... */
  relationship?: Maybe<Scalars['String']['output']>;
  /** active, cancelled, draft or entered-in-error. */
  status?: Maybe<Scalars['String']['output']>;
  /** The subscriber’s id with the payer (FHIR Coverage.subscriberId). */
  subscriberId?: Maybe<Scalars['String']['output']>;
  /** The kind of coverage: health insurance plan, subsidised program (Medicaid), ... */
  type?: Maybe<CodeableConcept>;
};

/** A grouping of the coverage, such as the employer group or the plan (FHIR Coverage.class). */
export type CoverageClass = {
  __typename?: 'CoverageClass';
  /** A human name for the value. */
  name?: Maybe<Scalars['String']['output']>;
  /** group, subgroup, plan, subplan, class, ... */
  type?: Maybe<Scalars['String']['output']>;
  /** The value (group number, plan id, ...). */
  value?: Maybe<Scalars['String']['output']>;
};

/** One party that pays under a coverage (FHIR Coverage.payor), usually the insurer. */
export type CoveragePayor = {
  __typename?: 'CoveragePayor';
  /** The payer’s name as the EHR shows it. */
  display?: Maybe<Scalars['String']['output']>;
  /** The payer’s identifier (payer id, NAIC code), when the EHR has one. */
  identifier?: Maybe<Scalars['String']['output']>;
  /** The FHIR reference to the payer’s Organization in the source, if any. */
  reference?: Maybe<Scalars['String']['output']>;
};

/** A report of diagnostic results: lab panels, imaging, ... (FHIR DiagnosticReport). */
export type DiagnosticReport = {
  __typename?: 'DiagnosticReport';
  /** Service category (LAB, RAD, ...). */
  category: Array<CodeableConcept>;
  /** What the report is about. */
  code?: Maybe<CodeableConcept>;
  /** The report’s conclusion text, when the source gave one. */
  conclusion?: Maybe<Scalars['String']['output']>;
  /** When the report applies to the patient. */
  effective?: Maybe<Scalars['DateTime']['output']>;
  /** chartgraph id of the item: `<source>/<ResourceType>/<source resource id>` of its first provenance. */
  id: Scalars['ID']['output'];
  /** When it was released. */
  issued?: Maybe<Scalars['DateTime']['output']>;
  /** Every source that reported this item (more than one when two sources sent the same item). */
  provenance: Array<Provenance>;
  /** How many result observations the report refers to. */
  resultCount: Scalars['Int']['output'];
  /** registered, partial, preliminary, final, ... */
  status?: Maybe<Scalars['String']['output']>;
};

/** A page of diagnostic reports. */
export type DiagnosticReportConnection = {
  __typename?: 'DiagnosticReportConnection';
  /** The diagnostic reports of this page, with cursors. */
  edges: Array<DiagnosticReportEdge>;
  /** The diagnostic reports of this page. */
  nodes: Array<DiagnosticReport>;
  /** Where this page stands. */
  pageInfo: PageInfo;
  /** How many diagnostic reports match, across every source and after de-duplication; not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** One diagnostic report with its cursor. */
export type DiagnosticReportEdge = {
  __typename?: 'DiagnosticReportEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The diagnostic report. */
  node: DiagnosticReport;
};

/** One benefit line of the answer as the payer sent it (an X12 EB segment), for what the summary does not cover. */
export type EligibilityBenefit = {
  __typename?: 'EligibilityBenefit';
  /** Amount in US dollars. */
  amount?: Maybe<Scalars['Float']['output']>;
  /** The benefit code (1 active, A coinsurance, B copay, C deductible, G out-of-pocket, I non-covered, ...), as sent. */
  code?: Maybe<Scalars['String']['output']>;
  /** Coverage level code (IND, FAM, ...). */
  coverageLevelCode?: Maybe<Scalars['String']['output']>;
  /** Y in network, N out of network, W both, U unknown. */
  inPlanNetworkIndicatorCode?: Maybe<Scalars['String']['output']>;
  /** Free-text messages attached to the line. */
  messages: Array<Scalars['String']['output']>;
  /** The benefit code in words. */
  name?: Maybe<Scalars['String']['output']>;
  /** Percent as the payer sent it, as a fraction (0.2 = 20%). */
  percent?: Maybe<Scalars['Float']['output']>;
  /** Plan or coverage name given on the line. */
  planCoverage?: Maybe<Scalars['String']['output']>;
  /** Service type codes the line applies to (none: the whole plan). */
  serviceTypeCodes: Array<Scalars['String']['output']>;
  /** Time period qualifier code (23 calendar year, 29 remaining, 27 visit, ...). */
  timeQualifierCode?: Maybe<Scalars['String']['output']>;
};

/** An ad-hoc eligibility check by member details. */
export type EligibilityInput = {
  /** Member’s birth date (YYYY-MM-DD). */
  birthDate?: InputMaybe<Scalars['Date']['input']>;
  /** Date of service (YYYY-MM-DD); default today in the payer’s time zone. */
  dateOfService?: InputMaybe<Scalars['Date']['input']>;
  /** True when the member is a dependent on the subscriber’s plan (names and birth date are the dependent’s). */
  dependent?: InputMaybe<Scalars['Boolean']['input']>;
  /** Member’s first name. */
  firstName?: InputMaybe<Scalars['String']['input']>;
  /** Member’s administrative gender (sent as M or F when male or female). */
  gender?: InputMaybe<Gender>;
  /** Member’s last name. */
  lastName?: InputMaybe<Scalars['String']['input']>;
  /** The member id on the insurance card. */
  memberId: Scalars['String']['input'];
  /** The id of a configured payer eligibility source. */
  payerId: Scalars['String']['input'];
  /** X12 service type codes to ask about; default ["30"]. */
  serviceTypeCodes?: InputMaybe<Array<Scalars['String']['input']>>;
};

/** One plan status line of the answer. */
export type EligibilityPlanStatus = {
  __typename?: 'EligibilityPlanStatus';
  /** Plan details the payer gave with it. */
  planDetails?: Maybe<Scalars['String']['output']>;
  /** Service type codes this status applies to. */
  serviceTypeCodes: Array<Scalars['String']['output']>;
  /** The status in words. */
  status?: Maybe<Scalars['String']['output']>;
  /** The status code (1 active, 6 inactive, ...). */
  statusCode?: Maybe<Scalars['String']['output']>;
};

/** A payer’s rejection of an eligibility inquiry (an X12 AAA segment). */
export type EligibilityRejection = {
  __typename?: 'EligibilityRejection';
  /** The reject reason code (72 invalid member id, 75 subscriber not found, 71 birth date mismatch, ...), as sent. */
  code: Scalars['String']['output'];
  /** What the code means. */
  description?: Maybe<Scalars['String']['output']>;
  /** What to do next, in words. */
  followupAction?: Maybe<Scalars['String']['output']>;
  /** The follow-up action code (C correct and resubmit, N resubmission not allowed, R resubmission allowed, ...). */
  followupActionCode?: Maybe<Scalars['String']['output']>;
  /** Which part of the inquiry was rejected (subscriber, provider, ...), when the payer says. */
  location?: Maybe<Scalars['String']['output']>;
  /** True when the payer could not answer now (42, 80): try again later. */
  transient: Scalars['Boolean']['output'];
};

/** A payer’s real-time eligibility answer (X12 271) for one member, service types and date of service. */
export type EligibilityResult = {
  __typename?: 'EligibilityResult';
  /** Whether the coverage is active; null when rejected or not said. */
  active?: Maybe<Scalars['Boolean']['output']>;
  /** Every benefit line as sent. */
  benefits: Array<EligibilityBenefit>;
  /** When the plan (or the member’s eligibility) ends or ended. */
  coverageEnd?: Maybe<Scalars['Date']['output']>;
  /** The coverage (Patient.coverage id) the check was made for; null for ad-hoc checks. */
  coverageId?: Maybe<Scalars['ID']['output']>;
  /** Coverage level of the active coverage (IND individual, FAM family, ...). */
  coverageLevelCode?: Maybe<Scalars['String']['output']>;
  /** When the plan (or the member’s eligibility) began. */
  coverageStart?: Maybe<Scalars['Date']['output']>;
  /** The date of service asked about. */
  dateOfService: Scalars['Date']['output'];
  /** When the payer gave this answer. */
  fetchedAt: Scalars['DateTime']['output'];
  /** Group name. */
  groupName?: Maybe<Scalars['String']['output']>;
  /** Group number. */
  groupNumber?: Maybe<Scalars['String']['output']>;
  /** X12 insurance type code (PR PPO, HM HMO, MC Medicaid, ...). */
  insuranceTypeCode?: Maybe<Scalars['String']['output']>;
  /** The member id the payer answered for. */
  memberId?: Maybe<Scalars['String']['output']>;
  /** The payer eligibility source that answered. */
  payer: SourceRef;
  /** The payer’s name as it answered. */
  payerName?: Maybe<Scalars['String']['output']>;
  /** Plan name. */
  planName?: Maybe<Scalars['String']['output']>;
  /** Plan number. */
  planNumber?: Maybe<Scalars['String']['output']>;
  /** The plan status lines as sent. */
  planStatus: Array<EligibilityPlanStatus>;
  /** The payer’s first rejection of the inquiry; null when it answered. */
  rejection?: Maybe<EligibilityRejection>;
  /** Every rejection the payer sent. */
  rejections: Array<EligibilityRejection>;
  /** Per service type: covered or not, deductible, out-of-pocket maximum, copay, coinsurance, in and out of network. Asked-for types first. */
  serviceTypes: Array<ServiceTypeBenefits>;
  /** True when served from the cache after its expiry because the payer could not be reached. */
  stale: Scalars['Boolean']['output'];
  /** ACTIVE, INACTIVE, REJECTED (see `rejection`) or UNKNOWN. */
  status: EligibilityStatus;
  /** Warnings attached to the answer. */
  warnings: Array<EligibilityWarning>;
};

/** The outcome of an eligibility check. */
export type EligibilityStatus =
  /** The payer says the coverage is active. */
  | 'ACTIVE'
  /** The payer says the coverage is not active. */
  | 'INACTIVE'
  /** The payer rejected the inquiry (see `rejection`). */
  | 'REJECTED'
  /** The payer answered without saying whether the coverage is active. */
  | 'UNKNOWN';

/** A warning the clearinghouse attached to an eligibility answer. */
export type EligibilityWarning = {
  __typename?: 'EligibilityWarning';
  /** Warning code. */
  code?: Maybe<Scalars['String']['output']>;
  /** Warning text. */
  description?: Maybe<Scalars['String']['output']>;
};

/** A visit or admission (FHIR Encounter). */
export type Encounter = {
  __typename?: 'Encounter';
  /** Class code: AMB (ambulatory), IMP (inpatient), EMER, ... */
  class?: Maybe<Scalars['String']['output']>;
  /** chartgraph id of the item: `<source>/<ResourceType>/<source resource id>` of its first provenance. */
  id: Scalars['ID']['output'];
  /** When it took place. */
  period?: Maybe<Period>;
  /** Every source that reported this item (more than one when two sources sent the same item). */
  provenance: Array<Provenance>;
  /** Why it took place. */
  reasonCode: Array<CodeableConcept>;
  /** The organisation or location name as the source gave it. */
  serviceProvider?: Maybe<Scalars['String']['output']>;
  /** planned, in-progress, finished, cancelled, ... */
  status?: Maybe<Scalars['String']['output']>;
  /** Specific type of encounter. */
  type: Array<CodeableConcept>;
};

/** A page of encounters. */
export type EncounterConnection = {
  __typename?: 'EncounterConnection';
  /** The encounters of this page, with cursors. */
  edges: Array<EncounterEdge>;
  /** The encounters of this page. */
  nodes: Array<Encounter>;
  /** Where this page stands. */
  pageInfo: PageInfo;
  /** How many encounters match, across every source and after de-duplication; not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** One encounter with its cursor. */
export type EncounterEdge = {
  __typename?: 'EncounterEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The encounter. */
  node: Encounter;
};

/** Administrative gender, as FHIR defines it. */
export type Gender =
  | 'female'
  | 'male'
  | 'other'
  | 'unknown';

/** A person’s name, as in FHIR HumanName. */
export type HumanName = {
  __typename?: 'HumanName';
  /** Family name (surname). */
  family?: Maybe<Scalars['String']['output']>;
  /** Given names, first name first. */
  given: Array<Scalars['String']['output']>;
  /** Name prefixes such as Mr. or Dr. */
  prefix: Array<Scalars['String']['output']>;
  /** The full name as one string. */
  text?: Maybe<Scalars['String']['output']>;
  /** official, usual, nickname, maiden, ... */
  use?: Maybe<Scalars['String']['output']>;
};

/** A business identifier of a patient (MRN, SSN, ...), as in FHIR Identifier. */
export type Identifier = {
  __typename?: 'Identifier';
  /** The namespace of the value, for example http://hl7.org/fhir/sid/us-ssn. */
  system?: Maybe<Scalars['String']['output']>;
  /** What kind of identifier it is (MR, SS, DL, ...). */
  type?: Maybe<CodeableConcept>;
  /** The identifier value. */
  value?: Maybe<Scalars['String']['output']>;
};

/** A vaccination given or reported (FHIR Immunization). */
export type Immunization = {
  __typename?: 'Immunization';
  /** chartgraph id of the item: `<source>/<ResourceType>/<source resource id>` of its first provenance. */
  id: Scalars['ID']['output'];
  /** When it was given. */
  occurrence?: Maybe<Scalars['DateTime']['output']>;
  /** True when recorded from the original record. */
  primarySource?: Maybe<Scalars['Boolean']['output']>;
  /** Every source that reported this item (more than one when two sources sent the same item). */
  provenance: Array<Provenance>;
  /** completed, entered-in-error or not-done. */
  status?: Maybe<Scalars['String']['output']>;
  /** The vaccine (usually CVX). */
  vaccineCode?: Maybe<CodeableConcept>;
};

/** A page of immunizations. */
export type ImmunizationConnection = {
  __typename?: 'ImmunizationConnection';
  /** The immunizations of this page, with cursors. */
  edges: Array<ImmunizationEdge>;
  /** The immunizations of this page. */
  nodes: Array<Immunization>;
  /** Where this page stands. */
  pageInfo: PageInfo;
  /** How many immunizations match, across every source and after de-duplication; not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** One immunization with its cursor. */
export type ImmunizationEdge = {
  __typename?: 'ImmunizationEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The immunization. */
  node: Immunization;
};

/** How one demographic field compared in a match (outcomes and weights only, no values). */
export type MatchEvidence = {
  __typename?: 'MatchEvidence';
  /** family, given, birthDate, gender, address, phone or strongIdentifier. */
  field: Scalars['String']['output'];
  /** exact, nickname, typo, transposed, partial, zip, agree, disagree, missing, ... */
  outcome: Scalars['String']['output'];
  /** Bits this field added to the score: log2(m/u) of its outcome; 0 when missing. */
  weight: Scalars['Float']['output'];
};

/** An admin’s verdict on a possible match. */
export type MatchReviewDecision =
  /** Same person: link the candidate record into the patient. */
  | 'LINK'
  /** Two people: never link them automatically. */
  | 'REJECT';

/** An order for a medication (FHIR MedicationRequest). */
export type MedicationRequest = {
  __typename?: 'MedicationRequest';
  /** When it was ordered. */
  authoredOn?: Maybe<Scalars['DateTime']['output']>;
  /** Dosage instructions as text. */
  dosageInstructions: Array<Scalars['String']['output']>;
  /** chartgraph id of the item: `<source>/<ResourceType>/<source resource id>` of its first provenance. */
  id: Scalars['ID']['output'];
  /** proposal, plan, order, ... */
  intent?: Maybe<Scalars['String']['output']>;
  /** The medication (usually RxNorm). */
  medication?: Maybe<CodeableConcept>;
  /** Every source that reported this item (more than one when two sources sent the same item). */
  provenance: Array<Provenance>;
  /** Why it was ordered. */
  reasonCode: Array<CodeableConcept>;
  /** active, on-hold, cancelled, completed, stopped, ... */
  status?: Maybe<Scalars['String']['output']>;
};

/** A page of medication requests. */
export type MedicationRequestConnection = {
  __typename?: 'MedicationRequestConnection';
  /** The medication requests of this page, with cursors. */
  edges: Array<MedicationRequestEdge>;
  /** The medication requests of this page. */
  nodes: Array<MedicationRequest>;
  /** Where this page stands. */
  pageInfo: PageInfo;
  /** How many medication requests match, across every source and after de-duplication; not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** One medication request with its cursor. */
export type MedicationRequestEdge = {
  __typename?: 'MedicationRequestEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The medication request. */
  node: MedicationRequest;
};

export type Mutation = {
  __typename?: 'Mutation';
  /** Admin: drop cached FHIR searches of one unified patient (every linked source record), of one source, or of one patient in one source. */
  invalidateCache: CacheInvalidation;
  /** Links source records into a patient by hand (method `manual`), moving them out of any other patient. Admin only; audited as `link`. */
  linkPatients?: Maybe<Patient>;
  /** Merges two unified patients into one by hand: the older survives and holds every record, the other id resolves to it. Refused when both hold a record of the same source. Admin only; audited as `merge`; `undoPatientMerge` reverts it. */
  mergePatients?: Maybe<Patient>;
  /** Decides a possible match: LINK links the candidate into the patient (method `manual`), REJECT keeps them apart for good. Admin only; audited as `review-match`. */
  reviewPossibleMatch: PossibleMatch;
  /** Undoes a merge: the records it moved go back to the merged id, which stops resolving to the survivor; the matcher will not merge the two again. Admin only; audited as `unmerge`. */
  undoPatientMerge: PatientMerge;
  /** Takes a source record out of its patient into a new patient of its own (method `manual`); the matcher will not link the two again. Returns the new patient. Admin only; audited as `unlink`. */
  unlinkSourceRecord?: Maybe<Patient>;
};


export type MutationInvalidateCacheArgs = {
  patientId?: InputMaybe<Scalars['ID']['input']>;
  sourceId?: InputMaybe<Scalars['ID']['input']>;
};


export type MutationLinkPatientsArgs = {
  patientId: Scalars['ID']['input'];
  records: Array<SourceRecordInput>;
};


export type MutationMergePatientsArgs = {
  otherPatientId: Scalars['ID']['input'];
  patientId: Scalars['ID']['input'];
};


export type MutationReviewPossibleMatchArgs = {
  decision: MatchReviewDecision;
  id: Scalars['ID']['input'];
};


export type MutationUndoPatientMergeArgs = {
  mergeId: Scalars['ID']['input'];
};


export type MutationUnlinkSourceRecordArgs = {
  sourceId: Scalars['String']['input'];
  sourcePatientId: Scalars['String']['input'];
};

/** What the member pays for one service type under one network (in or out). */
export type NetworkBenefits = {
  __typename?: 'NetworkBenefits';
  /** Coinsurance the member pays, in percent (20 = 20%). */
  coinsurancePercent?: Maybe<Scalars['Float']['output']>;
  /** Copay per visit or service, in US dollars. */
  copay?: Maybe<Scalars['Float']['output']>;
  /** False when the payer says the service is not covered under this network; null when it does not say. */
  covered?: Maybe<Scalars['Boolean']['output']>;
  /** Individual deductible. */
  deductible?: Maybe<CostLimit>;
  /** Family deductible (family plans). */
  familyDeductible?: Maybe<CostLimit>;
  /** Family out-of-pocket maximum (family plans). */
  familyOutOfPocketMaximum?: Maybe<CostLimit>;
  /** Individual out-of-pocket maximum. */
  outOfPocketMaximum?: Maybe<CostLimit>;
  /** Whether the payer requires prior authorization. */
  priorAuthorizationRequired?: Maybe<Scalars['Boolean']['output']>;
};

/** A value converted to the one canonical UCUM unit of its LOINC code, so that values from sources that report in different units compare and sort. */
export type NormalizedQuantity = {
  __typename?: 'NormalizedQuantity';
  /** The canonical UCUM unit of the LOINC code (for example `mg/dL` for glucose 2339-0). */
  unit: Scalars['String']['output'];
  /** The value in `unit`, converted by the UCUM library (six significant digits when converted). */
  value: Scalars['Float']['output'];
};

/** A measurement or finding: labs, vital signs, survey answers, social history (FHIR Observation). */
export type Observation = {
  __typename?: 'Observation';
  /** laboratory, vital-signs, survey, social-history, ... */
  category: Array<CodeableConcept>;
  /** What was observed (usually a LOINC code). */
  code?: Maybe<CodeableConcept>;
  /** Parts of a multi-part observation (blood pressure, panels). */
  components: Array<ObservationComponent>;
  /** When the observation applies to the patient (effective date or start of its period). */
  effective?: Maybe<Scalars['DateTime']['output']>;
  /** chartgraph id of the item: `<source>/<ResourceType>/<source resource id>` of its first provenance. */
  id: Scalars['ID']['output'];
  /** High, low, abnormal, ... flags. */
  interpretation: Array<CodeableConcept>;
  /** When the result was released. */
  issued?: Maybe<Scalars['DateTime']['output']>;
  /** Every source that reported this item (more than one when two sources sent the same item). */
  provenance: Array<Provenance>;
  /** registered, preliminary, final, amended, ... */
  status?: Maybe<Scalars['String']['output']>;
  /** The result, when coded. */
  valueCodeableConcept?: Maybe<CodeableConcept>;
  /** The result, when numeric. */
  valueQuantity?: Maybe<Quantity>;
  /** The result, when text. */
  valueString?: Maybe<Scalars['String']['output']>;
};

/** One part of a multi-part observation, such as the systolic value of a blood pressure. */
export type ObservationComponent = {
  __typename?: 'ObservationComponent';
  /** What this part measures. */
  code?: Maybe<CodeableConcept>;
  /** The value, when coded. */
  valueCodeableConcept?: Maybe<CodeableConcept>;
  /** The measured value, when numeric. */
  valueQuantity?: Maybe<Quantity>;
  /** The value, when text. */
  valueString?: Maybe<Scalars['String']['output']>;
};

/** A page of observations. */
export type ObservationConnection = {
  __typename?: 'ObservationConnection';
  /** The observations of this page, with cursors. */
  edges: Array<ObservationEdge>;
  /** The observations of this page. */
  nodes: Array<Observation>;
  /** Where this page stands. */
  pageInfo: PageInfo;
  /** How many observations match, across every source and after de-duplication; not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** A test on a patient’s observations of one code; values compare in the code’s normalised (UCUM) unit. */
export type ObservationCriterion = {
  /** The observation code as a token, `system|code` or `code` (e.g. `http://loinc.org|4548-4`). */
  code: Scalars['String']['input'];
  /** LATEST (default): the latest value must qualify; ANY: one value must. */
  match?: InputMaybe<ObservationMatch>;
  /** Highest qualifying value (inclusive), in `unit`. */
  maxValue?: InputMaybe<Scalars['Float']['input']>;
  /** Lowest qualifying value (inclusive), in `unit`. */
  minValue?: InputMaybe<Scalars['Float']['input']>;
  /** Only observations on or after this date count (analysts: from the first day of its year). */
  since?: InputMaybe<Scalars['Date']['input']>;
  /** Unit of the bounds (UCUM, e.g. `%` or `mmol/mol`); converted like stored values. Values in other, unconvertible units do not qualify. */
  unit?: InputMaybe<Scalars['String']['input']>;
};

/** One observation with its cursor. */
export type ObservationEdge = {
  __typename?: 'ObservationEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The observation. */
  node: Observation;
};

/** Which of a patient’s values an observation criterion tests. */
export type ObservationMatch =
  /** Any value of the code (since `since`). */
  | 'ANY'
  /** The patient’s most recent value of the code (across every source, since `since`). */
  | 'LATEST';

/** Relay page information. */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** Cursor of the last item of this page; pass it as `after` for the next page. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** True when more items follow this page. */
  hasNextPage: Scalars['Boolean']['output'];
  /** True when items come before this page. */
  hasPreviousPage: Scalars['Boolean']['output'];
  /** Cursor of the first item of this page. */
  startCursor?: Maybe<Scalars['String']['output']>;
};

/** One person, stitched together from every source that knows them. Clinical lists come from every linked source record. */
export type Patient = {
  __typename?: 'Patient';
  /** Addresses from the most recently updated record that has any. */
  addresses: Array<Address>;
  /** Age band today: `0-4`, `5-9`, ..., `85-89`, or `90+`; null when the birth date is unknown. */
  ageGroup?: Maybe<Scalars['String']['output']>;
  /** Allergies and intolerances from every linked source. */
  allergies: AllergyIntoleranceConnection;
  /** Birth date, from the most recently updated record that has one. */
  birthDate?: Maybe<Scalars['Date']['output']>;
  /** Year of birth; null when unknown or when the patient is over 89 (Safe Harbor withholds it then). */
  birthYear?: Maybe<Scalars['Int']['output']>;
  /** Problems and diagnoses from every linked source, newest onset first. */
  conditions: ConditionConnection;
  /** Insurance on file in every linked EHR (FHIR Coverage), the same policy from two sources shown once with both provenances; primary first. A failing source costs only its coverages (partial error). */
  coverage: Array<Coverage>;
  /** Diagnostic reports from every linked source, newest first. */
  diagnosticReports: DiagnosticReportConnection;
  /** Real-time eligibility with the payer of the patient’s coverage (member id and payer from the EHR Coverage, names and birth date from the demographics). Null when no coverage on file names a configured payer, or when the payer could not answer in time and nothing is cached (partial error). Payer rejections are results with `status: REJECTED`, not errors. Cached until the end of the day; served stale when the payer fails. */
  eligibility?: Maybe<EligibilityResult>;
  /** Visits and admissions from every linked source, newest first. */
  encounters: EncounterConnection;
  /** Administrative gender, from the most recently updated record that has one. */
  gender?: Maybe<Gender>;
  /** Unified patient id, stable across restarts and gateway replicas. */
  id: Scalars['ID']['output'];
  /** Every identifier any source holds for the patient (MRNs, SSN, ...), without repeats. */
  identifiers: Array<Identifier>;
  /** Vaccinations from every linked source, newest first. */
  immunizations: ImmunizationConnection;
  /** Medication orders from every linked source, newest first. */
  medicationRequests: MedicationRequestConnection;
  /** Ids of patients that were merged into this one (the same person found twice). They keep resolving to this patient: `patient(id:)` with one of them answers this patient, whose `id` differs from the one asked for. */
  mergedFrom: Array<Scalars['ID']['output']>;
  /** The best name across sources: the official name of the most recently updated record. */
  name?: Maybe<HumanName>;
  /** Labs, vital signs and other observations from every linked source, newest first. */
  observations: ObservationConnection;
  /** Procedures from every linked source, newest first. */
  procedures: ProcedureConnection;
  /** Each source patient record linked into this patient. */
  sourceRecords: Array<SourceRecord>;
  /** Phones and e-mail addresses from the most recently updated record that has any. */
  telecom: Array<ContactPoint>;
};


/** One person, stitched together from every source that knows them. Clinical lists come from every linked source record. */
export type PatientAllergiesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  clinicalStatus?: InputMaybe<Scalars['String']['input']>;
  code?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** One person, stitched together from every source that knows them. Clinical lists come from every linked source record. */
export type PatientConditionsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  category?: InputMaybe<Scalars['String']['input']>;
  clinicalStatus?: InputMaybe<Scalars['String']['input']>;
  code?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** One person, stitched together from every source that knows them. Clinical lists come from every linked source record. */
export type PatientDiagnosticReportsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  category?: InputMaybe<Scalars['String']['input']>;
  code?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  since?: InputMaybe<Scalars['DateTime']['input']>;
};


/** One person, stitched together from every source that knows them. Clinical lists come from every linked source record. */
export type PatientEligibilityArgs = {
  dateOfService?: InputMaybe<Scalars['Date']['input']>;
  payerId?: InputMaybe<Scalars['String']['input']>;
  serviceTypeCodes?: InputMaybe<Array<Scalars['String']['input']>>;
};


/** One person, stitched together from every source that knows them. Clinical lists come from every linked source record. */
export type PatientEncountersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  since?: InputMaybe<Scalars['DateTime']['input']>;
};


/** One person, stitched together from every source that knows them. Clinical lists come from every linked source record. */
export type PatientImmunizationsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  since?: InputMaybe<Scalars['DateTime']['input']>;
};


/** One person, stitched together from every source that knows them. Clinical lists come from every linked source record. */
export type PatientMedicationRequestsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  code?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  since?: InputMaybe<Scalars['DateTime']['input']>;
  status?: InputMaybe<Scalars['String']['input']>;
};


/** One person, stitched together from every source that knows them. Clinical lists come from every linked source record. */
export type PatientObservationsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  category?: InputMaybe<Scalars['String']['input']>;
  code?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  since?: InputMaybe<Scalars['DateTime']['input']>;
};


/** One person, stitched together from every source that knows them. Clinical lists come from every linked source record. */
export type PatientProceduresArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  code?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  since?: InputMaybe<Scalars['DateTime']['input']>;
};

/** A page of patients. */
export type PatientConnection = {
  __typename?: 'PatientConnection';
  /** The patients of this page, with cursors. */
  edges: Array<PatientEdge>;
  /** The patients of this page. */
  nodes: Array<Patient>;
  /** Where this page stands. */
  pageInfo: PageInfo;
  /** How many patients match, across every source and after de-duplication; not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** One patient with its cursor. */
export type PatientEdge = {
  __typename?: 'PatientEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The patient. */
  node: Patient;
};

/** Something that happened to a patient at one or more sources: an admission, a discharge, a new result, ... */
export type PatientEvent = {
  __typename?: 'PatientEvent';
  /** NEW_LAB_RESULT: true when the source flagged the result abnormal (high, low, critical, ...), false when normal, null when it did not say. */
  abnormal?: Maybe<Scalars['Boolean']['output']>;
  /** When chartgraph first saw it. */
  detectedAt: Scalars['DateTime']['output'];
  /** Stable id (the same on every replica and after restarts): pass the last one received as `after` to resume. */
  id: Scalars['ID']['output'];
  /** The encounter, condition, lab result or medication order, as the chart shows it. */
  item?: Maybe<PatientEventItem>;
  /** When it happened at the source (admission start, discharge end, result time, order time, ...). */
  occurredAt: Scalars['DateTime']['output'];
  /** The unified patient (a merged patient shows its survivor); null when no source record of it is linked any more. */
  patient?: Maybe<Patient>;
  /** Every source that reported this event (two when two hospitals did). */
  provenance: Array<Provenance>;
  /** What happened. */
  type: PatientEventType;
};

/** A page of patient events. */
export type PatientEventConnection = {
  __typename?: 'PatientEventConnection';
  /** The patient events of this page, with cursors. */
  edges: Array<PatientEventEdge>;
  /** The patient events of this page. */
  nodes: Array<PatientEvent>;
  /** Where this page stands. */
  pageInfo: PageInfo;
  /** How many patient events match, across every source and after de-duplication; not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** One patient event with its cursor. */
export type PatientEventEdge = {
  __typename?: 'PatientEventEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The patient event. */
  node: PatientEvent;
};

/** The clinical item an event is about, through the same types (and field permissions) as the chart. */
export type PatientEventItem = Condition | Encounter | MedicationRequest | Observation;

/** What happened to a patient at a source. */
export type PatientEventType =
  /** A new inpatient (or observation, short-stay) encounter began. */
  | 'ADMITTED'
  /** An inpatient or emergency encounter finished. */
  | 'DISCHARGED'
  /** A new emergency-department encounter began. */
  | 'EMERGENCY_VISIT'
  /** Any other new or changed encounter (transfer, status change, outpatient visit). */
  | 'ENCOUNTER_UPDATED'
  /** A problem or diagnosis was recorded. */
  | 'NEW_CONDITION'
  /** A laboratory result arrived; `abnormal` says whether the source flagged it. */
  | 'NEW_LAB_RESULT'
  /** A medication was ordered. */
  | 'NEW_MEDICATION';

/** Two unified patients found to be one person and merged: the survivor keeps every record, the merged id resolves to it. Admins can undo it. */
export type PatientMerge = {
  __typename?: 'PatientMerge';
  /** When the merge happened. */
  at: Scalars['DateTime']['output'];
  /** Merge id (for `undoPatientMerge`). */
  id: Scalars['ID']['output'];
  /** Who merged: an admin’s subject, or `matcher`. */
  mergedBy: Scalars['String']['output'];
  /** Unified id that was merged away; it resolves to the survivor until the merge is undone. */
  mergedId: Scalars['ID']['output'];
  /** `matcher` (evidence in a look-up or a sync joined them) or `manual` (an admin). */
  method: Scalars['String']['output'];
  /** The source records that moved from the merged patient to the survivor. */
  records: Array<SourceRecordRef>;
  /** Score in bits of the pair that joined them, when the matcher merged. */
  score?: Maybe<Scalars['Float']['output']>;
  /** Unified id that survived and holds the records now. */
  survivorId: Scalars['ID']['output'];
  /** When an admin undid it; null while it holds. */
  undoneAt?: Maybe<Scalars['DateTime']['output']>;
  /** Subject of the admin who undid it. */
  undoneBy?: Maybe<Scalars['String']['output']>;
};

/** A page of patient merges. */
export type PatientMergeConnection = {
  __typename?: 'PatientMergeConnection';
  /** The patient merges of this page, with cursors. */
  edges: Array<PatientMergeEdge>;
  /** The patient merges of this page. */
  nodes: Array<PatientMerge>;
  /** Where this page stands. */
  pageInfo: PageInfo;
  /** How many patient merges match, across every source and after de-duplication; not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** One patient merge with its cursor. */
export type PatientMergeEdge = {
  __typename?: 'PatientMergeEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The patient merge. */
  node: PatientMerge;
};

/** A time range, as in FHIR Period; either end may be open. */
export type Period = {
  __typename?: 'Period';
  /** When it ended; null while ongoing. */
  end?: Maybe<Scalars['DateTime']['output']>;
  /** When it started. */
  start?: Maybe<Scalars['DateTime']['output']>;
};

/** A source record that scored as perhaps the same person as a patient: kept, not linked, for an admin to review. */
export type PossibleMatch = {
  __typename?: 'PossibleMatch';
  /** The candidate source record. */
  candidate: SourceRecordRef;
  /** When the matcher found the pair. */
  createdAt: Scalars['DateTime']['output'];
  /** Per-field outcomes behind the score. */
  evidence: Array<MatchEvidence>;
  /** Why a pair that scored high enough, or shared a strong identifier, was still held for review: identifier-conflict, identifier-mismatch, given-name-conflict, given-name-gender-conflict, birth-date-conflict. */
  held?: Maybe<Scalars['String']['output']>;
  /** Possible match id. */
  id: Scalars['ID']['output'];
  /** The patient the candidate may belong to (null when it has no records left). */
  patient?: Maybe<Patient>;
  /** Unified id of the patient the candidate may belong to. */
  patientId: Scalars['ID']['output'];
  /** When an admin decided. */
  reviewedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Subject of the admin who decided. */
  reviewedBy?: Maybe<Scalars['String']['output']>;
  /** Fellegi-Sunter score in bits (log2 likelihood ratio of same person vs two people). */
  score: Scalars['Float']['output'];
  /** Review state. */
  status: PossibleMatchStatus;
};

/** A page of possible matchs. */
export type PossibleMatchConnection = {
  __typename?: 'PossibleMatchConnection';
  /** The possible matchs of this page, with cursors. */
  edges: Array<PossibleMatchEdge>;
  /** The possible matchs of this page. */
  nodes: Array<PossibleMatch>;
  /** Where this page stands. */
  pageInfo: PageInfo;
  /** How many possible matchs match, across every source and after de-duplication; not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** One possible match with its cursor. */
export type PossibleMatchEdge = {
  __typename?: 'PossibleMatchEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The possible match. */
  node: PossibleMatch;
};

/** Review state of a possible match. */
export type PossibleMatchStatus =
  /** An admin linked the candidate into the patient. */
  | 'LINKED'
  /** Waiting for an admin. */
  | 'OPEN'
  /** An admin decided they are two people (also set when an admin unlinks a record). */
  | 'REJECTED';

/** A procedure performed (FHIR Procedure). */
export type Procedure = {
  __typename?: 'Procedure';
  /** What was done. */
  code?: Maybe<CodeableConcept>;
  /** chartgraph id of the item: `<source>/<ResourceType>/<source resource id>` of its first provenance. */
  id: Scalars['ID']['output'];
  /** When it was performed. */
  performed?: Maybe<Period>;
  /** Every source that reported this item (more than one when two sources sent the same item). */
  provenance: Array<Provenance>;
  /** Why it was performed. */
  reasonCode: Array<CodeableConcept>;
  /** preparation, in-progress, completed, ... */
  status?: Maybe<Scalars['String']['output']>;
};

/** A page of procedures. */
export type ProcedureConnection = {
  __typename?: 'ProcedureConnection';
  /** The procedures of this page, with cursors. */
  edges: Array<ProcedureEdge>;
  /** The procedures of this page. */
  nodes: Array<Procedure>;
  /** Where this page stands. */
  pageInfo: PageInfo;
  /** How many procedures match, across every source and after de-duplication; not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** One procedure with its cursor. */
export type ProcedureEdge = {
  __typename?: 'ProcedureEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The procedure. */
  node: Procedure;
};

/** Where an item came from: which source, which resource there, and how fresh it is. */
export type Provenance = {
  __typename?: 'Provenance';
  /** When chartgraph fetched it from the source. */
  fetchedAt: Scalars['DateTime']['output'];
  /** The source that reported the item. */
  source: SourceRef;
  /** The item’s resource id in that source. */
  sourceResourceId: Scalars['String']['output'];
  /** True when this copy is older than its cache TTL: served while a refresh runs in the background, or because the source could not be reached. */
  stale: Scalars['Boolean']['output'];
};

/** A measured amount, as in FHIR Quantity. */
export type Quantity = {
  __typename?: 'Quantity';
  /** The unit’s code in that system. */
  code?: Maybe<Scalars['String']['output']>;
  /** The value in the canonical UCUM unit of the observation’s LOINC code (mass and molar units converted by molecular weight, e.g. glucose mmol/L to mg/dL). Null when the code has no canonical unit or the unit cannot be converted. */
  normalized?: Maybe<NormalizedQuantity>;
  /** The unit’s code system, usually http://unitsofmeasure.org (UCUM). */
  system?: Maybe<Scalars['String']['output']>;
  /** The unit as the source shows it. */
  unit?: Maybe<Scalars['String']['output']>;
  /** The numeric value. */
  value?: Maybe<Scalars['Float']['output']>;
};

export type Query = {
  __typename?: 'Query';
  /** Recorded accesses to patient data, newest first, with filters. Admins only. */
  auditEvents: AuditEventConnection;
  /** Patients across every source whose records meet the criteria, answered from the local population store (`chartgraph sync --resources`), in a stable order. Analysts get pseudonymous ids, Safe Harbor fields and suppressed small counts. */
  cohort: CohortConnection;
  /** An ad-hoc real-time eligibility check by member details, for a member not (yet) in any EHR. Payer rejections are results with `status: REJECTED`; a payer that cannot be reached is an UPSTREAM_* error. */
  eligibility?: Maybe<EligibilityResult>;
  /** One patient by unified id, with every linked source record. */
  patient?: Maybe<Patient>;
  /** The patient a business identifier names (an MRN of one source, an SSN, ...), looked up in every source and linked. */
  patientByIdentifier?: Maybe<Patient>;
  /** What happened to patients at any source (admissions, discharges, emergency visits, new conditions, results, medications), oldest first; for apps that poll. */
  patientEvents: PatientEventConnection;
  /** Merges of unified patients, newest first. Admin only. */
  patientMerges: PatientMergeConnection;
  /** Many patients by unified id, for dashboards: same order as `ids`, null for an unknown id. */
  patients: Array<Maybe<Patient>>;
  /** Pairs the matcher kept for review instead of linking, oldest first. Admin only. */
  possibleMatches: PossibleMatchConnection;
  /** Patients whose records match: searched in the master patient index (every source record chartgraph has seen or synced), or in every source when the index knows none. A name needs a part of at least 2 letters. Without any criteria, pages through every patient of the index in a stable order (each exactly once; at most 100 per page). */
  searchPatients: PatientConnection;
  /** Every configured upstream with its health and, for FHIR sources, its capabilities. */
  sources: Array<Source>;
};


export type QueryAuditEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  from?: InputMaybe<Scalars['DateTime']['input']>;
  outcome?: InputMaybe<Scalars['String']['input']>;
  patientId?: InputMaybe<Scalars['ID']['input']>;
  subject?: InputMaybe<Scalars['String']['input']>;
  to?: InputMaybe<Scalars['DateTime']['input']>;
};


export type QueryCohortArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  criteria: CohortCriteria;
  first?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryEligibilityArgs = {
  input: EligibilityInput;
};


export type QueryPatientArgs = {
  id: Scalars['ID']['input'];
};


export type QueryPatientByIdentifierArgs = {
  system: Scalars['String']['input'];
  value: Scalars['String']['input'];
};


export type QueryPatientEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  patientIds?: InputMaybe<Array<Scalars['ID']['input']>>;
  since?: InputMaybe<Scalars['DateTime']['input']>;
  types?: InputMaybe<Array<PatientEventType>>;
};


export type QueryPatientMergesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  patientId?: InputMaybe<Scalars['ID']['input']>;
};


export type QueryPatientsArgs = {
  ids: Array<Scalars['ID']['input']>;
};


export type QueryPossibleMatchesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<PossibleMatchStatus>;
};


export type QuerySearchPatientsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  birthDate?: InputMaybe<Scalars['Date']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  gender?: InputMaybe<Gender>;
  name?: InputMaybe<Scalars['String']['input']>;
};

/** The benefits for one X12 service type code (30 = health benefit plan coverage, 98 = office visit, UC = urgent care, ...). */
export type ServiceTypeBenefits = {
  __typename?: 'ServiceTypeBenefits';
  /** Whether the service type is covered; null when the payer does not say. */
  active?: Maybe<Scalars['Boolean']['output']>;
  /** In-network cost sharing; deductible and out-of-pocket maximum fall back to the plan-level ones. */
  inNetwork?: Maybe<NetworkBenefits>;
  /** Out-of-network cost sharing. */
  outOfNetwork?: Maybe<NetworkBenefits>;
  /** The service type’s name, when known. */
  serviceType?: Maybe<Scalars['String']['output']>;
  /** The X12 service type code, as the payer sent it. */
  serviceTypeCode: Scalars['String']['output'];
};

/** A configured upstream: an EHR FHIR endpoint or a payer eligibility API. */
export type Source = {
  __typename?: 'Source';
  /** Circuit breaker of a FHIR source; null for payers. */
  breaker?: Maybe<BreakerState>;
  /** Capabilities of a FHIR source; null for payers or when unknown. */
  capabilities?: Maybe<SourceCapabilities>;
  /** The id from the config, used in provenance and errors. */
  id: Scalars['ID']['output'];
  /** `fhir` or `eligibility`. */
  kind: Scalars['String']['output'];
  /** When chartgraph last called the source. */
  lastCheckedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Display name. */
  name: Scalars['String']['output'];
  /** Health as last seen. */
  status: SourceStatus;
};

/** What a FHIR source can do, from its CapabilityStatement, probes of the source and the config’s overrides. */
export type SourceCapabilities = {
  __typename?: 'SourceCapabilities';
  /** Accepts FHIR `batch` Bundles (POST to the base URL), so per-patient searches of a source without OR lists travel many to a request. */
  batch: Scalars['Boolean']['output'];
  /** Requests in flight to the source allowed now: `maxConcurrency`, lowered while the source’s latency shows it queueing our requests. */
  concurrencyLimit: Scalars['Int']['output'];
  /** FHIR version the server declares. */
  fhirVersion?: Maybe<Scalars['String']['output']>;
  /** Largest page size (`_count`) the server honours. */
  maxCount: Scalars['Int']['output'];
  /** How each capability above was learned: config, /metadata, a probe, or the default. */
  origins: SourceCapabilityOrigins;
  /** Accepts `patient=a,b,c` (comma = OR), so one search serves many patients. */
  patientOrSearch: Scalars['Boolean']['output'];
  /** Accepts POST `[type]/_search`. */
  postSearch: Scalars['Boolean']['output'];
  /** Server software name. */
  software?: Maybe<Scalars['String']['output']>;
};

/** How each capability of a source was learned. */
export type SourceCapabilityOrigins = {
  __typename?: 'SourceCapabilityOrigins';
  /** Origin of `batch`. */
  batch: CapabilityOrigin;
  /** Origin of `maxCount`. */
  maxCount: CapabilityOrigin;
  /** Origin of `patientOrSearch`. */
  patientOrSearch: CapabilityOrigin;
  /** Origin of `postSearch`. */
  postSearch: CapabilityOrigin;
};

/** One source’s patient record linked into a unified patient, and how it was linked. */
export type SourceRecord = {
  __typename?: 'SourceRecord';
  /** When the source last changed the record (meta.lastUpdated). */
  lastUpdated?: Maybe<Scalars['DateTime']['output']>;
  /** How the record was linked: `identifier` (a shared strong identifier such as SSN), `demographic` (scored match), `manual` (an admin), or `origin` (the record the patient was first found by). */
  matchMethod: Scalars['String']['output'];
  /** Match score for demographic links (higher is more certain); null for other methods. */
  matchScore?: Maybe<Scalars['Float']['output']>;
  /** The source that holds the record. */
  source: SourceRef;
  /** The patient’s resource id in that source. */
  sourcePatientId: Scalars['String']['output'];
};

/** One source patient record: a source id and the patient’s resource id there. */
export type SourceRecordInput = {
  /** Configured source id. */
  sourceId: Scalars['String']['input'];
  /** The patient’s resource id in that source. */
  sourcePatientId: Scalars['String']['input'];
};

/** A source patient record, named by source and resource id. */
export type SourceRecordRef = {
  __typename?: 'SourceRecordRef';
  /** The source that holds the record. */
  source: SourceRef;
  /** The patient’s resource id in that source. */
  sourcePatientId: Scalars['String']['output'];
};

/** A short reference to a configured upstream source. */
export type SourceRef = {
  __typename?: 'SourceRef';
  /** The source id from the config; also used in errors (`extensions.source`). */
  id: Scalars['ID']['output'];
  /** The source’s display name. */
  name: Scalars['String']['output'];
};

/** Health of a source as chartgraph last saw it. */
export type SourceStatus =
  /** Recent calls were rate limited or slow. */
  | 'DEGRADED'
  /** The last call failed. */
  | 'DOWN'
  /** No call has been made yet. */
  | 'UNKNOWN'
  /** The last call succeeded. */
  | 'UP';

export type Subscription = {
  __typename?: 'Subscription';
  /** Events as they happen, once each, over SSE (`/graphql/stream`) or WebSocket (`/graphql`). With `after`, what was missed since that event comes first. */
  patientEvents: PatientEvent;
};


export type SubscriptionPatientEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  patientIds?: InputMaybe<Array<Scalars['ID']['input']>>;
  types?: InputMaybe<Array<PatientEventType>>;
};

export type CohortDashboardQueryVariables = Exact<{
  conditions: Array<Scalars['String']['input']> | Scalars['String']['input'];
  first?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type CohortDashboardQuery = { __typename?: 'Query', cohort: { __typename?: 'CohortConnection', totalCount?: number | null, byAge: Array<{ __typename?: 'CohortCell', keys: Array<string>, count?: number | null, suppressed: boolean }>, byAgeAndGender: Array<{ __typename?: 'CohortCell', keys: Array<string>, count?: number | null, suppressed: boolean }>, freshness: { __typename?: 'CohortFreshness', asOf: string, oldestFetchedAt?: string | null, sourcesNotSynced: Array<string>, sourcesSyncing: Array<string> }, nodes: Array<{ __typename?: 'Patient', id: string, ageGroup?: string | null, gender?: Gender | null, latestHbA1c: { __typename?: 'ObservationConnection', nodes: Array<{ __typename?: 'Observation', effective?: string | null, valueQuantity?: { __typename?: 'Quantity', value?: number | null, unit?: string | null } | null }> } }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor?: string | null } } };

export type DashboardQueryVariables = Exact<{
  ids: Array<Scalars['ID']['input']> | Scalars['ID']['input'];
  first?: InputMaybe<Scalars['Int']['input']>;
}>;


export type DashboardQuery = { __typename?: 'Query', patients: Array<{ __typename?: 'Patient', id: string, birthDate?: string | null, gender?: Gender | null, name?: { __typename?: 'HumanName', text?: string | null } | null, conditions: { __typename?: 'ConditionConnection', totalCount: number, nodes: Array<{ __typename?: 'Condition', onset?: string | null, code?: { __typename?: 'CodeableConcept', text?: string | null } | null }> }, observations: { __typename?: 'ObservationConnection', totalCount: number, nodes: Array<{ __typename?: 'Observation', effective?: string | null, code?: { __typename?: 'CodeableConcept', text?: string | null } | null, valueQuantity?: { __typename?: 'Quantity', value?: number | null, unit?: string | null } | null }> } } | null> };

export type PatientByIdentifierQueryVariables = Exact<{
  system: Scalars['String']['input'];
  value: Scalars['String']['input'];
  first?: InputMaybe<Scalars['Int']['input']>;
}>;


export type PatientByIdentifierQuery = { __typename?: 'Query', patientByIdentifier?: { __typename?: 'Patient', id: string, birthDate?: string | null, gender?: Gender | null, name?: { __typename?: 'HumanName', text?: string | null, family?: string | null, given: Array<string> } | null, sourceRecords: Array<{ __typename?: 'SourceRecord', sourcePatientId: string, matchMethod: string, source: { __typename?: 'SourceRef', id: string, name: string } }>, conditions: { __typename?: 'ConditionConnection', totalCount: number, nodes: Array<{ __typename?: 'Condition', id: string, clinicalStatus?: string | null, onset?: string | null, code?: { __typename?: 'CodeableConcept', text?: string | null, coding: Array<{ __typename?: 'Coding', system?: string | null, code?: string | null, display?: string | null }> } | null, provenance: Array<{ __typename?: 'Provenance', fetchedAt: string, stale: boolean, source: { __typename?: 'SourceRef', id: string } }> }> }, observations: { __typename?: 'ObservationConnection', totalCount: number, nodes: Array<{ __typename?: 'Observation', id: string, effective?: string | null, valueString?: string | null, code?: { __typename?: 'CodeableConcept', text?: string | null } | null, valueQuantity?: { __typename?: 'Quantity', value?: number | null, unit?: string | null } | null }> } } | null };

export type PatientEventsSubscriptionVariables = Exact<{
  ids?: InputMaybe<Array<Scalars['ID']['input']> | Scalars['ID']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type PatientEventsSubscription = { __typename?: 'Subscription', patientEvents: { __typename?: 'PatientEvent', id: string, type: PatientEventType, occurredAt: string, detectedAt: string, abnormal?: boolean | null, patient?: { __typename?: 'Patient', id: string, name?: { __typename?: 'HumanName', text?: string | null } | null } | null, item?:
      | { __typename: 'Condition', code?: { __typename?: 'CodeableConcept', text?: string | null } | null }
      | { __typename: 'Encounter', class?: string | null, status?: string | null, period?: { __typename?: 'Period', start?: string | null, end?: string | null } | null }
      | { __typename: 'MedicationRequest', status?: string | null, medication?: { __typename?: 'CodeableConcept', text?: string | null } | null }
      | { __typename: 'Observation', code?: { __typename?: 'CodeableConcept', text?: string | null } | null, valueQuantity?: { __typename?: 'Quantity', value?: number | null, unit?: string | null } | null, interpretation: Array<{ __typename?: 'CodeableConcept', coding: Array<{ __typename?: 'Coding', code?: string | null }> }> }
     | null, provenance: Array<{ __typename?: 'Provenance', sourceResourceId: string, source: { __typename?: 'SourceRef', id: string, name: string } }> } };

export type PatientMedicationsQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  status?: InputMaybe<Scalars['String']['input']>;
}>;


export type PatientMedicationsQuery = { __typename?: 'Query', patient?: { __typename?: 'Patient', id: string, medicationRequests: { __typename?: 'MedicationRequestConnection', totalCount: number, nodes: Array<{ __typename?: 'MedicationRequest', authoredOn?: string | null, dosageInstructions: Array<string>, medication?: { __typename?: 'CodeableConcept', text?: string | null } | null }> }, allergies: { __typename?: 'AllergyIntoleranceConnection', totalCount: number, nodes: Array<{ __typename?: 'AllergyIntolerance', criticality?: string | null, clinicalStatus?: string | null, code?: { __typename?: 'CodeableConcept', text?: string | null } | null }> } } | null };

export type SearchPatientsQueryVariables = Exact<{
  name?: InputMaybe<Scalars['String']['input']>;
  birthDate?: InputMaybe<Scalars['Date']['input']>;
  gender?: InputMaybe<Gender>;
  first?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type SearchPatientsQuery = { __typename?: 'Query', searchPatients: { __typename?: 'PatientConnection', totalCount: number, nodes: Array<{ __typename?: 'Patient', id: string, birthDate?: string | null, gender?: Gender | null, name?: { __typename?: 'HumanName', text?: string | null } | null, sourceRecords: Array<{ __typename?: 'SourceRecord', matchMethod: string, source: { __typename?: 'SourceRef', id: string } }> }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor?: string | null } } };

export type SourcesQueryVariables = Exact<{ [key: string]: never; }>;


export type SourcesQuery = { __typename?: 'Query', sources: Array<{ __typename?: 'Source', id: string, name: string, kind: string, status: SourceStatus, lastCheckedAt?: string | null, capabilities?: { __typename?: 'SourceCapabilities', fhirVersion?: string | null, software?: string | null, patientOrSearch: boolean, maxCount: number } | null }> };


export const CohortDashboardDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"CohortDashboard"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"conditions"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"20"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cohort"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"criteria"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"conditions"},"value":{"kind":"Variable","name":{"kind":"Name","value":"conditions"}}}]}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","alias":{"kind":"Name","value":"byAge"},"name":{"kind":"Name","value":"breakdown"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"by"},"value":{"kind":"ListValue","values":[{"kind":"EnumValue","value":"AGE_GROUP"}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"keys"}},{"kind":"Field","name":{"kind":"Name","value":"count"}},{"kind":"Field","name":{"kind":"Name","value":"suppressed"}}]}},{"kind":"Field","alias":{"kind":"Name","value":"byAgeAndGender"},"name":{"kind":"Name","value":"breakdown"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"by"},"value":{"kind":"ListValue","values":[{"kind":"EnumValue","value":"AGE_GROUP"},{"kind":"EnumValue","value":"GENDER"}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"keys"}},{"kind":"Field","name":{"kind":"Name","value":"count"}},{"kind":"Field","name":{"kind":"Name","value":"suppressed"}}]}},{"kind":"Field","name":{"kind":"Name","value":"freshness"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"asOf"}},{"kind":"Field","name":{"kind":"Name","value":"oldestFetchedAt"}},{"kind":"Field","name":{"kind":"Name","value":"sourcesNotSynced"}},{"kind":"Field","name":{"kind":"Name","value":"sourcesSyncing"}}]}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"ageGroup"}},{"kind":"Field","name":{"kind":"Name","value":"gender"}},{"kind":"Field","alias":{"kind":"Name","value":"latestHbA1c"},"name":{"kind":"Name","value":"observations"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"code"},"value":{"kind":"StringValue","value":"http://loinc.org|4548-4","block":false}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"1"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"effective"}},{"kind":"Field","name":{"kind":"Name","value":"valueQuantity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"unit"}}]}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<CohortDashboardQuery, CohortDashboardQueryVariables>;
export const DashboardDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Dashboard"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"ids"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"5"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"patients"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"ids"},"value":{"kind":"Variable","name":{"kind":"Name","value":"ids"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"Field","name":{"kind":"Name","value":"birthDate"}},{"kind":"Field","name":{"kind":"Name","value":"gender"}},{"kind":"Field","name":{"kind":"Name","value":"conditions"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"clinicalStatus"},"value":{"kind":"StringValue","value":"active","block":false}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"Field","name":{"kind":"Name","value":"onset"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"observations"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"Field","name":{"kind":"Name","value":"effective"}},{"kind":"Field","name":{"kind":"Name","value":"valueQuantity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"unit"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<DashboardQuery, DashboardQueryVariables>;
export const PatientByIdentifierDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"PatientByIdentifier"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"system"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"value"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"10"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"patientByIdentifier"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"system"},"value":{"kind":"Variable","name":{"kind":"Name","value":"system"}}},{"kind":"Argument","name":{"kind":"Name","value":"value"},"value":{"kind":"Variable","name":{"kind":"Name","value":"value"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}},{"kind":"Field","name":{"kind":"Name","value":"family"}},{"kind":"Field","name":{"kind":"Name","value":"given"}}]}},{"kind":"Field","name":{"kind":"Name","value":"birthDate"}},{"kind":"Field","name":{"kind":"Name","value":"gender"}},{"kind":"Field","name":{"kind":"Name","value":"sourceRecords"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"source"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"sourcePatientId"}},{"kind":"Field","name":{"kind":"Name","value":"matchMethod"}}]}},{"kind":"Field","name":{"kind":"Name","value":"conditions"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"code"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}},{"kind":"Field","name":{"kind":"Name","value":"coding"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"system"}},{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"display"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"clinicalStatus"}},{"kind":"Field","name":{"kind":"Name","value":"onset"}},{"kind":"Field","name":{"kind":"Name","value":"provenance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"source"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}},{"kind":"Field","name":{"kind":"Name","value":"fetchedAt"}},{"kind":"Field","name":{"kind":"Name","value":"stale"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"observations"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"code"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"Field","name":{"kind":"Name","value":"effective"}},{"kind":"Field","name":{"kind":"Name","value":"valueQuantity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"unit"}}]}},{"kind":"Field","name":{"kind":"Name","value":"valueString"}}]}}]}}]}}]}}]} as unknown as DocumentNode<PatientByIdentifierQuery, PatientByIdentifierQueryVariables>;
export const PatientEventsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"PatientEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"ids"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"patientEvents"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"patientIds"},"value":{"kind":"Variable","name":{"kind":"Name","value":"ids"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"occurredAt"}},{"kind":"Field","name":{"kind":"Name","value":"detectedAt"}},{"kind":"Field","name":{"kind":"Name","value":"abnormal"}},{"kind":"Field","name":{"kind":"Name","value":"patient"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"item"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Encounter"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"class"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"period"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"start"}},{"kind":"Field","name":{"kind":"Name","value":"end"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Condition"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"MedicationRequest"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"medication"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Observation"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"Field","name":{"kind":"Name","value":"valueQuantity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"unit"}}]}},{"kind":"Field","name":{"kind":"Name","value":"interpretation"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"coding"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"provenance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"source"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"sourceResourceId"}}]}}]}}]}}]} as unknown as DocumentNode<PatientEventsSubscription, PatientEventsSubscriptionVariables>;
export const PatientMedicationsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"PatientMedications"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"status"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}},"defaultValue":{"kind":"StringValue","value":"active","block":false}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"patient"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"medicationRequests"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"status"},"value":{"kind":"Variable","name":{"kind":"Name","value":"status"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"medication"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"Field","name":{"kind":"Name","value":"authoredOn"}},{"kind":"Field","name":{"kind":"Name","value":"dosageInstructions"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"allergies"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"Field","name":{"kind":"Name","value":"criticality"}},{"kind":"Field","name":{"kind":"Name","value":"clinicalStatus"}}]}}]}}]}}]}}]} as unknown as DocumentNode<PatientMedicationsQuery, PatientMedicationsQueryVariables>;
export const SearchPatientsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SearchPatients"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"name"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"birthDate"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Date"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"gender"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Gender"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"20"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"searchPatients"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"name"},"value":{"kind":"Variable","name":{"kind":"Name","value":"name"}}},{"kind":"Argument","name":{"kind":"Name","value":"birthDate"},"value":{"kind":"Variable","name":{"kind":"Name","value":"birthDate"}}},{"kind":"Argument","name":{"kind":"Name","value":"gender"},"value":{"kind":"Variable","name":{"kind":"Name","value":"gender"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"Field","name":{"kind":"Name","value":"birthDate"}},{"kind":"Field","name":{"kind":"Name","value":"gender"}},{"kind":"Field","name":{"kind":"Name","value":"sourceRecords"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"source"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}},{"kind":"Field","name":{"kind":"Name","value":"matchMethod"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<SearchPatientsQuery, SearchPatientsQueryVariables>;
export const SourcesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Sources"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"sources"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"lastCheckedAt"}},{"kind":"Field","name":{"kind":"Name","value":"capabilities"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"fhirVersion"}},{"kind":"Field","name":{"kind":"Name","value":"software"}},{"kind":"Field","name":{"kind":"Name","value":"patientOrSearch"}},{"kind":"Field","name":{"kind":"Name","value":"maxCount"}}]}}]}}]}}]} as unknown as DocumentNode<SourcesQuery, SourcesQueryVariables>;