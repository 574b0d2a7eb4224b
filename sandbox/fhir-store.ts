import { randomUUID } from 'node:crypto';
import type { FhirResource } from '../datasources/fhir/fhir-types.js';
import { findParam, isServedType, PATIENT_OR_PARAMS, SEARCH_PARAMS, type SearchParamDef, type TokenTarget } from './search-params.js';
import {
  matchesDate,
  normalizeString,
  parseDateQuery,
  parseReference,
  parseToken,
  SearchInputError,
  splitOrList,
  unescapeValue,
  type TokenValue,
} from './search-values.js';

/** Search options that come from the EHR's profile. */
export interface SearchLimits {
  patientOrSearch: boolean;
  maxCount: number;
  defaultCount: number;
}

/** A search evaluated over the whole store (paging is the server's job). */
export interface SearchResult {
  /** Every match, in the answer's order. */
  matches: FhirResource[];
  /** Page size after the profile's cap; 0 asks for the total only. */
  count: number;
  /** The parameters applied, in request order, for `self` and `next` links. */
  used: Array<[string, string]>;
  /** Names of parameters that were not applied (unknown to this server or to this type). */
  ignored: string[];
}

type Predicate = (r: FhirResource) => boolean;

interface CompiledParam {
  name: string;
  def?: SearchParamDef;
  predicate: Predicate;
  /** Patient ids when this parameter narrows to the patient compartment. */
  patientIds?: string[];
  /** Resource ids when this is `_id`. */
  ids?: string[];
  /** A date search that only sets a lower bound (`gt`, `ge`, `sa`). */
  lowerBound?: boolean;
}

interface SortKey {
  name: string;
  desc: boolean;
  key: (r: FhirResource) => number | string | undefined;
}

const byId = (a: FhirResource, b: FhirResource): number => (a.id! < b.id! ? -1 : a.id! > b.id! ? 1 : 0);

/**
 * An in-memory FHIR store for one EHR, indexed by type, id and patient compartment so that
 * a search for one patient's resources touches only that patient's resources.
 */
export class FhirStore {
  private byType = new Map<string, FhirResource[]>();
  private byKey = new Map<string, FhirResource>();
  private byPatient = new Map<string, Map<string, FhirResource[]>>();
  /** Resources written by create/update since the store was made, per type (a `_lastUpdated` search looks only here when it can). */
  private written = new Map<string, FhirResource[]>();
  /** The latest `meta.lastUpdated` (ms) of the resources the store was made with, per type. */
  private baselineLastUpdated = new Map<string, number>();

  constructor(resources: readonly FhirResource[]) {
    for (const r of resources) {
      if (!r.id) continue;
      let list = this.byType.get(r.resourceType);
      if (!list) this.byType.set(r.resourceType, (list = []));
      list.push(r);
      this.byKey.set(`${r.resourceType}/${r.id}`, r);
      const defs = (SEARCH_PARAMS[r.resourceType] ?? []).filter((d) => d.patientRef);
      const patients = new Set<string>();
      for (const d of defs) for (const ref of d.refs!(r)) if (ref.startsWith('Patient/')) patients.add(ref.slice(8));
      if (r.resourceType === 'Patient') patients.add(r.id);
      let idx = this.byPatient.get(r.resourceType);
      if (!idx) this.byPatient.set(r.resourceType, (idx = new Map()));
      for (const p of patients) {
        const l = idx.get(p);
        if (l) l.push(r);
        else idx.set(p, [r]);
      }
    }
    for (const list of this.byType.values()) list.sort(byId);
    for (const idx of this.byPatient.values()) for (const list of idx.values()) list.sort(byId);
    for (const [type, list] of this.byType) {
      let max = -Infinity;
      for (const r of list) {
        const t = Date.parse(r.meta?.lastUpdated ?? '');
        if (t > max) max = t;
      }
      // A resource without lastUpdated could match any bound: no shortcut for that type.
      if (Number.isFinite(max) && list.every((r) => r.meta?.lastUpdated)) this.baselineLastUpdated.set(type, max);
    }
  }

