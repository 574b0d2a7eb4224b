import type { DatabaseKind } from '../datasources/cache/database.js';
import type { PrismaClient } from '../datasources/cache/generated/client.js';
import { CohortStore, type CohortDeadline, type CohortDimensionKey, type CohortFilter } from '../datasources/population/cohort-store.js';
import { PopulationStore } from '../datasources/population/population-store.js';
import { suppressSmallCells, type PublishedCell } from './suppression.js';

/** How current a cohort's answer is. */
export interface CohortFreshness {
  asOf: Date;
  /** The oldest time the synced sources' facts are current to (their last complete fill, or a type behind it); null when none was ever filled. */
  oldestFetchedAt: Date | null;
  /** Configured FHIR sources never filled completely: their patients may be missing. */
  sourcesNotSynced: string[];
  /** Sources whose sync runs now. */
  sourcesSyncing: string[];
  /**
   * Types of synced sources that are behind their source's last sync: the source would not
   * list their changes, so only lists older than the type's cache TTL were fetched again.
   */
  typesNotCurrent: { sourceId: string; resourceType: string; currentTo: Date }[];
}

/** Options of the cohort service. */
export interface CohortServiceOptions {
  /** Cells under this count are suppressed for de-identified callers (`analytics.suppressionThreshold`). */
  suppressionThreshold: number;
  /** The configured FHIR source ids. */
  sourceIds: readonly string[];
  /** The engine behind `prisma`: PostgreSQL statements get a statement timeout from the request's deadline. */
  databaseKind?: DatabaseKind;
  now?: () => Date;
}

/**
 * One cohort of one request: members read once and shared by `totalCount`, the page and
 * every breakdown of the request.
 */
export class Cohort {
  private membersOnce?: Promise<string[]>;

  constructor(
    private readonly service: CohortService,
    readonly filter: CohortFilter,
    /** De-identified caller: small counts suppressed. */
    readonly suppress: boolean,
    /** The request's deadline: no statement of this cohort runs past it. */
    private readonly deadline?: CohortDeadline,
  ) {}

  /** Every unified id of the cohort, in id order. */
  members(): Promise<string[]> {
    return (this.membersOnce ??= this.service.store.members(this.filter, this.deadline));
  }

  /** The count as the caller may see it: null for a de-identified caller under the threshold. */
  async totalCount(): Promise<number | null> {
    const n = (await this.members()).length;
    return this.suppress && n < this.service.threshold ? null : n;
  }

  /** True when the caller may not see who is in it (a de-identified caller, a cohort under the threshold). */
  async hidden(): Promise<boolean> {
    return (await this.totalCount()) === null;
  }

  /** Cells by these dimensions; exact for identified callers, suppressed (with complementary cells) otherwise. */
  async breakdown(by: readonly CohortDimensionKey[]): Promise<PublishedCell[]> {
    const groups = await this.service.store.breakdown(this.filter, by, this.service.now(), this.deadline);
    if (!this.suppress) return groups.map((g) => ({ keys: g.keys, count: g.count, suppressed: false }));
    return suppressSmallCells(groups, this.service.threshold);
  }
}

/**
 * Cohorts from the population store: who matches (facts joined to unified patients through
 * the patient index), breakdowns, and how current the store is.
 */
export class CohortService {
  readonly store: CohortStore;
  private readonly population: PopulationStore;
  readonly threshold: number;
  readonly now: () => Date;
  /** The configured FHIR source ids. */
  readonly sourceIds: readonly string[];

  constructor(
    prisma: PrismaClient,
    private readonly opts: CohortServiceOptions,
  ) {
    this.store = new CohortStore(prisma, opts.databaseKind);
    this.population = new PopulationStore(prisma);
    this.threshold = opts.suppressionThreshold;
    this.now = opts.now ?? (() => new Date());
    this.sourceIds = opts.sourceIds;
  }

  /** A cohort for one request. */
  cohort(filter: CohortFilter, opts: { suppress: boolean; deadline?: CohortDeadline }): Cohort {
    return new Cohort(this, filter, opts.suppress, opts.deadline);
  }

  /** How current cohorts are: per-source fill times and what is still missing. */
  async freshness(): Promise<CohortFreshness> {
    const [states, syncing, types] = await Promise.all([this.population.sourceStates(), this.population.sourcesSyncing(), this.population.typeStates()]);
    const configured = new Set(this.opts.sourceIds);
    const synced = states.filter((s) => configured.has(s.sourceId));
    const syncedAt = new Map(synced.map((s) => [s.sourceId, s.syncedAt.getTime()]));
    const behind = types.filter((t) => syncedAt.has(t.sourceId) && t.currentTo.getTime() < syncedAt.get(t.sourceId)!);
    const times = [...syncedAt.values(), ...behind.map((t) => t.currentTo.getTime())];
    return {
      asOf: this.now(),
      oldestFetchedAt: times.length > 0 ? new Date(Math.min(...times)) : null,
      sourcesNotSynced: this.opts.sourceIds.filter((id) => !synced.some((s) => s.sourceId === id)),
      sourcesSyncing: syncing.filter((id) => configured.has(id)),
      typesNotCurrent: behind.map((t) => ({ sourceId: t.sourceId, resourceType: t.resourceType, currentTo: t.currentTo })),
    };
  }
}
