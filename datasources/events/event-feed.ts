import type { EventStore } from './event-store.js';
import type { EventTail } from './event-tail.js';

/** What resolvers need of the event feed (datasources/events builds it, server/ starts it). */
export interface EventFeed {
  store: EventStore;
  /** This replica's follower of the events table, for subscriptions. */
  tail: EventTail;
  /** Events a subscriber may have queued before it is dropped as too slow. */
  subscriberQueueSize: number;
  /** Open subscriptions one token subject may hold at once on this replica. */
  maxSubscriptionsPerSubject: number;
  /** Open subscriptions per subject on this replica (kept by the subscription resolver). */
  openBySubject: Map<string, number>;
}