  /**
   * A copy that can be written without changing this store (sandboxes in one process share
   * an indexed store per fixture split). Lists are shared until a write replaces them.
   */
  fork(): FhirStore {
    const copy = Object.create(FhirStore.prototype) as FhirStore;
    copy.byType = new Map(this.byType);
    copy.byKey = new Map(this.byKey);
    copy.byPatient = new Map([...this.byPatient].map(([t, idx]) => [t, new Map(idx)]));
    copy.written = new Map([...this.written].map(([t, l]) => [t, [...l]]));
    copy.baselineLastUpdated = new Map(this.baselineLastUpdated);
    return copy;
  }

  /**
   * FHIR create (no id) or update (id given): stores the resource with `meta.versionId` one
   * past the stored version and `meta.lastUpdated` now, and returns what was stored. Lists are
   * replaced, never changed in place, so forks and answers being serialised are unaffected.
   */
  put(resource: FhirResource, now: Date = new Date()): { stored: FhirResource; created: boolean } {
    const id = resource.id ?? randomUUID();
    const key = `${resource.resourceType}/${id}`;
    const previous = this.byKey.get(key);
    const version = previous ? Number(previous.meta?.versionId ?? '1') + 1 : 1;
    const stored = {
      ...resource,
      id,
      meta: { ...resource.meta, versionId: String(Number.isFinite(version) ? version : 1), lastUpdated: now.toISOString() },
    } as FhirResource;
    const type = stored.resourceType;
    this.byKey.set(key, stored);
    const replaceIn = (list: readonly FhirResource[] | undefined): FhirResource[] =>
      [...(list ?? []).filter((r) => r !== previous), stored].sort(byId);
    this.byType.set(type, replaceIn(this.byType.get(type)));
    this.written.set(type, [...(this.written.get(type) ?? []).filter((r) => r !== previous), stored]);
    let idx = this.byPatient.get(type);
    if (!idx) this.byPatient.set(type, (idx = new Map()));
    for (const [p, list] of idx) if (previous && list.includes(previous)) idx.set(p, list.filter((r) => r !== previous));
    const defs = (SEARCH_PARAMS[type] ?? []).filter((d) => d.patientRef);
    const patients = new Set<string>();
    for (const d of defs) for (const ref of d.refs!(stored)) if (ref.startsWith('Patient/')) patients.add(ref.slice(8));
    if (type === 'Patient') patients.add(id);
    for (const p of patients) idx.set(p, replaceIn(idx.get(p)));
    return { stored, created: !previous };
  }

  /** Resource types present in the store. */
  types(): string[] {
    return [...this.byType.keys()].sort();
  }

  /** Number of resources of a type. */
  size(type: string): number {
    return this.byType.get(type)?.length ?? 0;
  }

  /** One resource by type and id. */
  read(type: string, id: string): FhirResource | undefined {
    return this.byKey.get(`${type}/${id}`);
  }

  /**
   * Runs a search. Repeated parameters are ANDed, comma values ORed (where the profile
   * allows), unknown parameters ignored and reported in `ignored`.
   * @throws SearchInputError for values the server refuses (400).
   */
  search(type: string, params: ReadonlyArray<readonly [string, string]>, limits: SearchLimits): SearchResult {
    if (!isServedType(type)) throw new SearchInputError(`Resource type "${type}" is not supported`, 404, 'not-supported');
    const used: Array<[string, string]> = [];
    const ignored: string[] = [];
    const compiled: CompiledParam[] = [];
    let count = limits.defaultCount;
    let sortKeys: SortKey[] = [];
    for (const [rawName, value] of params) {
      const [name, modifier] = splitModifier(rawName);
      if (value === '' && name !== '_count') continue; // FHIR: empty parameters are ignored
      switch (name) {
        case '_count': {
          const n = Number(value);
          if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new SearchInputError(`_count must be a non-negative integer`);
          count = Math.min(n, limits.maxCount);
          used.push(['_count', String(count)]);
          continue;
        }
        case '_summary':
          if (value === 'count') {
            count = 0;
            used.push([rawName, value]);
          } else ignored.push(rawName);
          continue;
        case '_sort':
          sortKeys = parseSort(type, value, ignored);
          if (sortKeys.length) used.push([rawName, sortKeys.map((k) => (k.desc ? '-' : '') + k.name).join(',')]);
          continue;
        case '_total':
        case '_format':
        case '_pretty':
          continue; // harmless: total is always given, JSON is the only format
      }
      const c = compileParam(type, name, modifier, value, limits);
      if (!c) {
        ignored.push(rawName);
        continue;
      }
      compiled.push(c);
      used.push([rawName, value]);
    }

    let candidates = this.candidates(type, compiled);
    for (const c of compiled) candidates = candidates.filter(c.predicate);
    if (sortKeys.length) candidates = sortBy(candidates, sortKeys);
    return { matches: candidates, count, used, ignored };
  }

