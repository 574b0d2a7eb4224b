import { Ctx, Query, Resolver } from 'type-graphql';
import { BreakerState, CapabilityOrigin, Source, SourceStatus } from '../schema/source.type.js';

const BREAKER = { closed: BreakerState.CLOSED, open: BreakerState.OPEN, 'half-open': BreakerState.HALF_OPEN } as const;
import type { RequestContext } from './context.js';

@Resolver(() => Source)
export class SourceResolver {
  @Query(() => [Source], { description: 'Every configured upstream with its health and, for FHIR sources, its capabilities.' })
  async sources(@Ctx() ctx: RequestContext): Promise<Source[]> {
    const { config, clients, health } = ctx.services;
    return Promise.all(
      config.sources.map(async (s) => {
        const client = clients.get(s.id);
        const capabilities = client ? await client.getCapabilities(ctx.budget.signal).catch(() => null) : null;
        const seen = health.status(s.id);
        return {
          id: s.id,
          name: s.name ?? s.id,
          kind: s.kind,
          // An open breaker means the source is failing, whatever the last call said.
          status: client?.breakerState === 'open' ? SourceStatus.DOWN : SourceStatus[seen.status],
          breaker: client ? BREAKER[client.breakerState] : null,
          lastCheckedAt: seen.at?.toISOString() ?? null,
          capabilities: capabilities && {
            fhirVersion: capabilities.fhirVersion ?? null,
            software: capabilities.software ?? null,
            patientOrSearch: capabilities.patientOrSearch,
            postSearch: capabilities.postSearch,
            maxCount: capabilities.maxCount,
            batch: capabilities.batch,
            origins: {
              patientOrSearch: CapabilityOrigin[capabilities.origins.patientOrSearch],
              postSearch: CapabilityOrigin[capabilities.origins.postSearch],
              maxCount: CapabilityOrigin[capabilities.origins.maxCount],
              batch: CapabilityOrigin[capabilities.origins.batch],
            },
            concurrencyLimit: client!.concurrencyLimit,
          },
        };
      }),
    );
  }
}
