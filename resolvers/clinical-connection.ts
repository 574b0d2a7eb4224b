import type { GraphQLResolveInfo } from 'graphql';
import type { FhirResource, SearchParams } from '../datasources/fhir/fhir-types.js';
import { parseToken, tokenParam, escapeSearchValue } from '../datasources/fhir/search-params.js';
import { UpstreamError } from '../errors/errors.js';
import type { ClinicalItem } from '../schema/clinical.types.js';
import type { CodeableConcept, Provenance } from '../schema/common.types.js';
import type { ConnectionShape } from '../schema/connection.types.js';
import type { ClinicalFilters } from './clinical-args.js';
import type { ClinicalKind } from './clinical-kinds.js';
import type { RequestContext } from './context.js';
import type { Unprovenanced } from './fhir-mapping.js';
import { pageWindow, paginate, type PageArgs } from './pagination.js';
import { pathOf } from './partial-errors.js';
import type { PatientView } from './patient-view.js';

/** FHIR search parameters for the filters, every user value escaped. */
export function searchParamsFor(kind: ClinicalKind<object>, f: ClinicalFilters): SearchParams {
  const params: [string, string][] = [];
  const token = (v: string) => {
    const t = parseToken(v);
    return tokenParam(t.system, t.code);
  };
  if (f.code && kind.params.code) params.push([kind.params.code, token(f.code)]);
  if (f.category && kind.params.category) params.push([kind.params.category, token(f.category)]);
  if (f.clinicalStatus && kind.params.clinicalStatus) params.push([kind.params.clinicalStatus, escapeSearchValue(f.clinicalStatus)]);
  if (f.status && kind.params.status) params.push([kind.params.status, escapeSearchValue(f.status)]);
  if (f.since && kind.params.since) params.push([kind.params.since, `ge${f.since}`]);
  return params;
}

function conceptMatches(concepts: readonly (CodeableConcept | null | undefined)[], filter: string): boolean {
  const { system, code } = parseToken(filter);
  return concepts.some((c) =>
    c?.coding.some((x) => x.code === code && (system === undefined || (system === '' ? !x.system : x.system === system))),
  );
}

/**
 * Whether an item passes the filters. The same filters went to the source as search
 * parameters; checking again here keeps answers right when a source ignores a parameter.
 * Dates compare at day precision, so a source's own time-zone reading of `since` is never
 * second-guessed within the day.
 */
function passes<T extends object>(kind: ClinicalKind<T>, item: Unprovenanced<T>, f: ClinicalFilters): boolean {
  if (f.code && !conceptMatches(kind.codes(item), f.code)) return false;
  if (f.category && kind.categories && !conceptMatches(kind.categories(item), f.category)) return false;
  if (f.clinicalStatus && kind.status && kind.status(item) !== f.clinicalStatus) return false;
  if (f.status && kind.status && kind.status(item) !== f.status) return false;
  if (f.since) {
    const date = kind.date(item);
    if (!date || date.slice(0, 10) < f.since.slice(0, 10)) return false;
  }
  return true;
}

/**
 * One clinical connection of one patient: the same search in every linked source (batched
 * with every other patient of the request by the loaders), mapped, filtered, with items
 * that several sources report merged into one carrying every provenance, newest first.
 * A failing source costs only its own items: the rest is returned and the failure is
 * reported as a partial error at this field's path.
 */
export async function loadClinicalConnection<T extends ClinicalItem>(
  ctx: RequestContext,
  patient: PatientView,
  kind: ClinicalKind<Unprovenanced<T>>,
  args: PageArgs & ClinicalFilters,
  info: GraphQLResolveInfo,
): Promise<ConnectionShape<T>> {
  // A bad `first` or `after` fails here, before any upstream call.
  pageWindow(args);
  const params = searchParamsFor(kind as ClinicalKind<object>, args);
  const perRecord = await Promise.all(
    patient.records.map(async (record) => {
      try {
        const result = await ctx.loaders.resources(record.sourceId, kind.resourceType, params).load(record.sourcePatientId);
        // Items the source sent that were set aside, or paging cut short: kept items are answered, with the reason beside them.
        for (const problem of result.problems ?? []) ctx.partialErrors.add(problem, pathOf(info.path));
        return { record, result };
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        ctx.partialErrors.add(err, pathOf(info.path));
        return null;
      }
    }),
  );

  const present = perRecord.filter((e): e is NonNullable<typeof e> => e !== null);
  const merged = mergedList(ctx, kind, present, args);
  return paginate(merged, args);
}

/** One record's answer as {@link mergedList} takes it. */
interface RecordResult {
  record: { sourceId: string };
  result: { resources: FhirResource[]; fetchedAt: Date; stale: boolean };
}

