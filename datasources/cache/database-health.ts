import { AsyncLocalStorage } from 'node:async_hooks';

/** What {@link DatabaseHealth} logs (a pino logger fits). */
export interface HealthLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

// Codes and kinds of errors that mean "the database is not there", as pg, Prisma and
// Prisma's pg adapter report them, as opposed to a bad query.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up or shutting down)
  '08000',
  '08001',
  '08003',
  '08006',
  'P1001', // can't reach database server
  'P1002', // timed out
  'P1017', // server closed the connection
  'P2024', // timed out fetching a connection from the pool
]);
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const UNAVAILABLE_TEXT =
  /connection terminated|connection (is )?closed|can't reach database|terminating connection|server closed the connection|the database system is (starting up|shutting down)|connection refused|ECONNREFUSED|ECONNRESET|timeout exceeded when trying to connect/i;

/** Whether an error (or any cause under it) says the database cannot be reached, not that a query was wrong. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const stack: unknown[] = [error];
  while (stack.length > 0) {
    const e = stack.pop();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const o = e as { code?: unknown; kind?: unknown; message?: unknown; cause?: unknown; originalCode?: unknown; errors?: unknown };
    if (typeof o.code === 'string' && UNAVAILABLE_CODES.has(o.code)) return true;
    if (typeof o.originalCode === 'string' && UNAVAILABLE_CODES.has(o.originalCode)) return true;
    if (typeof o.kind === 'string' && UNAVAILABLE_KINDS.has(o.kind)) return true;
    if (typeof o.message === 'string' && UNAVAILABLE_TEXT.test(o.message)) return true;
    stack.push(o.cause);
    if (Array.isArray(o.errors)) stack.push(...o.errors);
  }
  return false;
}

/** One request's note that it had to do without the database (read by the response plugin). */
export interface DatabaseNotes {
  /** A database call of the request fell back, or failed for want of the database. */
  unavailable: boolean;
  /** {@link DatabaseHealth.outageCount} when the request started. */
  readonly outagesAtStart: number;
}

/** Options of {@link DatabaseHealth}. */
export interface DatabaseHealthOptions {
  /** One cheap query (`SELECT 1`); while the database is down it is tried every `probeIntervalMs`. */
  probe: () => Promise<unknown>;
  logger?: HealthLogger;
  /** Default 1000 ms. */
  probeIntervalMs?: number;
  /** Called once each time the database comes back (audit spool replay). */
  onRecover?: () => void | Promise<void>;
}

/**
 * Whether the cache database is reachable, as the last queries found it. The first failure
 * that means "unreachable" marks it down (logged once per outage, not per query); while
 * down, callers skip the database at once instead of waiting on connection attempts, and a
 * probe runs every second; its first success marks it up again (logged once) and runs
 * `onRecover`. Nothing restarts: the connection pool opens fresh connections by itself.
 */
export class DatabaseHealth {
  /**
   * The notes of the request on whose async path a database call runs. Entered only for
   * requests that start while the database is down, and switched off again once none is in
   * flight: on Node 20 an AsyncLocalStorage in use puts hooks on every promise of the
   * process, a tenth of the CPU of a cached query. A request that starts with the database
   * up learns of an outage from the outage count instead (see {@link missedDatabase}).
   */
  private readonly scope = new AsyncLocalStorage<DatabaseNotes>();
  private scoped = 0;
  private downSince: Date | null = null;
  private timer: NodeJS.Timeout | null = null;
  private probing = false;
  private outages = 0;
  private stopped = false;

  constructor(private readonly opts: DatabaseHealthOptions) {}

  /** True while the database is known to be unreachable. */
  get down(): boolean {
    return this.downSince !== null;
  }

  /** Outages seen since start (metrics, tests). */
  get outageCount(): number {
    return this.outages;
  }

  /** Notes that the current request had to do without the database. */
  noteUnavailable(): void {
    const notes = this.scoped > 0 ? this.scope.getStore() : undefined;
    if (notes) notes.unavailable = true;
  }

  /** Fresh notes for a request starting now. */
  notesForRequest(): DatabaseNotes {
    return { unavailable: false, outagesAtStart: this.outages };
  }

  /**
   * Runs one request's handling with `notes`. While the database is down, its calls note
   * their fallbacks there (through the async scope); while it is up, nothing is entered.
   */
  runRequest<T>(notes: DatabaseNotes, fn: () => T): T {
    if (!this.down) return fn();
    this.scoped++;
    const done = () => {
      // The last scoped request gone and the database back: the hooks go with the scope.
      if (--this.scoped === 0 && !this.down) this.scope.disable();
    };
    let result: T;
    try {
      result = this.scope.run(notes, fn);
    } catch (err) {
      done();
      throw err;
    }
    // Counted until the handling settles (its failure is the caller's to handle, not ours).
    Promise.resolve(result).then(done, done);
    return result;
  }

  /**
   * Whether a request had to do without the database: one of its calls noted it (it started
   * during an outage), or an outage began while it ran (it started with the database up, so
   * its calls were not watched; answered during the start of an outage, it may have missed
   * cached copies).
   */
  missedDatabase(notes: DatabaseNotes): boolean {
    return notes.unavailable || this.outages !== notes.outagesAtStart;
  }

  /** Reports a failed database call; returns whether it was an outage (vs. a query error). */
  reportFailure(error: unknown): boolean {
    if (!isDatabaseUnavailable(error)) return false;
    this.noteUnavailable();
    if (this.downSince || this.stopped) return true;
    this.downSince = new Date();
    this.outages++;
    this.opts.logger?.warn(
      { outage: this.outages },
      'cache database unreachable: answering from the sources, audit events spooled to disk; reconnecting in the background',
    );
    this.timer = setInterval(() => void this.probe(), this.opts.probeIntervalMs ?? 1_000);
    this.timer.unref();
    return true;
  }

  /**
   * Runs a database call that the request can do without: while the database is down, or
   * when the call fails for want of it, `fallback` is returned instead (and the request
   * notes it). Other errors propagate.
   */
  async guard<T>(work: () => Promise<T>, fallback: T): Promise<T> {
    if (this.down) {
      this.noteUnavailable();
      return fallback;
    }
    try {
      return await work();
    } catch (error) {
      if (this.reportFailure(error)) return fallback;
      throw error;
    }
  }

  /** Runs a database call the request cannot do without; an outage is reported and the error rethrown. */
  async required<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.reportFailure(error);
      throw error;
    }
  }

  private async probe(): Promise<void> {
    if (this.probing || !this.downSince) return;
    this.probing = true;
    try {
      await this.opts.probe();
      const ms = Date.now() - this.downSince.getTime();
      this.downSince = null;
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      if (this.scoped === 0) this.scope.disable();
      this.opts.logger?.info({ outage: this.outages, downMs: ms }, 'cache database reachable again');
      await Promise.resolve(this.opts.onRecover?.()).catch(() => undefined);
    } catch {
      // Still down: the next tick tries again.
    } finally {
      this.probing = false;
    }
  }

  /** Stops probing (shutdown). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
