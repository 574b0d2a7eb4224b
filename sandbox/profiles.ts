import type { Misbehaviour } from './misbehaviour.js';
import type { EhrId } from './split.js';

/** How one simulated EHR behaves: the capabilities real EHRs differ on. */
export interface EhrProfile {
  /** Comma OR-lists on `patient`, `subject`, `beneficiary`, `_id` and `identifier` (400 otherwise). */
  patientOrSearch: boolean;
  /** `POST [type]/_search` with a form body (405 otherwise). */
  postSearch: boolean;
  /** The largest page size; a larger `_count` is cut to this. */
  maxCount: number;
  /** Page size when `_count` is absent. */
  defaultCount: number;
  /** Every request except `/metadata` and SMART discovery needs a live bearer token. */
  requireAuth: boolean;
  /** Fixed latency added to every answer, in ms. */
  latencyMs: number;
  /** Answers that break the FHIR contract (see `misbehaviour.ts`; `MISBEHAVING` sets them all). */
  misbehave?: Misbehaviour;
  /** FHIR `batch` Bundles of GET entries POSTed to the base (listed as `rest.interaction` `batch` in /metadata). */
  batch: boolean;
  /** FHIR create (POST [type]) and update (PUT [type]/[id]) of resources (default on). */
  writes?: boolean;
  /** R4 Subscriptions Backport rest-hook subscriptions, advertised in /metadata (default off). */
  restHookSubscriptions?: boolean;
  /**
   * Searches of clinical types must name a patient (`patient`, `subject`, `beneficiary` or
   * `_id`): others answer 403 with an OperationOutcome, as many EHRs do (default off).
   */
  searchNeedsPatient?: boolean;
}

/**
 * Profiles as shipped: Mercy is permissive (OR lists) but needs SMART; St. Jude is open but
 * strict (no OR lists) and takes FHIR `batch` Bundles instead, as many such servers do, and
 * offers rest-hook Subscriptions (R4 Backport) for the event feed.
 */
export const DEFAULT_PROFILES: Readonly<Record<EhrId, EhrProfile>> = {
  mercy: { patientOrSearch: true, postSearch: true, maxCount: 100, defaultCount: 50, requireAuth: true, latencyMs: 0, batch: false, writes: true },
  stjude: { patientOrSearch: false, postSearch: false, maxCount: 50, defaultCount: 50, requireAuth: false, latencyMs: 0, batch: true, writes: true, restHookSubscriptions: true },
};
