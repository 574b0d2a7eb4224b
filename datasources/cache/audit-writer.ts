import type { AuditRecord } from './audit-store.js';

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
}

/**
 * Writes audit events off the request's critical path: `record` only queues; batches go to
 * the database every `flushIntervalMs` or every `batchSize` events, one at a time, in
 * arrival order. A failed batch stays queued and is tried again on the next tick. `close`
 * waits for everything queued, so a graceful shutdown loses nothing.
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
        await this.sink.insertMany(batch);
      } catch (err) {
        this.queue.unshift(...batch);
        this.opts.onError?.(err, { pending: this.queue.length, dropped: this.dropped });
        throw err;
      }
    }
  }

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
