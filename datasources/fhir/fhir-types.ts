import type { InvalidResponseReason } from '../../errors/errors.js';
// FHIR R4 resource shapes come from Medplum's type package (types only, nothing at run time).
export type {
  Resource as FhirResource,
  Bundle,
  BundleLink,
  CapabilityStatement,
  OperationOutcome,
  Patient,
  Identifier,
  HumanName,
  CodeableConcept,
  Reference,
} from '@medplum/fhirtypes';

/** The resource types chartgraph reads from EHRs. */
export const CLINICAL_TYPES = [
  'Condition',
  'Observation',
  'MedicationRequest',
  'AllergyIntolerance',
  'Immunization',
  'Procedure',
  'Encounter',
  'DiagnosticReport',
  'Coverage',
] as const;
export type ClinicalType = (typeof CLINICAL_TYPES)[number];

/** FHIR search parameters as ordered name/value pairs; a name may repeat (AND). */
export type SearchParams = ReadonlyArray<readonly [name: string, value: string]>;

/**
 * What one FHIR source can do, read from its CapabilityStatement (`/metadata`) and
 * overridden by the source's `capabilities` config.
 */
export interface SourceCapabilities {
  fhirVersion?: string;
  /** `software.name` and `software.version` from the CapabilityStatement. */
  software?: string;
  /** `patient=a,b,c` (comma = OR) is honoured; also used for `_id` and `identifier` OR lists. */
  patientOrSearch: boolean;
  /** POST `[type]/_search` is accepted. */
  postSearch: boolean;
  /** The largest `_count` the server honours. */
  maxCount: number;
  /** FHIR `batch` Bundles (POSTed to the base) are accepted. */
  batch: boolean;
  /** Resource types the server lists under `rest.resource`; empty when unknown. */
  resourceTypes: string[];
  /** How each capability above was learned. */
  origins: CapabilityOrigins;
}

/**
 * Where a capability's value came from: the source's `capabilities` config, its
 * CapabilityStatement, a probe of the source itself, or the safe default because nothing said.
 */
export type CapabilityOrigin = 'CONFIG' | 'METADATA' | 'PROBE' | 'DEFAULT';

/** The origin of each learnable capability. */
export interface CapabilityOrigins {
  patientOrSearch: CapabilityOrigin;
  postSearch: CapabilityOrigin;
  maxCount: CapabilityOrigin;
  batch: CapabilityOrigin;
}

/**
 * One logical upstream call (a whole paged search, one read, one /metadata or token
 * fetch), for metrics and the explain view. Holds no URLs or parameter values: they may
 * carry patient identifiers.
 */
export interface UpstreamCall {
  sourceId: string;
  /** The resource type searched or read; `CapabilityStatement` for metadata, `''` for token. */
  resourceType: string;
  interaction: 'search' | 'read' | 'metadata' | 'token' | 'batch' | 'probe';
  /** HTTP exchanges with a Bundle answer (search pages); 1 for a completed read, metadata or token. */
  pages: number;
  /** How many patients this call covers (OR-batched searches cover several). */
  patients?: number;
  /** The last HTTP status seen, if any answer came. */
  status?: number;
  /** `invalid`: the source answered, but (part of) the answer broke the contract; see `violations`. */
  outcome: 'ok' | 'error' | 'timeout' | 'rate_limited' | 'invalid';
  ms: number;
  /** What was set aside or cut short in this call's answer, by reason (no ids). */
  violations?: ReadonlyArray<{ reason: InvalidResponseReason; count: number; /** The element or type at fault, never a value. */ detail?: string }>;
  /** HTTP exchanges repeated after a 5xx, 429 or network error. */
  retries?: number;
  /** This caller joined an identical search already in flight: no upstream request of its own. */
  shared?: boolean;
  /**
   * The call failed for a reason that says nothing about the source's health: it waited too
   * long for a concurrency slot, or our side cancelled it (the request's deadline, the
   * client left). Never counted against the source (health status, circuit breaker).
   */
  notSourceFault?: boolean;
  /** `batch`: the entries (searches or reads) one batch Bundle carried. */
  entries?: number;
}
