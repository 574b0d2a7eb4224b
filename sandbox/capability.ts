import type { CapabilityStatement } from '../datasources/fhir/fhir-types.js';
import type { EhrProfile } from './profiles.js';
import { PATIENT_OR_PARAMS, SEARCH_PARAMS } from './search-params.js';
import { BACKPORT_SUBSCRIPTION_PROFILE, BACKPORT_TOPIC_CANONICAL_URL } from './rest-hook.js';

/** Extension on a searchParam: whether comma OR-lists are accepted on it. */
export const SEARCH_MULTIPLE_OR_URL = 'https://chartgraph.dev/fhir/StructureDefinition/search-multiple-or';
/** Extension on `rest`: the largest `_count` honoured. */
export const MAX_COUNT_URL = 'https://chartgraph.dev/fhir/StructureDefinition/max-count';
/** Extension on `rest`: whether `POST [type]/_search` is accepted (FHIR has no element for it). */
export const POST_SEARCH_URL = 'https://chartgraph.dev/fhir/StructureDefinition/post-search';
/** SMART App Launch: OAuth endpoints advertised in `rest.security`. */
export const OAUTH_URIS_URL = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';
/** Bulk Data Access: the patient-level export operation, and the CapabilityStatement a bulk server instantiates. */
export const PATIENT_EXPORT_DEFINITION = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export';
export const BULK_DATA_CAPABILITY = 'http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data';

/** The CapabilityStatement of one simulated EHR, reflecting its current profile. */
export function buildCapabilityStatement(opts: {
  name: string;
  baseUrl: string;
  profile: EhrProfile;
  tokenUrl?: string;
  types: string[];
  /** `Patient/$export` is offered. */
  bulkExport?: boolean;
  /** R4 Subscriptions Backport topics offered (rest-hook). */
  subscriptionTopics?: string[];
}): CapabilityStatement {
  const { profile } = opts;
  const resource = opts.types
    .filter((t) => SEARCH_PARAMS[t])
    .map((type) => ({
      type: type as 'Patient',
      interaction: [{ code: 'read' as const }, { code: 'search-type' as const }],
      searchParam: [{ name: '_id', type: 'token' as const }, ...SEARCH_PARAMS[type]].map((p) => ({
        name: p.name,
        type: p.type,
        ...('expression' in p && { documentation: `Searches ${p.expression}` }),
        ...(PATIENT_OR_PARAMS.has(p.name) && { extension: [{ url: SEARCH_MULTIPLE_OR_URL, valueBoolean: profile.patientOrSearch }] }),
      })),
      ...(opts.bulkExport && type === 'Patient' && { operation: [{ name: 'export', definition: PATIENT_EXPORT_DEFINITION }] }),
    }));
  if (opts.subscriptionTopics?.length) {
    resource.push({
      type: 'Subscription' as 'Patient',
      interaction: [{ code: 'create' as 'read' }, { code: 'delete' as 'read' }],
      searchParam: [],
      extension: opts.subscriptionTopics.map((t) => ({ url: BACKPORT_TOPIC_CANONICAL_URL, valueCanonical: t })),
      supportedProfile: [BACKPORT_SUBSCRIPTION_PROFILE],
    } as unknown as (typeof resource)[number]);
  }
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2025-01-01',
    kind: 'instance',
    ...(opts.bulkExport && { instantiates: [BULK_DATA_CAPABILITY] }),
    software: { name: `chartgraph sandbox EHR (${opts.name})`, version: '1.0.0' },
    implementation: { description: opts.name, url: opts.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        ...(profile.batch && { interaction: [{ code: 'batch' as const }] }),
        extension: [
          { url: MAX_COUNT_URL, valueInteger: profile.maxCount },
          { url: POST_SEARCH_URL, valueBoolean: profile.postSearch },
        ],
        ...(profile.requireAuth &&
          opts.tokenUrl && {
            security: {
              service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
              extension: [{ url: OAUTH_URIS_URL, extension: [{ url: 'token', valueUri: opts.tokenUrl }] }],
            },
          }),
        resource,
      },
    ],
  };
}
