import type { FhirResource } from '../fhir/fhir-types.js';
import type { Prisma, PrismaClient } from './generated/client.js';
import type { CachedSearch, SearchCache } from './search-cache.js';

/** Options of `PrismaSearchCache`. */
export interface PrismaSearchCacheOptions {
  /** Seconds a search result stays fresh, per FHIR resource type. */
  ttlSeconds: Readonly<Record<string, number>>;
  /** For types not in `ttlSeconds`. */
  defaultTtlSeconds: number;
  /** Clock; tests inject one. */
  now?: () => Date;
}

// Rows per statement: keeps each JSON parameter to a few MB.
const ROWS_PER_STATEMENT = 500;

const UPSERT_RESOURCES = `INSERT INTO "cached_resource"
  ("source_id", "resource_type", "resource_id", "source_patient_id", "body", "version_id", "last_updated", "fetched_at")
SELECT $1, r.t, r.id, r.pid, r.body, r.vid, r.lu, $2::timestamptz
FROM jsonb_to_recordset($3::jsonb) AS r(t text, id text, pid text, body jsonb, vid text, lu timestamptz)
ON CONFLICT ("source_id", "resource_type", "resource_id") DO UPDATE SET
  "source_patient_id" = EXCLUDED."source_patient_id",
  "body" = EXCLUDED."body",
  "version_id" = EXCLUDED."version_id",
  "last_updated" = EXCLUDED."last_updated",
  "fetched_at" = EXCLUDED."fetched_at"`;

const UPSERT_SEARCHES = `INSERT INTO "cached_search"
  ("source_id", "resource_type", "shape", "source_patient_id", "resource_ids", "fetched_at", "expires_at")
SELECT $1, $2, $3, r.pid, r.ids, $4::timestamptz, $5::timestamptz
FROM jsonb_to_recordset($6::jsonb) AS r(pid text, ids text[])
ON CONFLICT ("source_id", "resource_type", "shape", "source_patient_id") DO UPDATE SET
  "resource_ids" = EXCLUDED."resource_ids",
  "fetched_at" = EXCLUDED."fetched_at",
  "expires_at" = EXCLUDED."expires_at"`;

const SELECT_BODIES = `SELECT c."resource_type" AS t, c."resource_id" AS id, c."body" AS body
FROM jsonb_to_recordset($2::jsonb) AS k(t text, id text)
JOIN "cached_resource" c ON c."source_id" = $1 AND c."resource_type" = k.t AND c."resource_id" = k.id`;

/**
 * `SearchCache` over Prisma. A search result is stored as an ordered list of resource ids
 * plus one row per resource body; the list row is written in the same transaction as the
 * bodies, so a reader sees either the whole result or none of it.
 *
 * Resources of another type than the search's (`_include`d ones) are stored under their own
 * type and listed as `Type/id` (FHIR ids never contain `/`). A patient whose result holds a
 * resource without an id is not cached (it could not be read back).
 */
export class PrismaSearchCache implements SearchCache {
  private readonly now: () => Date;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: PrismaSearchCacheOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Complete cached results per patient, in stored order, with fetch and expiry times;
   * expired ones (marked stale) only with `includeStale`. One query for the searches, one
   * for the bodies.
   */
  async getMany(
    sourceId: string,
    resourceType: string,
    shape: string,
    patientIds: readonly string[],
    opts: { includeStale?: boolean } = {},
  ): Promise<Map<string, CachedSearch>> {
    const result = new Map<string, CachedSearch>();
    const ids = [...new Set(patientIds)];
    if (ids.length === 0) return result;
    const now = this.now();
    const searches = await this.prisma.cachedSearch.findMany({
      where: {
        sourceId,
        resourceType,
        shape,
        sourcePatientId: { in: ids },
        ...(opts.includeStale ? {} : { expiresAt: { gt: now } }),
      },
    });
    if (searches.length === 0) return result;

    const wanted = new Map<string, Set<string>>();
    for (const s of searches) {
      for (const ref of s.resourceIds) {
        const [type, id] = splitRef(resourceType, ref);
        let set = wanted.get(type);
        if (!set) wanted.set(type, (set = new Set()));
        set.add(id);
      }
    }
    const bodies = new Map<string, FhirResource>();
    if (wanted.size > 0) {
      const keys = [...wanted].flatMap(([t, set]) => [...set].map((id) => ({ t, id })));
      // Keys travel as one JSON parameter: a 1,000-patient dashboard can want more bodies
      // than Postgres allows bind parameters (65,535).
      const rows = await this.prisma.$queryRawUnsafe<{ t: string; id: string; body: FhirResource }[]>(
        SELECT_BODIES,
        sourceId,
        JSON.stringify(keys),
      );
      for (const row of rows) bodies.set(joinRef(resourceType, row.t, row.id), row.body);
    }

    for (const s of searches) {
      const resources: FhirResource[] = [];
      let complete = true;
      for (const ref of s.resourceIds) {
        const body = bodies.get(ref);
        if (!body) {
          // A body went missing (invalidated or evicted): serving the rest would be half a list.
          complete = false;
          break;
        }
        resources.push(body);
      }
      if (complete) result.set(s.sourcePatientId, { resources, fetchedAt: s.fetchedAt, expiresAt: s.expiresAt, stale: s.expiresAt <= now });
    }
    return result;
  }

