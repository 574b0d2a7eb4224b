import { hasRole } from './rules.js';

// Cache administration is an admin task: it changes what every user is served next.
export const cacheAdminPermissions = {
  Mutation: { invalidateCache: hasRole('admin') },
  CacheInvalidation: hasRole('admin'),
};
