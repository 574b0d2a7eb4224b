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
import { pageWindow, paginate, type PageArgs, type PagedList } from './pagination.js';
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
 * second-guessed within the day. Only code, category and status filters map the item.
 */
function passes<T extends object>(kind: ClinicalKind<T>, prep: PreparedItem<Unprovenanced<T>>, f: ClinicalFilters): boolean {
  if (f.since) {
    const date = dateOf(kind, prep);
    if (!date || date.slice(0, 10) < f.since.slice(0, 10)) return false;
  }
  if (!f.code && !f.category && !f.clinicalStatus && !f.status) return true;
  const item = itemOf(kind, prep);
  if (f.code && !conceptMatches(kind.codes(item), f.code)) return false;
  if (f.category && kind.categories && !conceptMatches(kind.categories(item), f.category)) return false;
  if (f.clinicalStatus && kind.status && kind.status(item) !== f.clinicalStatus) return false;
  if (f.status && kind.status && kind.status(item) !== f.status) return false;
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
  const warmKeys = patient.records.length > 1 && !hasFilters(args);
  const perRecord = await Promise.all(
    patient.records.map(async (record) => {
      try {
        const result = await ctx.loaders.resources(record.sourceId, kind.resourceType, params).load(record.sourcePatientId);
        // Identity keys are worked out as each source's answer arrives, while the others are
        // still awaited, rather than all at once after the last (see mergeRecords).
        if (warmKeys) for (const prep of prepare(result.resources)) keyOf(kind as ClinicalKind<object>, prep);
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
const mergedMemo = new WeakMap<readonly FhirResource[], Map<string, PagedList<unknown>>>();
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
): PagedList<T> {
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
  if (hit) return hit as PagedList<T>;
  const list = mergeRecords(ctx, kind, records, f);
  if (!byKey) mergedMemo.set(first, (byKey = new Map()));
  byKey.set(key, list);
  return list;
}

/** A record's answer as its provenance shows it, worked out once per record rather than per item. */
interface RecordRef {
  sourceId: string;
  source: Provenance['source'];
  fetchedAt: string;
  stale: boolean;
}

/** One merged item: the first report of it, and every (record, resource id) that reported it. */
interface MergedEntry<T> {
  prep: PreparedItem<unknown>;
  id: string;
  from: { ref: RecordRef; resourceId: string }[];
  /** The node, made the first time a page serves this item. */
  node?: T;
}

/**
 * A merged list, ordered and turned into nodes only as far as pages ask: a dashboard that
 * reads `totalCount` needs the de-duplicated count, not tens of thousands of mapped nodes
 * in order. Nodes are made once and then shared by every request served from the same
 * cached lists (read-only: resolvers and middleware copy).
 */
class MergedList<T extends ClinicalItem> implements PagedList<T> {
  private sorted = false;

  constructor(
    private readonly kind: ClinicalKind<Unprovenanced<T>>,
    private readonly entries: MergedEntry<T>[],
  ) {}

  get length(): number {
    return this.entries.length;
  }

  slice(start: number, end: number): T[] {
    const { entries } = this;
    if (start >= Math.min(end, entries.length)) return [];
    if (!this.sorted) {
      // Newest first, then by id.
      const kind = this.kind as ClinicalKind<object>;
      for (const e of entries) dateOf(kind, e.prep);
      entries.sort((a, b) => (a.prep.date === b.prep.date ? (a.id < b.id ? -1 : 1) : a.prep.date! < b.prep.date! ? 1 : -1));
      this.sorted = true;
    }
    return entries.slice(start, end).map((e) => (e.node ??= this.nodeOf(e)));
  }

  private nodeOf(e: MergedEntry<T>): T {
    const provenance: Provenance[] = e.from.map(({ ref, resourceId }) => ({ source: ref.source, sourceResourceId: resourceId, fetchedAt: ref.fetchedAt, stale: ref.stale }));
    return { ...itemOf(this.kind, e.prep as PreparedItem<Unprovenanced<T>>), id: e.id, provenance } as unknown as T;
  }
}

function hasFilters(f: ClinicalFilters): boolean {
  return !!(f.code || f.category || f.clinicalStatus || f.status || f.since);
}

/**
 * Items with the same identity from *different* sources are one item, carrying every
 * provenance; two resources of one source stay two, however alike (the source itself keeps
 * them apart). Newest first, then by id (see {@link MergedList}).
 */
function mergeRecords<T extends ClinicalItem>(
  ctx: RequestContext,
  kind: ClinicalKind<Unprovenanced<T>>,
  records: readonly RecordResult[],
  args: ClinicalFilters,
): MergedList<T> {
  const merged = new Map<string, MergedEntry<T>[]>();
  const all: MergedEntry<T>[] = [];
  const filtered = hasFilters(args);
  // Identity keys matter only where two records may hold the same item.
  const keyed = records.filter(({ result }) => result.resources.length > 0).length > 1;
  for (const { record, result } of records) {
    const ref: RecordRef = { sourceId: record.sourceId, source: ctx.services.sourceRef(record.sourceId), fetchedAt: result.fetchedAt.toISOString(), stale: result.stale };
    const sourceId = record.sourceId;
    for (const prep of prepare(result.resources)) {
      if (filtered && !passes(kind, prep as PreparedItem<Unprovenanced<T>>, args)) continue;
      if (!keyed) {
        all.push({ prep, id: `${sourceId}/${kind.resourceType}/${prep.resourceId}`, from: [{ ref, resourceId: prep.resourceId }] });
        continue;
      }
      const key = keyOf(kind, prep);
      let sameItem = merged.get(key);
      if (!sameItem) merged.set(key, (sameItem = []));
      // Records come source by source. If this source made the newest entry of this key,
      // every older entry already holds this source (else it would have merged there), so
      // skip the scan: it would be quadratic for a source with many look-alike items.
      const madeByThisSource = sameItem.at(-1)?.from[0]?.ref.sourceId === sourceId;
      const other = madeByThisSource ? undefined : sameItem.find((m) => !m.from.some((f) => f.ref.sourceId === sourceId));
      if (other) {
        other.from.push({ ref, resourceId: prep.resourceId });
      } else {
        const entry: MergedEntry<T> = { prep, id: `${sourceId}/${kind.resourceType}/${prep.resourceId}`, from: [{ ref, resourceId: prep.resourceId }] };
        sameItem.push(entry);
        all.push(entry);
      }
    }
  }
  return new MergedList(kind, all);
}

interface PreparedItem<I> {
  resourceId: string;
  resource: FhirResource;
  /** The item's cross-source identity, as a string; worked out when another record may hold the same item. */
  key?: string;
  /** The item's date as the order and `since` read it ('' when it has none); worked out when first needed. */
  date?: string;
  /** The mapped item, made the first time a filter or a page needs it. */
  item?: I;
}

function itemOf<I extends object>(kind: ClinicalKind<I>, prep: PreparedItem<I>): I {
  return (prep.item ??= kind.map(prep.resource) as I);
}

function keyOf(kind: ClinicalKind<object>, prep: PreparedItem<unknown>): string {
  return (prep.key ??= JSON.stringify(kind.identity(prep.resource)));
}

function dateOf(kind: ClinicalKind<object>, prep: PreparedItem<unknown>): string {
  return (prep.date ??= kind.date(prep.resource) ?? '');
}

// Identity keys, dates and mapped items per fetched resource list, each worked out when
// first needed. The cache hands out the same list object for repeat questions, so each is
// worked out once per fetch rather than once per request. Items are read-only from here on
// (resolvers and middleware copy). A list holds resources of one type.
const prepared = new WeakMap<readonly FhirResource[], PreparedItem<unknown>[]>();

function prepare(resources: readonly FhirResource[]): PreparedItem<unknown>[] {
  let list = prepared.get(resources);
  if (!list) {
    list = resources.map((resource) => ({ resourceId: resource.id ?? '', resource }));
    prepared.set(resources, list);
  }
  return list;
}
