import type { Logger } from 'pino';
import type { PatientEventType } from '../../events/event-types.js';
import type { EventStore, StoredEvent } from './event-store.js';

/** Hears NOTIFYs on a channel; returns a function that stops listening. */
export type Listen = (channel: string, onPayload: (payload: string) => void) => Promise<() => Promise<void>>;

/** What one subscriber wants. */
export interface TailSubscription {
  /** Resume after this seq (from the subscriber's last event id); undefined = from now on. */
  afterSeq?: bigint;
  /** Event types the subscriber may and wants to see. */
  types: ReadonlySet<PatientEventType>;
  /** Unified patients to watch; undefined = every patient. */
  unifiedIds?: ReadonlySet<string>;
  /** Events queued beyond this drop the subscriber (it may resume with its last id). */
  maxQueue: number;
  /** Told when the subscriber is dropped for being too slow. */
  onOverflow?: () => void;
}

/** Thrown into a subscriber's iterator when it fell too far behind. */
export class SlowSubscriberError extends Error {
  constructor() {
    super('Subscriber fell too far behind and was dropped; resubscribe with `after` set to the last event id received');
    this.name = 'SlowSubscriberError';
  }
}

const PAGE = 200;

interface Subscriber {
  want: TailSubscription;
  queue: StoredEvent[];
  lastSeq: bigint;
  wake: (() => void) | undefined;
  failed: Error | undefined;
  done: boolean;
}

/**
 * One replica's reader of the events table: it follows the table in seq order (woken by
 * NOTIFY from whichever replica stored an event, and by a slow timer in case a notification
 * was missed) and hands each event to the local subscribers whose filter matches. Every
 * subscriber thus gets every event once, in order, whichever replica detected it. Each
 * subscriber has a bounded queue: one that does not keep up is dropped, not buffered.
 */
export class EventTail {
  private readonly subscribers = new Set<Subscriber>();
  private seq: bigint | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private starting: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly store: EventStore,
    private readonly opts: { listen?: Listen; channel: string; checkIntervalMs: number; logger: Logger },
  ) {}

  /** Subscribers on this replica. */
  get size(): number {
    return this.subscribers.size;
  }

  /** Starts listening (once; subscribing starts it too). */
  start(): Promise<void> {
    this.starting ??= (async () => {
      this.seq = await this.store.lastSeq();
      if (this.opts.listen) {
        try {
          this.unlisten = await this.opts.listen(this.opts.channel, () => this.poke());
        } catch (err) {
          this.opts.logger.warn({ err }, 'event notifications unavailable; falling back to the timer');
        }
      }
      const tick = () => {
        this.timer = setTimeout(() => {
          this.poke();
          tick();
        }, this.opts.checkIntervalMs);
        this.timer.unref?.();
      };
      tick();
    })();
    return this.starting;
  }

  /** Reads what is new now (a notification came). */
  poke(): void {
    if (this.closed || this.seq === undefined) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.readNew()
      .catch((err: unknown) => this.opts.logger.warn({ err }, 'reading new events failed; retrying on the next notification'))
      .finally(() => {
        this.reading = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  private async readNew(): Promise<void> {
    for (;;) {
      if (this.subscribers.size === 0) {
        // Nobody listens here: just keep the position, without reading bodies.
        const last = await this.store.lastSeq();
        if (this.subscribers.size > 0) continue;
        this.seq = last;
        return;
      }
      const page = await this.store.list({ afterSeq: this.seq, limit: PAGE });
      for (const e of page) {
        this.seq = e.seq;
        for (const s of this.subscribers) this.offer(s, e);
      }
      if (page.length < PAGE) return;
    }
  }

  private offer(s: Subscriber, e: StoredEvent): void {
    if (s.done || s.failed || e.seq <= s.lastSeq) return;
    if (!matches(s.want, e)) return;
    if (s.queue.length >= s.want.maxQueue) {
      this.fail(s, new SlowSubscriberError());
      s.want.onOverflow?.();
      return;
    }
    s.queue.push(e);
    s.wake?.();
  }

  private fail(s: Subscriber, err: Error): void {
    s.failed = err;
    s.queue.length = 0;
    this.subscribers.delete(s);
    s.wake?.();
  }

  /**
   * The events for one subscriber, in seq order: first what it missed after `afterSeq` (read
   * from the table in pages), then live ones. It is registered before the catch-up read, so
   * nothing committed in between is lost; anything seen twice is skipped by seq. A plain
   * iterator rather than an async generator: `return()` must end a subscriber at once, even
   * while it waits for the next event (a generator would only see it at its next `yield`).
   */
  subscribe(want: TailSubscription): AsyncIterableIterator<StoredEvent> {
    const s: Subscriber = { want, queue: [], lastSeq: 0n, wake: undefined, failed: undefined, done: false };
    const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
    let started: Promise<void> | undefined;
    let replaying = want.afterSeq !== undefined;
    let replayAfter = want.afterSeq ?? 0n;
    let replayMore = true;
    const replay: StoredEvent[] = [];
    const finish = () => {
      s.done = true;
      this.subscribers.delete(s);
      s.wake?.();
    };
    const next = async (): Promise<IteratorResult<StoredEvent>> => {
      started ??= (async () => {
        await this.start();
        s.lastSeq = want.afterSeq ?? this.seq ?? 0n;
        if (!s.done) this.subscribers.add(s);
      })();
      await started;
      for (;;) {
        if (s.failed) {
          const err = s.failed;
          s.failed = undefined;
          finish();
          throw err;
        }
        if (s.done || this.closed) return DONE;
        if (replaying) {
          if (replay.length === 0 && replayMore) {
            const page = await this.store.list({
              afterSeq: replayAfter,
              limit: PAGE,
              types: [...want.types],
              ...(want.unifiedIds && { unifiedIds: [...want.unifiedIds] }),
            });
            for (const e of page) {
              replayAfter = e.seq;
              if (matches(want, e)) replay.push(e);
            }
            replayMore = page.length === PAGE;
          }
          const e = replay.shift();
          if (e) {
            if (e.seq > s.lastSeq) s.lastSeq = e.seq;
            return { done: false, value: e };
          }
          if (!replayMore) {
            replaying = false;
            if (replayAfter > s.lastSeq) s.lastSeq = replayAfter;
          }
          continue;
        }
        const e = s.queue.shift();
        if (e) {
          if (e.seq <= s.lastSeq) continue;
          s.lastSeq = e.seq;
          return { done: false, value: e };
        }
        await new Promise<void>((resolve) => (s.wake = resolve));
        s.wake = undefined;
      }
    };
    return {
      next,
      async return() {
        finish();
        return DONE;
      },
      async throw(err: unknown) {
        finish();
        throw err;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** Ends every subscription and stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    for (const s of this.subscribers) {
      s.done = true;
      s.wake?.();
    }
    this.subscribers.clear();
    await this.reading?.catch(() => undefined);
    await this.unlisten?.().catch(() => undefined);
  }
}

function matches(want: TailSubscription, e: StoredEvent): boolean {
  if (!want.types.has(e.type)) return false;
  if (want.unifiedIds && (!e.unifiedId || !want.unifiedIds.has(e.unifiedId))) return false;
  return true;
}
