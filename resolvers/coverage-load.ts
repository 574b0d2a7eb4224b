import type { Coverage as FhirCoverage } from '@medplum/fhirtypes';
import type { GraphQLResolveInfo } from 'graphql';
import { eligibilitySources, type EligibilitySourceConfig } from '../config/config.schema.js';
import { findPayerFor, memberIdOf, relationshipOf } from '../datasources/payer/payer-match.js';
import { UpstreamError } from '../errors/errors.js';
import type { Provenance } from '../schema/common.types.js';
import type { Coverage } from '../schema/coverage.types.js';
import type { RequestContext } from './context.js';
import { mapConcept, mapPeriod } from './fhir-mapping.js';
import { pathOf } from './partial-errors.js';
import type { PatientView } from './patient-view.js';

/** A patient's coverage as the graph shows it, with the FHIR resource and matched payer behind it. */
export interface LoadedCoverage {
  view: Coverage;
  resource: FhirCoverage;
  payer: EligibilitySourceConfig | undefined;
}

function mapCoverage(r: FhirCoverage, payer: EligibilitySourceConfig | undefined, ctx: RequestContext): Omit<Coverage, 'id' | 'provenance'> {
  return {
    status: r.status ?? null,
    type: mapConcept(r.type),
    memberId: memberIdOf(r) ?? null,
    subscriberId: r.subscriberId ?? null,
    relationship: r.relationship ? relationshipOf(r) : null,
    payors: (r.payor ?? []).map((p) => ({ display: p.display ?? null, identifier: p.identifier?.value ?? null, reference: p.reference ?? null })),
    classes: (r.class ?? []).map((c) => ({ type: c.type?.coding?.[0]?.code ?? c.type?.text ?? null, value: c.value ?? null, name: c.name ?? null })),
    period: mapPeriod(r.period),
    order: r.order ?? null,
    network: r.network ?? null,
    eligibilitySource: payer ? ctx.services.sourceRef(payer.id) : null,
  };
}

/** Two sources hold the same policy when payer and member id agree. */
function identityOf(r: FhirCoverage, sourceId: string): string {
  const memberId = memberIdOf(r);
  const payor = r.payor?.[0];
  const payer = (payor?.identifier?.value ?? payor?.display ?? '').trim().toLowerCase();
  return memberId ? JSON.stringify([payer, memberId.trim().toUpperCase()]) : `${sourceId}/${r.id ?? ''}`;
}

/**
 * Every Coverage of the patient from every linked EHR (one batched search per source,
 * shared with every other patient of the request), the same policy from two sources
 * merged into one with both provenances. Primary first (`order`), then active, then newest.
 * A failing source costs only its coverages and is reported as a partial error at `info`'s path.
 */
export async function loadPatientCoverages(ctx: RequestContext, patient: PatientView, info: GraphQLResolveInfo): Promise<LoadedCoverage[]> {
  const payers = eligibilitySources(ctx.services.config);
  const perRecord = await Promise.all(
    patient.records.map(async (record) => {
      try {
        const result = await ctx.loaders.resources(record.sourceId, 'Coverage').load(record.sourcePatientId);
        for (const problem of result.problems ?? []) ctx.partialErrors.add(problem, pathOf(info.path));
        return { record, result };
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        ctx.partialErrors.add(err, pathOf(info.path));
        return null;
      }
    }),
  );
  const merged = new Map<string, LoadedCoverage>();
  for (const entry of perRecord) {
    if (!entry) continue;
    const { record, result } = entry;
    for (const resource of result.resources) {
      if (resource.resourceType !== 'Coverage') continue;
      const provenance: Provenance = {
        source: ctx.services.sourceRef(record.sourceId),
        sourceResourceId: resource.id ?? '',
        fetchedAt: result.fetchedAt.toISOString(),
        stale: result.stale,
      };
      const key = identityOf(resource, record.sourceId);
      const seen = merged.get(key);
      if (seen) {
        seen.view.provenance.push(provenance);
        continue;
      }
      const payer = findPayerFor(payers, resource);
      merged.set(key, {
        view: { ...mapCoverage(resource, payer, ctx), id: `${record.sourceId}/Coverage/${resource.id ?? ''}`, provenance: [provenance] },
        resource,
        payer,
      });
    }
  }
  return [...merged.values()].sort(compareCoverage);
}

function compareCoverage(a: LoadedCoverage, b: LoadedCoverage): number {
  const order = (c: LoadedCoverage) => c.view.order ?? Number.MAX_SAFE_INTEGER;
  if (order(a) !== order(b)) return order(a) - order(b);
  const active = (c: LoadedCoverage) => (c.view.status === 'active' ? 0 : 1);
  if (active(a) !== active(b)) return active(a) - active(b);
  const start = (c: LoadedCoverage) => c.view.period?.start ?? '';
  if (start(a) !== start(b)) return start(a) < start(b) ? 1 : -1;
  return a.view.id < b.view.id ? -1 : a.view.id > b.view.id ? 1 : 0;
}
