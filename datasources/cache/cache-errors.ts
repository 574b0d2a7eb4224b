/** What went wrong with the cache database (start-up and migrations; not request-time errors). */
export type CacheErrorCode =
  | 'CACHE_URL_INVALID'
  | 'CACHE_UNREACHABLE'
  | 'CACHE_STARTUP_TIMEOUT'
  | 'MIGRATIONS_NOT_FOUND'
  | 'MIGRATION_CHECKSUM_MISMATCH'
  | 'MIGRATION_FAILED_EARLIER'
  | 'MIGRATION_FAILED';

/**
 * The cache database could not be opened or migrated. Messages name the database by
 * scheme, host, port and database name only (see `describeCacheUrl`): never a password.
 */
export class CacheDatabaseError extends Error {
  constructor(
    readonly code: CacheErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CacheDatabaseError';
  }
}

/**
 * A cache URL fit for logs and error messages: `postgresql://host:port/db` (user and
 * password dropped), `pglite:<dir>` as given.
 */
export function describeCacheUrl(url: string): string {
  if (url.startsWith('pglite:')) return url;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    // Unparseable: show the scheme only, the rest may hold a password.
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0];
    return scheme ? `${scheme}//<unparseable>` : '<unparseable cache URL>';
  }
}

/** Short, password-free text of a driver error, for messages that wrap it. */
export function describeCause(error: unknown, url?: string): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  let text = typeof e?.message === 'string' ? e.message : String(error);
  if (url && !url.startsWith('pglite:')) {
    try {
      const password = decodeURIComponent(new URL(url).password);
      if (password) text = text.split(password).join('***');
    } catch {
      /* not a URL: nothing to scrub */
    }
  }
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  return `${code}${text}`;
}