  expiryFor(resourceType: string, fetchedAt: Date): Date {
    const ttl = this.options.ttlSeconds[resourceType] ?? this.options.defaultTtlSeconds;
    return new Date(fetchedAt.getTime() + ttl * 1000);
  }

  /** Stores each patient's complete result, bodies and lists in one transaction. */
  async putMany(
    sourceId: string,
    resourceType: string,
    shape: string,
    results: ReadonlyMap<string, FhirResource[]>,
    fetchedAt: Date = this.now(),
  ): Promise<void> {
    const expiresAt = this.expiryFor(resourceType, fetchedAt);

    const resourceRows = new Map<string, ResourceRow>();
    const searchRows: { pid: string; ids: string[] }[] = [];
    for (const [patientId, resources] of results) {
      if (resources.some((r) => typeof r.id !== 'string' || r.id === '' || typeof r.resourceType !== 'string')) continue;
      const refs: string[] = [];
      for (const r of resources) {
        const ref = joinRef(resourceType, r.resourceType, r.id as string);
        refs.push(ref);
        resourceRows.set(`${r.resourceType}/${r.id}`, {
          t: r.resourceType,
          id: r.id as string,
          pid: patientId,
          body: r,
          vid: r.meta?.versionId ?? null,
          lu: toInstant(r.meta?.lastUpdated),
        });
      }
      searchRows.push({ pid: patientId, ids: refs });
    }
    if (searchRows.length === 0) return;

    // Same row order in every writer, so two concurrent puts cannot deadlock on each other.
    const resources = [...resourceRows.values()].sort((a, b) => compare(a.t, b.t) || compare(a.id, b.id));
    searchRows.sort((a, b) => compare(a.pid, b.pid));
    const fetched = fetchedAt.toISOString();
    const statements: Prisma.PrismaPromise<number>[] = [];
    for (const chunk of chunks(resources)) {
      statements.push(this.prisma.$executeRawUnsafe(UPSERT_RESOURCES, sourceId, fetched, JSON.stringify(chunk)));
    }
    for (const chunk of chunks(searchRows)) {
      statements.push(
        this.prisma.$executeRawUnsafe(UPSERT_SEARCHES, sourceId, resourceType, shape, fetched, expiresAt.toISOString(), JSON.stringify(chunk)),
      );
    }
    await this.prisma.$transaction(statements);
  }

  /**
   * Forgets cached searches and bodies of one source, of some source patients, or both;
   * in one transaction. Returns how many per-patient searches were dropped.
   */
  async invalidate(scope: { sourceId?: string; sourcePatientIds?: readonly string[] }): Promise<number> {
    const where = {
      ...(scope.sourceId !== undefined && { sourceId: scope.sourceId }),
      ...(scope.sourcePatientIds !== undefined && { sourcePatientId: { in: [...scope.sourcePatientIds] } }),
    };
    const [searches] = await this.prisma.$transaction([
      this.prisma.cachedSearch.deleteMany({ where }),
      this.prisma.cachedResource.deleteMany({ where }),
    ]);
    return searches.count;
  }
}

interface ResourceRow {
  t: string;
  id: string;
  pid: string;
  body: FhirResource;
  vid: string | null;
  lu: string | null;
}

function joinRef(searchType: string, type: string, id: string): string {
  return type === searchType ? id : `${type}/${id}`;
}

function splitRef(searchType: string, ref: string): [type: string, id: string] {
  const slash = ref.indexOf('/');
  return slash < 0 ? [searchType, ref] : [ref.slice(0, slash), ref.slice(slash + 1)];
}

// meta.lastUpdated is a FHIR instant; a malformed one from a source must not fail the write.
function toInstant(value: string | undefined): string | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function* chunks<T>(rows: readonly T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) yield rows.slice(i, i + ROWS_PER_STATEMENT);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
