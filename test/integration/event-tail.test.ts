import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EventStore, EVENTS_CHANNEL, type EventInput } from '../../datasources/events/event-store.js';
import { EventTail, SlowSubscriberError } from '../../datasources/events/event-tail.js';
import { testDatabaseKinds, withDatabases } from '../helpers/databases.js';

let n = 0;
function event(): EventInput {
  n++;
  const id = `evt_${String(n).padStart(32, '0')}`;
  return {
    id,
    type: 'NEW_CONDITION',
    occurredAt: new Date(Date.UTC(2026, 10, 30, 8, n)),
    detectedAt: new Date(),
    abnormal: null,
    record: { sourceId: 'stjude', resourceType: 'Condition', resourceId: `c${n}`, sourcePatientId: 'p1', versionId: '1', body: { resourceType: 'Condition', id: `c${n}` }, fetchedAt: new Date() },
  };
}

describe('event tail', () => {
  withDatabases(testDatabaseKinds(), (ctx) => {
    const logger = pino({ level: 'silent' });

    it('stores an event once whichever source repeats it, in seq order', async () => {
      const store = new EventStore(ctx.db.prisma);
      const e = event();
      expect(await store.writeBatch({ sourceId: 'stjude', resourceType: 'Condition', events: [e], states: [], cursor: null })).toEqual([e.id]);
      const again = { ...e, record: { ...e.record, sourceId: 'mercy', resourceId: 'm1' } };
      expect(await store.writeBatch({ sourceId: 'mercy', resourceType: 'Condition', events: [again], states: [], cursor: null })).toEqual([]);
      const [stored] = await store.list({ afterSeq: (await store.seqOf(e.id))! - 1n, limit: 10 });
      expect(stored.id).toBe(e.id);
      expect(stored.records.map((r) => r.sourceId).sort()).toEqual(['mercy', 'stjude']);
    });

    it('drops a subscriber whose queue overflows, and frees one that closes while it waits', async () => {
      const store = new EventStore(ctx.db.prisma);
      const tail = new EventTail(store, { channel: EVENTS_CHANNEL, checkIntervalMs: 60_000, logger });
      const slow = tail.subscribe({ types: new Set(['NEW_CONDITION']), maxQueue: 2 });
      const first = slow.next();
      await new Promise((r) => setTimeout(r, 200));
      await store.writeBatch({ sourceId: 'stjude', resourceType: 'Condition', events: [event()], states: [], cursor: null });
      tail.poke();
      expect((await first).done).toBe(false);
      // Nobody reads: the third queued event overflows the queue of 2.
      for (let i = 0; i < 3; i++) await store.writeBatch({ sourceId: 'stjude', resourceType: 'Condition', events: [event()], states: [], cursor: null });
      tail.poke();
      await new Promise((r) => setTimeout(r, 300));
      expect(tail.size).toBe(0);
      await expect(slow.next()).rejects.toBeInstanceOf(SlowSubscriberError);

      const idle = tail.subscribe({ types: new Set(['NEW_CONDITION']), maxQueue: 10 });
      const waiting = idle.next();
      await new Promise((r) => setTimeout(r, 200));
      expect(tail.size).toBe(1);
      await idle.return!();
      expect(await waiting).toEqual({ done: true, value: undefined });
      expect(tail.size).toBe(0);
      await tail.close();
    });
  });
});
