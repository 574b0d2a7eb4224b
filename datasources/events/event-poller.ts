import type { Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { detectEvents, type SeenResource } from '../../events/detect-events.js';
import { eventIdOf } from '../../events/event-key.js';
import { WATCHED_TYPE_NAMES, type WatchedType } from '../../events/event-types.js';
import type { PatientIndex } from '../cache/patient-index.js';
import type { FhirClient } from '../fhir/fhir-client.js';
import type { SearchParams } from '../fhir/fhir-types.js';
import type { EventInput, EventStore } from './event-store.js';

/** How one source is polled. */
export interface PollSchedule {
  /** Time between polls. */
  intervalMs: number;
  /** `_lastUpdated` is searched from this long before the cursor, for writes that commit late. */
  overlapMs: number;
  /** The poller lease lasts this long unless renewed. */
  leaseMs: number;
}

/** What one poll of one (source, type) did, for metrics. No patient data. */
export interface PollReport {
  sourceId: string;
  resourceType: string;
  outcome: 'ok' | 'error' | 'started';
  resources: number;
  events: number;
  /** Events not stored because the resource's patient is in no unified patient yet. */
  unlinked: number;
}

/** Options of {@link SourcePoller}. */
export interface SourcePollerOptions {
  client: FhirClient;
  store: EventStore;
  index: PatientIndex;
  schedule: PollSchedule;
  /** This replica's name in the lease table. */
  holder: string;
  logger: Logger;
  onPoll?: (report: PollReport) => void;
  now?: () => Date;
}

const PATIENT_REF = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/**
 * Polls one FHIR source for changes to the watched resource types: per type, one incremental
 * search `_lastUpdated=ge<cursor - overlap>` followed through its `next` links as given, then
 * detection against the versions seen before, then one transaction that stores the events,
 * the versions and the new cursor. Only the holder of the source's lease polls, so replicas
 * share the work without doing it twice; a replica that dies loses the lease when it expires.
 */
export class SourcePoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private holding = false;
  private leaseUntil = 0;
  private readonly now: () => Date;

  constructor(private opts: SourcePollerOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  get sourceId(): string {
    return this.opts.client.sourceId;
  }

  /** Whether this replica holds the lease now (claimed at its last try and not expired since). */
  get leaseHeld(): boolean {
    return this.holding && Date.now() < this.leaseUntil;
  }

  /** Changes the time between polls (a FHIR Subscription makes the poll a safety net). */
  setInterval(ms: number): void {
    this.opts.schedule = { ...this.opts.schedule, intervalMs: ms };
  }

  /** Starts polling at once, then every interval. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Polls as soon as the running poll (if any) ends: a FHIR Subscription notification came. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /** Runs one poll now (tests, and the schedule). Resolves when it is stored. */
  pollOnce(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.poll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Stops the schedule, waits for a running poll and gives the lease up (so another replica
   * takes over at once). `release: false` leaves the lease to expire, as a crash would (benchmarks).
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    if (this.holding && opts.release !== false) await this.opts.store.releaseLease(this.sourceId, this.opts.holder).catch(() => undefined);
    this.holding = false;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.pollOnce().finally(() => {
        if (this.stopped) return;
        const again = this.again;
        this.again = false;
        this.schedule(again ? 0 : this.opts.schedule.intervalMs);
      });
    }, ms);
    this.timer.unref?.();
  }

  private async poll(): Promise<void> {
    const { store, holder, schedule, logger } = this.opts;
    try {
      const asked = Date.now();
      this.holding = await store.claimLease(this.sourceId, holder, schedule.leaseMs);
      this.leaseUntil = asked + schedule.leaseMs;
    } catch (err) {
      this.holding = false;
      logger.warn({ err, source: this.sourceId }, 'event poller could not reach its lease');
      return;
    }
    if (!this.holding) return;
    const capabilities = await this.opts.client.getCapabilities();
    const offered = new Set(capabilities.resourceTypes);
    for (const type of WATCHED_TYPE_NAMES) {
      if (this.stopped) return;
      // A server that lists its types and leaves one out would answer 404 every time.
      if (offered.size > 0 && !offered.has(type)) continue;
      await this.pollType(type);
    }
  }

  private async pollType(type: WatchedType): Promise<void> {
    const { client, store, index, logger, schedule } = this.opts;
    const report: PollReport = { sourceId: this.sourceId, resourceType: type, outcome: 'ok', resources: 0, events: 0, unlinked: 0 };
    try {
      const cursor = await store.cursor(this.sourceId, type);
      if (!cursor) {
        // The first poll of a source starts from now: its history is not news.
        await store.setCursor(this.sourceId, type, this.now());
        this.opts.onPoll?.({ ...report, outcome: 'started' });
        return;
      }
      const from = new Date(cursor.getTime() - schedule.overlapMs);
      const params: Array<[string, string]> = [['_lastUpdated', `ge${from.toISOString()}`]];
      if (type === 'Observation') params.push(['category', 'laboratory']);
      const fetchedAt = this.now();
      const found = (await client.search(type, params as SearchParams)).filter((r): r is Resource & { id: string } => r.resourceType === type && !!r.id);
      report.resources = found.length;

      const seen = await store.seen(this.sourceId, type, found.map((r) => r.id));
      const patientOf = new Map<string, string>();
      for (const r of found) {
        const ref = (r as { subject?: { reference?: string } }).subject?.reference;
        const m = typeof ref === 'string' ? PATIENT_REF.exec(ref) : null;
        if (m) patientOf.set(r.id, m[1]);
      }
      const links = await index.findLinks([...new Set(patientOf.values())].map((sourcePatientId) => ({ sourceId: this.sourceId, sourcePatientId })));

      const events: EventInput[] = [];
      const states: Array<{ resourceId: string; seen: SeenResource }> = [];
      let next = cursor.getTime();
      for (const r of found) {
        const lastUpdated = Date.parse(r.meta?.lastUpdated ?? '');
        const sourcePatientId = patientOf.get(r.id);
        const detection = detectEvents(r, seen.get(r.id) ?? null);
        const unifiedId = sourcePatientId ? links.get(`${this.sourceId}/${sourcePatientId}`)?.unifiedId : undefined;
        if (detection.events.length > 0 && !unifiedId) {
          // Not remembered either: once the patient is linked (a lookup, `sync`), a later
          // version or an overlapping poll can still report it.
          report.unlinked += detection.events.length;
          continue;
        }
        if (!Number.isNaN(lastUpdated)) next = Math.max(next, lastUpdated);
        if (detection.seen) states.push({ resourceId: r.id, seen: detection.seen });
        for (const e of detection.events) {
          events.push({
            id: eventIdOf(unifiedId!, e),
            type: e.type,
            occurredAt: new Date(e.occurredAt),
            detectedAt: this.now(),
            abnormal: e.abnormal,
            record: {
              sourceId: this.sourceId,
              resourceType: type,
              resourceId: r.id,
              sourcePatientId: sourcePatientId!,
              versionId: r.meta?.versionId ?? null,
              body: r,
              fetchedAt,
            },
          });
        }
      }
      await store.writeBatch({ sourceId: this.sourceId, resourceType: type, events, states, cursor: new Date(next) });
      report.events = events.length;
    } catch (err) {
      report.outcome = 'error';
      logger.warn({ err, source: this.sourceId, resourceType: type }, 'event poll failed; the cursor stays where it was');
    }
    this.opts.onPoll?.(report);
  }
}