  private candidates(type: string, compiled: CompiledParam[]): FhirResource[] {
    // `_lastUpdated=gt|ge<t>` later than every original resource can only match written ones:
    // the event feed's polls then cost what was written, not the whole store.
    const since = compiled.find((c) => c.name === '_lastUpdated' && c.lowerBound);
    const baseline = this.baselineLastUpdated.get(type);
    if (since && baseline !== undefined && !since.predicate({ resourceType: type, meta: { lastUpdated: new Date(baseline).toISOString() } } as FhirResource)) {
      const written = this.written.get(type) ?? [];
      return [...written].sort(byId);
    }
    const idParam = compiled.find((c) => c.ids);
    if (idParam) {
      const out = [...new Set(idParam.ids)].map((id) => this.read(type, id)).filter((r): r is FhirResource => !!r);
      return out.sort(byId);
    }
    const patientParam = compiled.find((c) => c.patientIds);
    if (patientParam) {
      const idx = this.byPatient.get(type);
      const ids = [...new Set(patientParam.patientIds)];
      if (!idx) return [];
      if (ids.length === 1) return idx.get(ids[0]) ?? [];
      const seen = new Set<FhirResource>();
      for (const id of ids) for (const r of idx.get(id) ?? []) seen.add(r);
      return [...seen].sort(byId);
    }
    return this.byType.get(type) ?? [];
  }
}

function splitModifier(raw: string): [string, string | undefined] {
  const i = raw.indexOf(':');
  return i < 0 ? [raw, undefined] : [raw.slice(0, i), raw.slice(i + 1)];
}