// Merged, sorted lists, kept per cached result: the cache hands out the same resource list
// objects for repeat questions, so a repeat query merges nothing and copies only its page.
// Keyed by the first record's list (weakly: the memo goes when the cache drops that list)
// and then by every record's list, fetch time and staleness, and the filters.
const mergedMemo = new WeakMap<readonly FhirResource[], Map<string, readonly unknown[]>>();
const listIds = new WeakMap<readonly FhirResource[], number>();
let nextListId = 1;

function listId(list: readonly FhirResource[]): number {
  let id = listIds.get(list);
  if (id === undefined) listIds.set(list, (id = nextListId++));
  return id;
}

function mergedList<T extends ClinicalItem>(
  ctx: RequestContext,
  kind: ClinicalKind<Unprovenanced<T>>,
  records: readonly RecordResult[],
  f: ClinicalFilters,
): readonly T[] {
  if (records.length === 0) return [];
  const key = [
    kind.resourceType,
    f.code ?? '',
    f.category ?? '',
    f.clinicalStatus ?? '',
    f.status ?? '',
    f.since ?? '',
    ...records.map(({ record, result }) => `${record.sourceId}:${listId(result.resources)}:${result.fetchedAt.getTime()}:${result.stale ? 1 : 0}`),
  ].join('\u0000');
  const first = records[0]!.result.resources;
  let byKey = mergedMemo.get(first);
  const hit = byKey?.get(key);
  if (hit) return hit as readonly T[];
  const list = mergeRecords(ctx, kind, records, f);
  if (!byKey) mergedMemo.set(first, (byKey = new Map()));
  byKey.set(key, list);
  return list;
}

/**
 * Items with the same identity from *different* sources are one item, carrying every
 * provenance; two resources of one source stay two, however alike (the source itself keeps
 * them apart). Newest first, then by id. The nodes are shared by every request served from
 * the same cached lists: read-only from here on (resolvers and middleware copy).
 */
function mergeRecords<T extends ClinicalItem>(
  ctx: RequestContext,
  kind: ClinicalKind<Unprovenanced<T>>,
  records: readonly RecordResult[],
  args: ClinicalFilters,
): T[] {
  type Merged = { item: Unprovenanced<T>; provenance: Provenance[]; id: string };
  const merged = new Map<string, Merged[]>();
  const all: Merged[] = [];
  for (const { record, result } of records) {
    const source = ctx.services.sourceRef(record.sourceId);
    const fetchedAt = result.fetchedAt.toISOString();
    for (const { resourceId, item, key } of prepare(kind, result.resources)) {
      if (!passes(kind, item, args)) continue;
      const provenance: Provenance = { source, sourceResourceId: resourceId, fetchedAt, stale: result.stale };
      let sameItem = merged.get(key);
      if (!sameItem) merged.set(key, (sameItem = []));
      // Records come source by source. If this source made the newest entry of this key,
      // every older entry already holds this source (else it would have merged there), so
      // skip the scan: it would be quadratic for a source with many look-alike items.
      const madeByThisSource = sameItem.at(-1)?.provenance[0]?.source.id === record.sourceId;
      const other = madeByThisSource ? undefined : sameItem.find((m) => !m.provenance.some((p) => p.source.id === record.sourceId));
      if (other) {
        other.provenance.push(provenance);
      } else {
        const entry = { item, provenance: [provenance], id: `${record.sourceId}/${kind.resourceType}/${resourceId}` };
        sameItem.push(entry);
        all.push(entry);
      }
    }
  }

  const dated = all.map(({ item, provenance, id }) => ({ node: { ...item, id, provenance } as unknown as T, date: kind.date(item) ?? '' }));
  dated.sort((a, b) => (a.date === b.date ? (a.node.id < b.node.id ? -1 : 1) : a.date < b.date ? 1 : -1));
  return dated.map((d) => d.node);
}

interface PreparedItem<I> {
  resourceId: string;
  item: I;
  /** The item's cross-source identity, as a string. */
  key: string;
}

// Mapped items per fetched resource list. The cache hands out the same list object for
// repeat questions, so mapping and identity keys are worked out once per fetch rather than
// once per request. Items are read-only from here on (resolvers and middleware copy).
const prepared = new WeakMap<readonly FhirResource[], PreparedItem<unknown>[]>();

function prepare<I extends object>(kind: ClinicalKind<I>, resources: readonly FhirResource[]): PreparedItem<I>[] {
  let list = prepared.get(resources) as PreparedItem<I>[] | undefined;
  if (!list) {
    list = resources.map((resource) => {
      const item = kind.map(resource) as I;
      return { resourceId: resource.id ?? '', item, key: JSON.stringify(kind.identity(item)) };
    });
    prepared.set(resources, list);
  }
  return list;
}
