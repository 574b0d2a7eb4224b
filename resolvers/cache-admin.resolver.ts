import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { BadUserInputError, NotFoundError } from '../errors/errors.js';
import { CacheInvalidation } from '../schema/cache-admin.types.js';
import type { RequestContext } from './context.js';

@Resolver()
export class CacheAdminResolver {
  @Mutation(() => CacheInvalidation, {
    description:
      'Admin: drop cached FHIR searches of one unified patient (every linked source record), of one source, or of one patient in one source.',
  })
  async invalidateCache(
    @Arg('patientId', () => ID, { nullable: true, description: 'Unified patient id.' }) patientId: string | null,
    @Arg('sourceId', () => ID, { nullable: true, description: 'Source id from the config.' }) sourceId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<CacheInvalidation> {
    const { searchCache, config, index } = ctx.services;
    if (!patientId && !sourceId) throw new BadUserInputError('give `patientId`, `sourceId` or both');
    if (sourceId && !config.sources.some((s) => s.id === sourceId)) throw new BadUserInputError(`no source "${sourceId}"`, { argument: 'sourceId' });
    if (!searchCache) return { searches: 0 };

    if (!patientId) return { searches: await searchCache.invalidate({ sourceId: sourceId! }) };
    const links = (await index.linksForUnified([patientId])).get(patientId) ?? [];
    if (links.length === 0) throw new NotFoundError('no such patient');
    let searches = 0;
    for (const link of links) {
      if (sourceId && link.sourceId !== sourceId) continue;
      searches += await searchCache.invalidate({ sourceId: link.sourceId, sourcePatientIds: [link.sourcePatientId] });
    }
    return { searches };
  }
}
