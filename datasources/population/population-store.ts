import type { FhirResource } from '../fhir/fhir-types.js';
import type { PrismaClient } from '../cache/generated/client.js';
import { extractFacts, FACT_TYPES } from './fact-extraction.js';

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
  async replaceFacts(sourceId: string, resourceType: string, lists: readonly PatientResourceList[]): Promise<number> {
    if (!PopulationStore.keeps(resourceType) || lists.length === 0) return 0;
    const rows = lists.flatMap((list) =>
      list.resources
        .filter((r) => r.resourceType === resourceType)
        .flatMap((r) => extractFacts(r).map((f) => ({ ...f, sourceId, sourcePatientId: list.sourcePatientId, fetchedAt: list.fetchedAt }))),
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

  /** Records a complete fill of one source, begun at `startedAt`. */
  async markSynced(sourceId: string, startedAt: Date, patients: number): Promise<void> {
    const data = { syncedAt: startedAt, patients };
    await this.prisma.populationSource.upsert({ where: { sourceId }, create: { sourceId, ...data }, update: data });
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
