import type { FhirResource } from '../fhir/fhir-types.js';
import type { PrismaClient } from '../cache/generated/client.js';
import { extractFacts, FACT_TYPES, type ExtractionContext } from './fact-extraction.js';

/** One patient's complete list of one resource type, as a per-patient search returned it. */
export interface PatientResourceList {
  sourcePatientId: string;
  resources: readonly FhirResource[];
  fetchedAt: Date;
}

/** Per source: when its facts were last filled completely. */
export interface PopulationSourceState {
  sourceId: string;
  syncedAt: Date;
  patients: number;
}

/**
 * How one resource type of a source was brought up to date by an incremental run:
 * `listed` (the source listed what changed: `_lastUpdated` or `$export` `_since`), or
 * `not-listed` (it refused; every known patient's list older than the type's cache TTL was
 * refetched, so the facts are current only to `currentTo`), or `filled` (no earlier complete
 * fill to count changes from: every known patient's list was read, fresh cached copies served).
 */
export interface PopulationTypeState {
  sourceId: string;
  resourceType: string;
  /** Every list the type's facts came from was fetched at or after this, or reflects every change before it. */
  currentTo: Date;
  changes: 'listed' | 'not-listed' | 'filled';
}

// Rows per INSERT: Postgres allows 65 535 bind parameters, a fact row takes 11.
const ROWS_PER_INSERT = 4000;
const FACT_TYPE_SET = new Set<string>(FACT_TYPES);

/**
 * The population store: `clinical_fact` rows extracted from the FHIR resources sync fetches,
 * and `population_source` (how current each source is). Facts are keyed by source patient,
 * never by unified id: cohorts join them to unified patients through `patient_link` when
 * they run, so merges and unlinks need no rewrite here.
 */
export class PopulationStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** True for the resource types whose facts are kept (the others are not worth a call). */
  static keeps(resourceType: string): boolean {
    return FACT_TYPE_SET.has(resourceType);
  }

  /**
   * Replaces the facts of these patients for one resource type with what their complete
   * lists hold (so a resource the source deleted leaves with its facts), in one transaction.
   */
  async replaceFacts(sourceId: string, resourceType: string, lists: readonly PatientResourceList[], context: ExtractionContext = {}): Promise<number> {
    if (!PopulationStore.keeps(resourceType) || lists.length === 0) return 0;
    const rows = lists.flatMap((list) =>
      list.resources
        .filter((r) => r.resourceType === resourceType)
        .flatMap((r) => extractFacts(r, context).map((f) => ({ ...f, sourceId, sourcePatientId: list.sourcePatientId, fetchedAt: list.fetchedAt }))),
    );
    const patientIds = [...new Set(lists.map((l) => l.sourcePatientId))];
    const writes = [];
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      writes.push(this.prisma.clinicalFact.createMany({ data: rows.slice(i, i + ROWS_PER_INSERT), skipDuplicates: true }));
    }
    await this.prisma.$transaction([
      this.prisma.clinicalFact.deleteMany({ where: { sourceId, resourceType, sourcePatientId: { in: patientIds } } }),
      ...writes,
    ]);
    return rows.length;
  }

  /**
   * Records a complete fill of one source, begun at `startedAt`, with how each type was
   * brought up to date (a full run that served cached copies is current only to the oldest).
   */
  async markSynced(sourceId: string, startedAt: Date, patients: number, types: readonly Omit<PopulationTypeState, 'sourceId'>[] = []): Promise<void> {
    const data = { syncedAt: startedAt, patients };
    await this.prisma.$transaction([
      this.prisma.populationSource.upsert({ where: { sourceId }, create: { sourceId, ...data }, update: data }),
      this.prisma.populationTypeState.deleteMany({ where: { sourceId } }),
      this.prisma.populationTypeState.createMany({ data: types.map((t) => ({ sourceId, resourceType: t.resourceType, currentTo: t.currentTo, changes: t.changes })) }),
    ]);
  }

  /** The state of one source's last complete fill, or null when it never had one. */
  async sourceState(sourceId: string): Promise<PopulationSourceState | null> {
    return this.prisma.populationSource.findUnique({ where: { sourceId } });
  }

  /** How each type of one source was brought up to date by its last complete fill. */
  async typeStatesOf(sourceId: string): Promise<PopulationTypeState[]> {
    const rows = await this.prisma.populationTypeState.findMany({ where: { sourceId }, orderBy: { resourceType: 'asc' } });
    return rows.map((r) => ({ ...r, changes: r.changes as PopulationTypeState['changes'] }));
  }

  /** How each type of each source was brought up to date by its last complete fill. */
  async typeStates(): Promise<PopulationTypeState[]> {
    const rows = await this.prisma.populationTypeState.findMany({ orderBy: [{ sourceId: 'asc' }, { resourceType: 'asc' }] });
    return rows.map((r) => ({ ...r, changes: r.changes as PopulationTypeState['changes'] }));
  }

  /** The state of every source that was ever filled completely. */
  async sourceStates(): Promise<PopulationSourceState[]> {
    return this.prisma.populationSource.findMany({ orderBy: { sourceId: 'asc' } });
  }

  /** Sources whose patient sync is running now (their facts are being filled). */
  async sourcesSyncing(): Promise<string[]> {
    const rows = await this.prisma.syncState.findMany({ where: { status: 'running' }, select: { sourceId: true }, orderBy: { sourceId: 'asc' } });
    return rows.map((r) => r.sourceId);
  }
}
