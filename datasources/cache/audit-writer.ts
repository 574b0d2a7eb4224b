import type { AuditRecord } from './audit-store.js';

/** Where events go when the database cannot take them (an {@link AuditSpool}). */
export interface AuditFallback {
  append(records: readonly AuditRecord[]): Promise<void>;
  replay(sink: AuditSink): Promise<number>;
}

/** Where batches go (an {@link AuditStore} in the gateway). */
export interface AuditSink {
  insertMany(records: readonly AuditRecord[]): Promise<void>;
}

/** Options of {@link BufferedAuditWriter}. */
export interface AuditWriterOptions {
  /** Flush when this many events wait. Default 200. */
  batchSize?: number;
  /** Flush waiting events at least this often, ms. Default 500. */
  flushIntervalMs?: number;
  /** Events held while the database fails; past this the oldest are dropped (and counted). Default 100 000. */
  maxBuffered?: number;
  /** Told of failed flushes and dropped events (no event content: it names patients). */
  onError?: (err: unknown, info: { pending: number; dropped: number }) => void;
  /**
   * A local spool: a batch the database refuses is appended there (durably) instead of
   * waiting in memory, and replayed by {@link BufferedAuditWriter.replaySpool}.
   */
  spool?: AuditFallback;
  /** False while the database is known to be down: batches go straight to the spool. */
  sinkAvailable?: () => boolean;
  /** Told when a batch went to the spool (once per batch; counts only). */
  onSpooled?: (info: { spooled: number }) => void;
}

/**
 * Writes audit events off the request's critical path: `record` only queues; batches go to
 * the database every `flushIntervalMs` or every `batchSize` events, one at a time, in
 * arrival order. A failed batch goes to the spool when there is one (a local file, so an
 * outage of the database loses nothing), else stays queued and is tried again on the next
 * tick. `close` waits for everything queued, so a graceful shutdown loses nothing.
 */
export class BufferedAuditWriter {
  private queue: AuditRecord[] = [];
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private dropped = 0;
  private readonly batchSize: number;
  private readonly maxBuffered: number;

  constructor(
    private readonly sink: AuditSink,
    private readonly opts: AuditWriterOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 200;
    this.maxBuffered = opts.maxBuffered ?? 100_000;
    this.timer = setInterval(() => void this.flush().catch(() => undefined), opts.flushIntervalMs ?? 500);
    this.timer.unref();
  }

  /** Queues one event. Never waits and never throws. */
  record(event: AuditRecord): void {
    this.queue.push(event);
    if (this.queue.length > this.maxBuffered) {
      const over = this.queue.length - this.maxBuffered;
      this.queue.splice(0, over);
      this.dropped += over;
      this.opts.onError?.(new Error('audit buffer full'), { pending: this.queue.length, dropped: this.dropped });
    }
    if (this.queue.length >= this.batchSize) void this.flush().catch(() => undefined);
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.queue.length;
  }

  /** Writes every queued event (in batches); resolves when they are stored, rejects if a batch fails. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    if (this.queue.length === 0) return;
    this.flushing = this.drain();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // Taken out before the write: events dropped from a full queue meanwhile must not
      // shift which ones this batch removes. A failed batch goes back to the front.
      const batch = this.queue.splice(0, this.batchSize);
      try {
        if (this.opts.spool && this.opts.sinkAvailable?.() === false) await this.toSpool(batch);
        else await this.sink.insertMany(batch).catch((err: unknown) => (this.opts.spool ? this.toSpool(batch) : Promise.reject(err)));
      } catch (err) {
        this.queue.unshift(...batch);
        this.opts.onError?.(err, { pending: this.queue.length, dropped: this.dropped });
        throw err;
      }
    }
  }

  private async toSpool(batch: AuditRecord[]): Promise<void> {
    await this.opts.spool!.append(batch);
    this.opts.onSpooled?.({ spooled: batch.length });
  }

  /** Moves spooled events into the database (when it is back); returns how many. Never runs twice at once. */
  async replaySpool(): Promise<number> {
    if (!this.opts.spool) return 0;
    this.replaying ??= this.opts.spool.replay(this.sink).finally(() => (this.replaying = null));
    return this.replaying;
  }

  private replaying: Promise<number> | null = null;

  /** Stops the timer and writes what is left, trying a few times if the database hiccups. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.flush();
        return;
      } catch (err) {
        if (attempt >= 2) throw err;
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      }
    }
  }
}
