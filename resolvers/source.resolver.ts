import { Ctx, Query, Resolver } from 'type-graphql';
import { Source, SourceStatus } from '../schema/source.type.js';
import type { RequestContext } from './context.js';

@Resolver(() => Source)
export class SourceResolver {
  @Query(() => [Source], { description: 'Every configured upstream with its health and, for FHIR sources, its capabilities.' })
  async sources(@Ctx() ctx: RequestContext): Promise<Source[]> {
    const { config, clients, health } = ctx.services;
    return Promise.all(
      config.sources.map(async (s) => {
        const client = clients.get(s.id);
        const capabilities = client ? await client.getCapabilities() : null;
        const seen = health.status(s.id);
        return {
          id: s.id,
          name: s.name ?? s.id,
          kind: s.kind,
          status: SourceStatus[seen.status],
          lastCheckedAt: seen.at?.toISOString() ?? null,
          capabilities: capabilities && {
            fhirVersion: capabilities.fhirVersion ?? null,
            software: capabilities.software ?? null,
            patientOrSearch: capabilities.patientOrSearch,
            postSearch: capabilities.postSearch,
            maxCount: capabilities.maxCount,
          },
        };
      }),
    );
  }
}
