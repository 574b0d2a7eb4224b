import type { FhirSourceConfig } from '../../config/config.schema.js';
import { CLINICAL_TYPES, type CapabilityOrigin, type CapabilityOrigins, type SourceCapabilities } from './fhir-types.js';
import { isObject } from './upstream-http.js';
import { patientSearchParam } from './patient-params.js';

/** searchParam extension: valueBoolean true when the parameter accepts comma-separated OR lists of patients. */
export const SEARCH_MULTIPLE_OR_URL = 'https://chartgraph.dev/fhir/StructureDefinition/search-multiple-or';
/** rest extension: the largest `_count` the server honours (valueInteger, valuePositiveInt or valueUnsignedInt). */
export const MAX_COUNT_URL = 'https://chartgraph.dev/fhir/StructureDefinition/max-count';

const ALL_DEFAULT: CapabilityOrigins = { patientOrSearch: 'DEFAULT', postSearch: 'DEFAULT', maxCount: 'DEFAULT', batch: 'DEFAULT' };

/**
 * What a source can do when its /metadata cannot be read: no OR lists, no POST search, no
 * batch, `_count` = the configured page size, all marked DEFAULT (so probes may learn
 * better). Config overrides still apply.
 */
export function fallbackCapabilities(source: FhirSourceConfig): SourceCapabilities {
  return applyOverrides(source, {
    patientOrSearch: false,
    postSearch: false,
    maxCount: source.pageSize,
    batch: false,
    resourceTypes: [],
    origins: { ...ALL_DEFAULT },
  });
}

/** What a probe of the source itself found out; applied over /metadata, under config. */
export type LearnedCapabilities = Partial<Pick<SourceCapabilities, 'patientOrSearch' | 'maxCount' | 'batch'>>;

/**
 * Capabilities with what probes learned applied to every capability that /metadata was
 * silent on (origin DEFAULT); what config or /metadata said is never overridden by a probe.
 */
export function withLearned(caps: SourceCapabilities, learned: LearnedCapabilities): SourceCapabilities {
  const out: SourceCapabilities = { ...caps, origins: { ...caps.origins } };
  for (const key of ['patientOrSearch', 'maxCount', 'batch'] as const) {
    const value = learned[key];
    if (value === undefined || caps.origins[key] !== 'DEFAULT') continue;
    (out as unknown as Record<string, unknown>)[key] = value;
    out.origins[key] = 'PROBE';
  }
  return out;
}

/**
 * Reads SourceCapabilities from a CapabilityStatement. The readings, where FHIR R4 is silent:
 *
 * - `patientOrSearch`: true only when every chart resource type the server lists that has
 *   a patient search parameter (`beneficiary` for Coverage, `patient` for the others)
 *   carries the search-multiple-or extension with `valueBoolean: true` on it, and at
 *   least one does. One flag serves the whole source, so one type that does not promise
 *   OR makes it false; the Patient-level `_id` and `identifier` OR lists follow the same
 *   flag (a server that ORs patient references ORs tokens too, in practice).
 * - `postSearch`: R4 says servers that support `search-type` support both GET and POST,
 *   so it is true when every listed chart resource type declares the `search-type`
 *   interaction (and at least one is listed). Servers that break this are fixed in config.
 * - `maxCount`: the rest-level max-count extension, else the configured page size.
 * - `batch`: `rest.interaction` lists `batch` (FHIR R4 3.1.0.11).
 *
 * A capability the statement does not speak to (no search-multiple-or extension on any
 * patient parameter, no max-count, no `batch` interaction) keeps origin DEFAULT, which lets
 * the client probe the source for it (see `capability-probe.ts`).
 */
export function readCapabilities(source: FhirSourceConfig, statement: unknown): SourceCapabilities {
  const cs = isObject(statement) ? statement : {};
  const rests = Array.isArray(cs.rest) ? cs.rest.filter(isObject) : [];
  const rest = rests.find((r) => r.mode === 'server') ?? rests[0] ?? {};
  const resources = Array.isArray(rest.resource) ? rest.resource.filter(isObject) : [];
  const resourceTypes = resources.map((r) => r.type).filter((t): t is string => typeof t === 'string');
  const chart = resources.filter((r) => (CLINICAL_TYPES as readonly unknown[]).includes(r.type));

  const patientParams = chart
    .map((r) => {
      const name = patientSearchParam(String(r.type));
      return (Array.isArray(r.searchParam) ? r.searchParam.filter(isObject) : []).find((p) => p.name === name);
    })
    .filter((p): p is Record<string, unknown> => p !== undefined);
  const patientOrSearch = patientParams.length > 0 && patientParams.every((p) => extensionValue(p, SEARCH_MULTIPLE_OR_URL) === true);
  const orSaid = patientParams.some((p) => extensionValue(p, SEARCH_MULTIPLE_OR_URL) !== undefined);
  const interactions = Array.isArray(rest.interaction) ? rest.interaction.filter(isObject) : [];
  const batch = interactions.some((i) => i.code === 'batch');

  const postSearch =
    chart.length > 0 &&
    chart.every((r) => Array.isArray(r.interaction) && r.interaction.some((i) => isObject(i) && i.code === 'search-type'));

  const declaredMax = extensionValue(rest, MAX_COUNT_URL);
  const maxSaid = typeof declaredMax === 'number' && Number.isInteger(declaredMax) && declaredMax > 0;
  const maxCount = maxSaid ? (declaredMax as number) : source.pageSize;
  const said = (yes: boolean): CapabilityOrigin => (yes ? 'METADATA' : 'DEFAULT');

  const software = isObject(cs.software) && typeof cs.software.name === 'string'
    ? [cs.software.name, typeof cs.software.version === 'string' ? cs.software.version : undefined].filter(Boolean).join(' ')
    : undefined;

  return applyOverrides(source, {
    ...(typeof cs.fhirVersion === 'string' && { fhirVersion: cs.fhirVersion }),
    ...(software !== undefined && { software }),
    patientOrSearch,
    postSearch,
    maxCount,
    batch,
    resourceTypes,
    origins: { patientOrSearch: said(orSaid), postSearch: said(chart.length > 0), maxCount: said(maxSaid), batch: said(batch) },
  });
}

function applyOverrides(source: FhirSourceConfig, read: SourceCapabilities): SourceCapabilities {
  const o = source.capabilities;
  const origins = { ...read.origins };
  for (const key of ['patientOrSearch', 'postSearch', 'maxCount', 'batch'] as const) if (o[key] !== undefined) origins[key] = 'CONFIG';
  return {
    ...read,
    ...(o.patientOrSearch !== undefined && { patientOrSearch: o.patientOrSearch }),
    ...(o.postSearch !== undefined && { postSearch: o.postSearch }),
    ...(o.maxCount !== undefined && { maxCount: o.maxCount }),
    ...(o.batch !== undefined && { batch: o.batch }),
    origins,
  };
}

function extensionValue(element: Record<string, unknown>, url: string): unknown {
  const ext = Array.isArray(element.extension) ? element.extension.filter(isObject).find((e) => e.url === url) : undefined;
  if (!ext) return undefined;
  return ext.valueBoolean ?? ext.valueInteger ?? ext.valuePositiveInt ?? ext.valueUnsignedInt;
}
