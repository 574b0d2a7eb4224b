import type { ApolloServerPlugin } from '@apollo/server';
import type { DatabaseHealth } from '../../datasources/cache/database-health.js';
import { CacheUnavailableError } from '../../errors/errors.js';
import type { RequestContext } from '../../resolvers/context.js';

/** The non-fatal error of an answer given while the cache database was unreachable. */
export const CACHE_UNAVAILABLE_NOTICE =
  'The cache and patient index are unavailable (database unreachable): this answer comes from the sources alone, without cached copies';

/**
 * Apollo plugin: an answer the request had to give without the cache database (its caches
 * missed, its writes skipped) carries one CACHE_UNAVAILABLE error in `errors`, so a client
 * knows that stale copies and index-only data may be missing. Fields that could not be
 * answered at all carry their own CACHE_UNAVAILABLE error instead.
 */
export function databaseOutagePlugin(health: Pick<DatabaseHealth, 'missedDatabase'>): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          const notes = contextValue.databaseNotes;
          if (response.body.kind !== 'single' || !notes || !health.missedDatabase(notes)) return;
          const result = response.body.singleResult;
          if (result.errors?.some((e) => e.extensions?.code === 'CACHE_UNAVAILABLE')) return;
          const notice = new CacheUnavailableError(CACHE_UNAVAILABLE_NOTICE).toJSON();
          result.errors = [...(result.errors ?? []), notice];
        },
      };
    },
  };
}
