import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { fhirSources, type ChartgraphConfig } from '../config/config.schema.js';
import type { Database } from '../datasources/cache/database.js';
import type { PatientIndex } from '../datasources/cache/patient-index.js';
import type { EventFeed } from '../datasources/events/event-feed.js';
import { SourcePoller, type PollReport } from '../datasources/events/event-poller.js';
import { EVENTS_CHANNEL, EventStore, WAKE_CHANNEL } from '../datasources/events/event-store.js';
import { EventTail, type Listen } from '../datasources/events/event-tail.js';
import { pgListen } from '../datasources/events/pg-listen.js';
import { SourceSubscriptions } from '../datasources/events/fhir-subscriptions.js';
import type { FhirClient } from '../datasources/fhir/fhir-client.js';

/** The running event feed of one gateway: the feed resolvers read, the pollers, FHIR Subscriptions. */
export interface RunningEventFeed {
  feed: EventFeed;
  /** One poller per FHIR source with events on (only the lease holder among replicas polls). */
  pollers: ReadonlyMap<string, SourcePoller>;
  /** FHIR Subscriptions created at sources (rest-hook notifications wake the pollers). */
  subscriptions: SourceSubscriptions;
  /** A notification for a source came (any replica may get it): the lease holder polls now. */
  wake(sourceId: string): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link startEventFeed}. */
export interface EventFeedOptions {
  config: ChartgraphConfig;
  database: Database;
  index: PatientIndex;
  clients: ReadonlyMap<string, FhirClient>;
  logger: Logger;
  /** Where the feed's counters go (the gateway's `/metrics`). */
  registry?: Registry;
  /** This replica's name in the poller lease table (default host, pid and a random part). */
  holder?: string;
}

/**
 * Starts the event feed: the table follower for subscriptions (notified through LISTEN/NOTIFY:
 * PGlite in-process, PostgreSQL across replicas) and, with `events.enabled`, one poller per
 * FHIR source plus FHIR Subscriptions where a source offers them.
 */
export async function startEventFeed(opts: EventFeedOptions): Promise<RunningEventFeed> {
  const { config, database, logger } = opts;
  const ev = config.events;
  const store = new EventStore(database.prisma);
  const listen: Listen | undefined = database.listen ?? (database.kind === 'postgresql' ? pgListen(config.cache.url, logger) : undefined);
  const tail = new EventTail(store, { listen, channel: EVENTS_CHANNEL, checkIntervalMs: ev.deliveryCheckMs, logger });
  const holder = opts.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  const polls = opts.registry
    ? new Counter({ name: 'chartgraph_event_polls_total', help: 'Event feed polls per source, resource type and outcome.', labelNames: ['source', 'resource_type', 'outcome'] as const, registers: [opts.registry] })
    : undefined;
  const detected = opts.registry
    ? new Counter({ name: 'chartgraph_events_detected_total', help: 'Events stored per source (before cross-source de-duplication).', labelNames: ['source'] as const, registers: [opts.registry] })
    : undefined;
  const unlinked = opts.registry
    ? new Counter({
        name: 'chartgraph_events_unlinked_total',
        help: 'Events skipped because their source patient is linked to no unified patient yet (index it with a lookup or `chartgraph sync`).',
        labelNames: ['source'] as const,
        registers: [opts.registry],
      })
    : undefined;
  const onPoll = (r: PollReport) => {
    polls?.inc({ source: r.sourceId, resource_type: r.resourceType, outcome: r.outcome });
    if (r.events) detected?.inc({ source: r.sourceId }, r.events);
    if (r.unlinked) unlinked?.inc({ source: r.sourceId }, r.unlinked);
  };

  const pollers = new Map<string, SourcePoller>();
  for (const source of fhirSources(config)) {
    if (!(source.events.enabled ?? ev.enabled)) continue;
    const client = opts.clients.get(source.id);
    if (!client) continue;
    pollers.set(
      source.id,
      new SourcePoller({
        client,
        store,
        index: opts.index,
        holder,
        logger,
        onPoll,
        schedule: {
          intervalMs: (source.events.pollSeconds ?? ev.pollSeconds) * 1000,
          overlapMs: ev.overlapSeconds * 1000,
          leaseMs: ev.leaseSeconds * 1000,
        },
      }),
    );
  }
  const subscriptions = new SourceSubscriptions({
    prisma: database.prisma,
    sources: fhirSources(config).filter((s) => pollers.has(s.id)),
    notificationBaseUrl: ev.notificationBaseUrl,
    logger,
    onActive: (sourceId) => pollers.get(sourceId)?.setInterval(ev.subscriptionPollSeconds * 1000),
  });

  // Every replica's poller is woken, not only the lease holder's: with the safety-net poll
  // far apart (subscriptionPollSeconds) the lease, renewed only by polls, has usually lapsed by
  // the time a notification comes, and then nobody holds it. Each woken poller claims the lease
  // first, so one of them polls; the others' claim is one refused UPDATE.
  const wakeLocal = (sourceId: string) => pollers.get(sourceId)?.wake();
  let unlistenWake: (() => Promise<void>) | undefined;
  if (pollers.size > 0) {
    if (listen) {
      unlistenWake = await listen(WAKE_CHANNEL, (payload) => wakeLocal(payload)).catch((err: unknown) => {
        logger.warn({ err }, 'event wake-up notifications unavailable; pollers keep their schedule');
        return undefined;
      });
    }
    for (const p of pollers.values()) p.start();
    // Not awaited: a source that is down at start must not hold the gateway up.
    void subscriptions.start();
  }

  return {
    feed: {
      store,
      tail,
      subscriberQueueSize: ev.subscriberQueueSize,
      maxSubscriptionsPerSubject: ev.maxSubscriptionsPerSubject,
      openBySubject: new Map(),
    },
    pollers,
    subscriptions,
    async wake(sourceId) {
      // Whichever replica holds the lease: tell them all (this one included) through NOTIFY.
      if (listen) await database.prisma.$executeRawUnsafe(`SELECT pg_notify('${WAKE_CHANNEL}', $1)`, sourceId);
      else wakeLocal(sourceId);
    },
    async close() {
      await Promise.all([...pollers.values()].map((p) => p.stop()));
      await unlistenWake?.().catch(() => undefined);
      await tail.close();
    },
  };
}
