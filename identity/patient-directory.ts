import DataLoader from 'dataloader';
import type { Patient } from '../datasources/fhir/fhir-types.js';
import { tokenParam } from '../datasources/fhir/search-params.js';
import type { LinkRow, PatientIndex } from '../datasources/cache/patient-index.js';
import type { Loaders } from '../datasources/loaders.js';
import { UpstreamError } from '../errors/errors.js';

/** One source's patient record inside a unified patient. */
export interface LinkedRecord {
  sourceId: string;
  sourcePatientId: string;
  matchMethod: string;
  matchScore: number | null;
  /** The source's Patient resource; null when the source could not be reached. */
  resource: Patient | null;
}

/** A unified patient: its stable id and every linked source record. */
export interface UnifiedPatient {
  id: string;
  records: LinkedRecord[];
}

/** A value plus the source failures met while producing it (reported as partial errors). */
export interface WithErrors<T> {
  value: T;
  errors: UpstreamError[];
}

export interface PatientDirectoryDeps {
  loaders: Loaders;
  index: PatientIndex;
  /** FHIR source ids in config order. */
  sourceIds: readonly string[];
  /** Identifier systems that name one person everywhere (SSN, enterprise ids). */
  strongIdentifierSystems: readonly string[];
}

interface Hit {
  sourceId: string;
  resource: Patient;
}

const keyOf = (sourceId: string, sourcePatientId: string) => `${sourceId}/${sourcePatientId}`;

/**
 * Finds people across sources and keeps the master patient index up to date. First form of
 * identity: records are linked only on shared strong identifiers, and only when the birth
 * dates agree (or one is missing); scored demographic matching comes later.
 * One directory per request: it rides on that request's loaders.
 */
export class PatientDirectory {
  constructor(private readonly deps: PatientDirectoryDeps) {}

  /** Unified patients by id, batched: one index query for all ids of a request. */
  readonly byId = new DataLoader<string, WithErrors<UnifiedPatient | null>>(async (ids) => {
    const links = await this.deps.index.linksForUnified(ids);
    return Promise.all(ids.map((id) => this.withResources(id, links.get(id) ?? [])));
  });

  /** The patient a source identifier names, found in every source and linked. Null if no source knows it. */
  async findByIdentifier(system: string, value: string): Promise<WithErrors<UnifiedPatient | null>> {
    const errors: UpstreamError[] = [];
    const hits = await this.searchEverySource(tokenParam(system, value), this.deps.sourceIds, errors);
    if (hits.length === 0) return { value: null, errors };
    return this.linkAndLoad(hits, errors);
  }

  /**
   * Resolves source hits (from any search) to unified patients: each hit is linked into the
   * index (with its matches in other sources) unless it already is. Order of first hit kept.
   */
  async resolveHits(hits: readonly Hit[]): Promise<WithErrors<UnifiedPatient[]>> {
    const errors: UpstreamError[] = [];
    const known = await this.deps.index.findLinks(hits.map((h) => ({ sourceId: h.sourceId, sourcePatientId: h.resource.id! })));
    const out = new Map<string, UnifiedPatient>();
    for (const hit of hits) {
      const link = known.get(keyOf(hit.sourceId, hit.resource.id!));
      const unifiedId = link?.unifiedId;
      if (unifiedId && out.has(unifiedId)) continue;
      const resolved = unifiedId ? await this.byId.load(unifiedId) : await this.linkAndLoad([hit], errors);
      errors.push(...resolved.errors);
      if (resolved.value && !out.has(resolved.value.id)) out.set(resolved.value.id, resolved.value);
    }
    return { value: [...out.values()], errors };
  }

  private async searchEverySource(token: string, sourceIds: readonly string[], errors: UpstreamError[]): Promise<Hit[]> {
    const perSource = await Promise.all(
      sourceIds.map((sourceId) =>
        this.deps.loaders
          .patientsByIdentifier(sourceId)
          .load(token)
          .then(
            (patients) => patients.map((resource) => ({ sourceId, resource })),
            (err: unknown) => {
              if (err instanceof UpstreamError) errors.push(err);
              else throw err;
              return [] as Hit[];
            },
          ),
      ),
    );
    // Two records in one source for one identifier is ambiguous; linking either could merge
    // two people, so such a source contributes nothing.
    return perSource.filter((hits) => hits.length === 1).flat();
  }

  /** Looks the hits' strong identifiers up in the sources that have no hit yet, then links all. */
  private async linkAndLoad(hits: Hit[], errors: UpstreamError[]): Promise<WithErrors<UnifiedPatient | null>> {
    const found = new Map(hits.map((h) => [h.sourceId, h]));
    const missing = this.deps.sourceIds.filter((id) => !found.has(id));
    for (const token of this.strongTokens(hits)) {
      const stillMissing = missing.filter((id) => !found.has(id));
      if (stillMissing.length === 0) break;
      for (const hit of await this.searchEverySource(token, stillMissing, errors)) {
        if (agreesOnBirthDate(hit.resource, hits[0]!.resource)) found.set(hit.sourceId, hit);
      }
    }
    const records = [...found.values()];
    const unifiedId = await this.deps.index.linkRecords(
      records.map((h) => ({ sourceId: h.sourceId, sourcePatientId: h.resource.id!, method: 'identifier' })),
    );
    const links = (await this.deps.index.linksForUnified([unifiedId])).get(unifiedId) ?? [];
    const resources = new Map(records.map((h) => [keyOf(h.sourceId, h.resource.id!), h.resource]));
    const loaded = await this.withResources(unifiedId, links, resources);
    return { value: loaded.value, errors: [...errors, ...loaded.errors] };
  }

  private strongTokens(hits: readonly Hit[]): string[] {
    const tokens = new Set<string>();
    for (const { resource } of hits) {
      for (const id of resource.identifier ?? []) {
        if (id.system && id.value && this.deps.strongIdentifierSystems.includes(id.system)) tokens.add(tokenParam(id.system, id.value));
      }
    }
    return [...tokens];
  }

  /** Fills in each link's Patient resource (from `known`, else the source), in link order. */
  private async withResources(
    unifiedId: string,
    links: readonly LinkRow[],
    known: ReadonlyMap<string, Patient> = new Map(),
  ): Promise<WithErrors<UnifiedPatient | null>> {
    if (links.length === 0) return { value: null, errors: [] };
    const errors: UpstreamError[] = [];
    const records = await Promise.all(
      links.map(async (link): Promise<LinkedRecord> => {
        let resource = known.get(keyOf(link.sourceId, link.sourcePatientId)) ?? null;
        if (!resource && this.deps.sourceIds.includes(link.sourceId)) {
          resource = await this.deps.loaders
            .patientById(link.sourceId)
            .load(link.sourcePatientId)
            .catch((err: unknown) => {
              if (err instanceof UpstreamError) errors.push(err);
              else throw err;
              return null;
            });
        }
        return { sourceId: link.sourceId, sourcePatientId: link.sourcePatientId, matchMethod: link.method, matchScore: link.score, resource };
      }),
    );
    return { value: { id: unifiedId, records }, errors };
  }
}

/** Same person only if birth dates agree where both sources give one. */
function agreesOnBirthDate(a: Patient, b: Patient): boolean {
  return !a.birthDate || !b.birthDate || a.birthDate === b.birthDate;
}
