import { recordAudit } from '../datasources/cache/audit-log.js';
import type { Logger } from 'pino';
import type { CohortService } from '../analytics/cohort-service.js';
import type { ChartgraphConfig } from '../config/config.schema.js';
import type { AuditStore } from '../datasources/cache/audit-store.js';
import type { DatabaseNotes } from '../datasources/cache/database-health.js';
import type { PatientIndex } from '../datasources/cache/patient-index.js';
import type { PatientWalk } from '../datasources/cache/patient-walk.js';
import type { SearchCache } from '../datasources/cache/search-cache.js';
import type { EventFeed } from '../datasources/events/event-feed.js';
import type { FhirClient } from '../datasources/fhir/fhir-client.js';
import type { Patient } from '../datasources/fhir/fhir-types.js';
import type { AuditRecord } from '../datasources/cache/audit-store.js';
import { AnswerFreshness } from '../datasources/answer-freshness.js';
import { RequestBudget } from '../datasources/fhir/request-budget.js';
import { createLoaders, type CacheLookup, type Loaders } from '../datasources/loaders.js';
import { createEligibilityLoaders, type EligibilityLoaders, type EligibilityService } from '../datasources/payer/eligibility-service.js';
import type { SourceHealth } from '../datasources/source-health.js';
import type { Deidentifier } from '../deid/index.js';
import { PatientDirectory } from '../identity/patient-directory.js';
import type { Principal } from '../permissions/roles.js';
import type { SourceRef } from '../schema/common.types.js';
import { RequestAuditTrail } from './audit-trail.js';
import { PartialErrors } from './partial-errors.js';

/** Long-lived parts shared by every request of one gateway process. */
export interface GatewayServices {
  config: ChartgraphConfig;
  /** One client per FHIR source, in config order. */
  clients: ReadonlyMap<string, FhirClient>;
  index: PatientIndex;
  /** Keyset pages over every unified patient (`searchPatients` without criteria). */
  patientWalk?: PatientWalk;
  searchCache?: SearchCache;
  health: SourceHealth;
  logger: Logger;
  /** Audit events in the database (the `auditEvents` query reads them). */
  auditStore?: AuditStore;
  /** Pseudonyms and Safe Harbor rules for analysts. */
  deid?: Deidentifier;
  /** One eligibility service per payer source, by source id. */
  payers?: ReadonlyMap<string, EligibilityService>;
  /** Cohorts over the population store. */
  cohorts?: CohortService;
  /** The care-coordination event feed (stored events, live tail). */
  events?: EventFeed;
}

/** Everything one GraphQL request sees. Built fresh per request by {@link createRequestContext}. */
export interface RequestContext {
  requestId: string;
  principal: Principal;
  logger: Logger;
  services: GatewayServices & { sourceRef(id: string): SourceRef };
  /** Per-request DataLoaders: batching and de-duplication live and die with the request. */
  loaders: Loaders;
  patients: PatientDirectory;
  partialErrors: PartialErrors;
  /** What this request did with patient data; written as one audit event at the end. */
  audit: RequestAuditTrail;
  /** Per-request eligibility loaders: one payer call per distinct inquiry per request. */
  eligibility: EligibilityLoaders;
  /** The request's one deadline over every upstream call (`limits.requestDeadlineMs`). */
  budget: RequestBudget;
  /** Until when the answer is what the caches would give again (the response cache's bound). */
  freshness: AnswerFreshness;
  /**
   * What a repeat of this request may be given, filled as the answer goes out: until when
   * the answer may come from the response cache, and the audit event to write again then.
   * An object, so that Apollo's copies of the context share it.
   */
  repeat: { until?: number; audit?: AuditRecord };
  /** Whether the request had to do without the cache database (HTTP requests; see DatabaseHealth.runRequest). */
  databaseNotes?: DatabaseNotes;
}

const withRefs = new WeakMap<GatewayServices, RequestContext['services']>();

/**
 * The services with `sourceRef`, made once per services object rather than copied per
 * request. The services are its prototype, so what is set on them later (the event feed)
 * shows through.
 */
function withSourceRefs(services: GatewayServices): RequestContext['services'] {
  let extended = withRefs.get(services);
  if (!extended) {
    const names = new Map(services.config.sources.map((s) => [s.id, { id: s.id, name: s.name ?? s.id }]));
    const sourceRef = (id: string): SourceRef => names.get(id) ?? { id, name: id };
    extended = Object.assign(Object.create(services) as GatewayServices, { sourceRef });
    withRefs.set(services, extended);
  }
  return extended;
}

/** The one context factory: the HTTP server and the tests both build contexts here. */
export function createRequestContext(
  services: GatewayServices,
  request: {
    principal: Principal;
    requestId: string;
    /** Told of each search-cache lookup of this request's loaders (explain, metrics). */
    onCacheLookup?: (lookup: CacheLookup) => void;
    /** Aborts when the client goes away; the request's deadline is added to it. */
    signal?: AbortSignal;
    databaseNotes?: DatabaseNotes;
  },
): RequestContext {
  const budget = new RequestBudget(services.config.limits.requestDeadlineMs, request.signal);
  const freshness = new AnswerFreshness();
  const loaders = createLoaders({
    budget,
    freshness,
    clients: services.clients,
    cache: services.searchCache,
    cachePolicy: services.config.cache,
    onCacheLookup: request.onCacheLookup,
  });
  return {
    requestId: request.requestId,
    principal: request.principal,
    logger: services.logger.child({ requestId: request.requestId }),
    services: withSourceRefs(services),
    loaders,
    patients: new PatientDirectory({
      loaders,
      index: services.index,
      sourceIds: [...services.clients.keys()],
      strongIdentifierSystems: services.config.identity.strongIdentifierSystems,
      matching: services.config.identity,
      auditMerge: (tx, merge) =>
        recordAudit(tx, {
          requestId: request.requestId,
          subject: 'chartgraph-matcher',
          role: 'system',
          action: 'merge',
          patientIds: [merge.survivorId, merge.mergedId],
          outcome: 'success',
          detail: { mergeId: merge.id, method: merge.method, score: merge.score, trigger: 'look-up' },
        }),
      searchPatients: async (sourceId, params) =>
        (await services.clients.get(sourceId)!.search('Patient', params, { budget })).filter((r): r is Patient => r.resourceType === 'Patient'),
    }),
    partialErrors: new PartialErrors(),
    audit: new RequestAuditTrail(),
    eligibility: createEligibilityLoaders(services.payers),
    budget,
    freshness,
    repeat: {},
    ...(request.databaseNotes && { databaseNotes: request.databaseNotes }),
  };
}

/**
 * Gives a long-lived context (one event subscription) a fresh request's state for its next
 * event: new loaders and caches, a new audit trail, and a new deadline starting now, so an
 * event arriving after `limits.requestDeadlineMs` does not run under an expired signal.
 */
export function renewRequestContext(ctx: RequestContext): void {
  const fresh = createRequestContext(ctx.services, { principal: ctx.principal, requestId: ctx.requestId });
  ctx.loaders = fresh.loaders;
  ctx.patients = fresh.patients;
  ctx.partialErrors = fresh.partialErrors;
  ctx.audit = fresh.audit;
  ctx.eligibility = fresh.eligibility;
  ctx.budget = fresh.budget;
  ctx.freshness = fresh.freshness;
  ctx.repeat = fresh.repeat;
}