function compileParam(type: string, name: string, modifier: string | undefined, value: string, limits: SearchLimits): CompiledParam | undefined {
  if (name.includes('.')) return undefined; // chained parameters are not supported: ignored
  const values = splitOrList(value);
  if (values.length > 1 && PATIENT_OR_PARAMS.has(name) && !limits.patientOrSearch) {
    throw new SearchInputError(`This server does not accept several values (comma OR) for "${name}"; search once per value`, 400, 'not-supported');
  }
  if (name === '_id') {
    if (modifier) throw badModifier(name, modifier);
    const ids = values.map(unescapeValue);
    const set = new Set(ids);
    return { name, ids, predicate: (r) => set.has(r.id!) };
  }
  const def = findParam(type, name);
  if (!def) return undefined;
  if (modifier === 'missing') {
    if (value !== 'true' && value !== 'false') throw new SearchInputError(`${name}:missing takes true or false`);
    const wantMissing = value === 'true';
    return { name, def, predicate: (r) => (countValues(def, r) === 0) === wantMissing };
  }
  switch (def.type) {
    case 'token': {
      if (modifier && modifier !== 'not') throw badModifier(name, modifier);
      const qs = values.map(parseToken);
      const any = (r: FhirResource): boolean => {
        const targets = def.tokens!(r);
        return qs.some((q) => targets.some((t) => tokenMatches(q, t)));
      };
      return { name, def, predicate: modifier === 'not' ? (r) => !any(r) : any };
    }
    case 'reference': {
      // `subject:Patient=x` names the target type with a modifier.
      if (modifier && !/^[A-Z][A-Za-z]+$/.test(modifier)) throw badModifier(name, modifier);
      const qs = values.map((v) => parseReference(v, modifier));
      const keys = new Set(qs.map((q) => `${q.type ?? ''}/${q.id}`));
      const predicate: Predicate = (r) =>
        def.refs!(r).some((ref) => {
          const slash = ref.lastIndexOf('/');
          const id = ref.slice(slash + 1);
          const t = ref.slice(0, slash).split('/').pop() ?? '';
          return keys.has(`/${id}`) || keys.has(`${t}/${id}`);
        });
      const patientIds = def.patientRef ? qs.filter((q) => q.type === undefined || q.type === 'Patient').map((q) => q.id) : undefined;
      return { name, def, predicate, ...(patientIds && { patientIds }) };
    }
    case 'date': {
      if (modifier) throw badModifier(name, modifier);
      const qs = values.map((v) => parseDateQuery(v, name));
      const lowerBound = values.length === 1 && /^(gt|ge|sa)/.test(values[0]);
      return { name, def, lowerBound, predicate: (r) => def.dates!(r).some((t) => qs.some((q) => matchesDate(q, t))) };
    }
    case 'string': {
      if (modifier && modifier !== 'exact' && modifier !== 'contains') throw badModifier(name, modifier);
      if (modifier === 'exact') {
        const qs = values.map(unescapeValue);
        return { name, def, predicate: (r) => def.strings!(r).some((s) => qs.includes(s)) };
      }
      const qs = values.map((v) => normalizeString(unescapeValue(v)));
      const test = modifier === 'contains' ? (s: string, q: string) => s.includes(q) : (s: string, q: string) => s.startsWith(q);
      return {
        name,
        def,
        predicate: (r) => def.strings!(r).some((s) => {
          const n = normalizeString(s);
          return qs.some((q) => test(n, q));
        }),
      };
    }
  }
}

function badModifier(name: string, modifier: string): SearchInputError {
  return new SearchInputError(`Modifier ":${modifier}" is not supported on "${name}"`, 400, 'not-supported');
}

function countValues(def: SearchParamDef, r: FhirResource): number {
  switch (def.type) {
    case 'token':
      return def.tokens!(r).length;
    case 'reference':
      return def.refs!(r).length;
    case 'date':
      return def.dates!(r).length;
    case 'string':
      return def.strings!(r).length;
  }
}

function tokenMatches(q: TokenValue, t: TokenTarget): boolean {
  if (q.code !== undefined && t.code !== q.code) return false;
  if (q.system === undefined || t.implicit) return true;
  if (q.system === '') return !t.system;
  return t.system === q.system;
}

function parseSort(type: string, value: string, ignored: string[]): SortKey[] {
  const keys: SortKey[] = [];
  for (const part of value.split(',')) {
    const desc = part.startsWith('-');
    const name = desc ? part.slice(1) : part;
    if (name === '_id') {
      keys.push({ name, desc, key: (r) => r.id });
      continue;
    }
    const def = findParam(type, name);
    if (def?.type === 'date') {
      keys.push({ name, desc, key: (r) => (desc ? def.dates!(r)[0]?.hi : def.dates!(r)[0]?.lo) });
      continue;
    }
    ignored.push(`_sort:${name}`);
  }
  return keys;
}

function sortBy(list: FhirResource[], keys: SortKey[]): FhirResource[] {
  const decorated = list.map((r) => ({ r, k: keys.map((s) => s.key(r)) }));
  decorated.sort((a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const x = a.k[i];
      const y = b.k[i];
      if (x === y) continue;
      // Resources without a value go last whatever the direction, as most servers do.
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      const c = x < y ? -1 : 1;
      return keys[i].desc ? -c : c;
    }
    return byId(a.r, b.r);
  });
  return decorated.map((d) => d.r);
}
