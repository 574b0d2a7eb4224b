import DataLoader from 'dataloader';
import type { Patient } from '../datasources/fhir/fhir-types.js';
import { escapeSearchValue, tokenParam } from '../datasources/fhir/search-params.js';
import { linkKey, type LinkRequest, type LinkRow, type PatientIndex } from '../datasources/cache/patient-index.js';
import type { NewPossibleMatch } from '../datasources/cache/possible-matches.js';
import type { SourcePatientRow } from '../datasources/cache/source-patient-store.js';
import type { Loaders } from '../datasources/loaders.js';
import type { SearchParams } from '../datasources/fhir/fhir-types.js';
import { UpstreamError } from '../errors/errors.js';
import { decideMatch, matchSettings, type MatchDecision, type MatchSettings } from './match-decision.js';
import { toMatchRecord, type MatchRecord } from './match-record.js';
import { nameVariants } from './nicknames.js';
import { foldName } from './normalize.js';
import { toSourcePatientRow } from './source-patient-row.js';

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
  /** Thresholds and cross-reference systems (config `identity`); defaults from {@link DEFAULT_MATCH_SETTINGS}. */
  matching?: Partial<Omit<MatchSettings, 'strongIdentifierSystems'>>;
  /**
   * A free Patient search in one source (`family=&birthdate=`), for demographic look-ups.
   * Without it, records are linked on identifiers only.
   */
  searchPatients?: (sourceId: string, params: SearchParams) => Promise<Patient[]>;
}

/** A source patient as found by a search. */
export interface Hit {
  sourceId: string;
  resource: Patient;
}

/** `searchPatients` criteria over the index. */
export interface PatientQuery {
  name?: string | null;
  birthDate?: string | null;
  gender?: string | null;
}

interface Candidate extends Hit {
  record: MatchRecord;
}

const keyOf = (sourceId: string, sourcePatientId: string) => `${sourceId}/${sourcePatientId}`;
const hitKey = (h: Hit) => keyOf(h.sourceId, h.resource.id!);
/** The most rows `searchIndex` reads: a search page is at most 1000 patients. */
const MAX_INDEX_ROWS = 2000;

/**
 * Finds people across sources and keeps the master patient index up to date.
 *
 * A look-up starts from the records a search found (the "anchors"), then finds the same
 * person in every source that is not linked yet: first by the anchors' strong and
 * cross-reference identifiers, then by a demographic search (`family` + `birthdate`) and by
 * the blocking index (same or day/month-swapped birth date), each candidate scored by
 * {@link decideMatch}. Links go into the index with method and score; possible matches are
 * kept for admins; every record seen is written to the blocking index.
 * One directory per request: it rides on that request's loaders.
 */
export class PatientDirectory {
  private readonly settings: MatchSettings;
  private readonly demographicSearches = new Map<string, Promise<Patient[]>>();

  constructor(private readonly deps: PatientDirectoryDeps) {
    this.settings = matchSettings(deps.strongIdentifierSystems, deps.matching);
  }

  /**
   * Unified patients by id with their linked records but without the source Patient
   * resources (`resource: null`): enough to fetch clinical lists, and null for unknown ids.
   * Batched: one index query for all ids of a request.
   */
  readonly linksById = new DataLoader<string, UnifiedPatient | null>(async (ids) => {
    const links = await this.deps.index.linksForUnified(ids);
    return ids.map((id) => {
      const rows = links.get(id) ?? [];
      if (rows.length === 0) return null;
      return {
        id,
        records: rows.map((l) => ({ sourceId: l.sourceId, sourcePatientId: l.sourcePatientId, matchMethod: l.method, matchScore: l.score, resource: null })),
      };
    });
  });

  /** Unified patients by id with every source Patient resource, batched per source. */
  readonly byId = new DataLoader<string, WithErrors<UnifiedPatient | null>>(async (ids) => {
    const links = await this.deps.index.linksForUnified(ids);
    return Promise.all(ids.map((id) => this.withResources(id, links.get(id) ?? [])));
  });

  /** The patient a source identifier names, found in every source and linked. Null if no source knows it. */
  async findByIdentifier(system: string, value: string): Promise<WithErrors<UnifiedPatient | null>> {
    const errors: UpstreamError[] = [];
    const hits = await this.searchEverySource(tokenParam(system, value), this.deps.sourceIds, errors);
    if (hits.length === 0) return { value: null, errors };
    return this.linkAndLoad(hits, errors, [system]);
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
      const unifiedId = known.get(hitKey(hit))?.unifiedId;
      if (unifiedId && out.has(unifiedId)) continue;
      const resolved = unifiedId ? await this.byId.load(unifiedId) : await this.linkAndLoad([hit], []);
      errors.push(...resolved.errors);
      if (resolved.value && !out.has(resolved.value.id)) out.set(resolved.value.id, resolved.value);
    }
    return { value: [...out.values()], errors };
  }

  /**
   * Patients the index knows that match the query (name tokens against family names by
   * prefix and given names exactly or by nickname; birth date; gender), or null when the
   * index knows none (the caller then searches the sources, which is how new patients enter
   * the index). Records seen but not linked yet are linked on the way.
   */
  async searchIndex(query: PatientQuery): Promise<WithErrors<UnifiedPatient[]> | null> {
    const tokens = (foldName(query.name) ?? '').split(/[ -]/).filter(Boolean);
    const rows = await this.deps.index.sourcePatients.search({
      nameTokens: tokens.map((token) => ({ token, givenVariants: nameVariants(token) })),
      birthDate: query.birthDate ?? undefined,
      gender: query.gender ?? undefined,
      limit: MAX_INDEX_ROWS,
    });
    const inSources = rows.filter((r) => this.deps.sourceIds.includes(r.sourceId));
    if (inSources.length === 0) return null;
    const links = await this.deps.index.findLinks(inSources);
    const errors: UpstreamError[] = [];
    const ids: string[] = [];
    const unlinkedRows = [];
    for (const row of inSources) {
      const link = links.get(linkKey(row));
      if (!link) unlinkedRows.push(row);
      else if (!ids.includes(link.unifiedId)) ids.push(link.unifiedId);
    }
    // Loaded together, so the loaders batch them per source.
    const loaded = await Promise.all(
      unlinkedRows.map((row) =>
        this.deps.loaders
          .patientById(row.sourceId)
          .load(row.sourcePatientId)
          .then((resource) => resource && { sourceId: row.sourceId, resource })
          .catch((err: unknown) => {
            if (err instanceof UpstreamError) errors.push(err);
            else throw err;
            return null;
          }),
      ),
    );
    const unlinked: Hit[] = loaded.filter((h): h is Hit => h !== null);
    const found = await Promise.all(ids.map((id) => this.byId.load(id)));
    const out = new Map<string, UnifiedPatient>();
    for (const f of found) {
      errors.push(...f.errors);
      if (f.value && f.value.records.length > 0) out.set(f.value.id, f.value);
    }
    const resolved = await this.resolveHits(unlinked);
    errors.push(...resolved.errors);
    for (const p of resolved.value) if (!out.has(p.id)) out.set(p.id, p);
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

  /**
   * Links the hits (and their matches in the sources not yet linked to them) into one
   * unified patient, keeps possible matches, and loads the result.
   * `sharedSystems`: identifier systems the hits were found by (they share that value).
   */
  private async linkAndLoad(hits: Hit[], errors: UpstreamError[], sharedSystems: readonly string[] = []): Promise<WithErrors<UnifiedPatient | null>> {
    const { index } = this.deps;
    const anchor = { ...hits[0]!, record: toMatchRecord(hits[0]!.resource) };
    const seen: Candidate[] = [anchor];
    const toLink: LinkRequest[] = [{ sourceId: anchor.sourceId, sourcePatientId: anchor.resource.id!, method: 'identifier' }];
    const possibles: { candidate: Candidate; decision: MatchDecision }[] = [];
    const accepted: Candidate[] = [anchor];

    // Other sources' hits for the same identifier: the same person unless the rest contradicts it.
    const sharedSettings = { ...this.settings, crossReferenceSystems: [...(this.settings.crossReferenceSystems ?? []), ...sharedSystems] };
    for (const hit of hits.slice(1)) {
      const c = { ...hit, record: toMatchRecord(hit.resource) };
      seen.push(c);
      const d = decideMatch(anchor.record, c.record, sharedSettings);
      if (d.outcome === 'link') {
        accepted.push(c);
        toLink.push({ sourceId: c.sourceId, sourcePatientId: c.resource.id!, method: d.method, score: d.method === 'demographic' ? d.score : null });
      } else if (d.outcome === 'possible') possibles.push({ candidate: c, decision: d });
    }

    // Sources this person is already linked in need no search.
    const anchorLink = (await index.findLinks([{ sourceId: anchor.sourceId, sourcePatientId: anchor.resource.id! }])).get(hitKey(anchor));
    const existing = anchorLink ? ((await index.linksForUnified([anchorLink.unifiedId])).get(anchorLink.unifiedId) ?? []) : [];
    const rejected = anchorLink ? await index.possibleMatches.rejectedFor([anchorLink.unifiedId]) : new Set<string>();
    const covered = new Set([...accepted.map((c) => c.sourceId), ...existing.map((l) => l.sourceId)]);
    let missing = this.deps.sourceIds.filter((id) => !covered.has(id));

    const candidates = new Map<string, Candidate>();
    const addCandidate = (hit: Hit) => {
      const key = hitKey(hit);
      if (!candidates.has(key) && !seen.some((s) => hitKey(s) === key)) candidates.set(key, { ...hit, record: toMatchRecord(hit.resource) });
    };
    // 1. Strong and cross-reference identifiers of the accepted records.
    for (const token of this.strongTokens(accepted)) {
      if (missing.length === 0) break;
      for (const hit of await this.searchEverySource(token, missing, errors)) addCandidate(hit);
      missing = missing.filter((id) => ![...candidates.values()].some((c) => c.sourceId === id));
    }
    // 2. Demographics, in the sources still without a candidate.
    if (missing.length > 0) {
      for (const hit of await this.demographicCandidates(accepted, missing, errors)) addCandidate(hit);
    }

    // Score every candidate against every accepted record; the best decision counts.
    const bySource = new Map<string, { candidate: Candidate; decision: MatchDecision }[]>();
    for (const c of candidates.values()) {
      seen.push(c);
      const decision = accepted
        .map((a) => decideMatch(a.record, c.record, this.settings))
        .reduce((best, d) => (rank(d) > rank(best) || (rank(d) === rank(best) && d.score > best.score) ? d : best));
      if (decision.outcome === 'none') continue;
      const list = bySource.get(c.sourceId) ?? [];
      list.push({ candidate: c, decision });
      bySource.set(c.sourceId, list);
    }
    const candidateLinks = await index.findLinks([...candidates.values()].map((c) => ({ sourceId: c.sourceId, sourcePatientId: c.resource.id! })));
    for (const list of bySource.values()) {
      const links = list.filter((x) => x.decision.outcome === 'link');
      for (const x of list) {
        const key = hitKey(x.candidate);
        const elsewhere = candidateLinks.get(key);
        const sameUnified = !!anchorLink && elsewhere?.unifiedId === anchorLink.unifiedId;
        // Two auto-link candidates in one source are two people or a duplicate there: an
        // admin decides. So does a record already part of another unified patient (unified
        // patients are merged by hand, never silently) and one an admin rejected before.
        const canLink = x.decision.outcome === 'link' && links.length === 1 && (!elsewhere || sameUnified) && !rejected.has(key);
        if (canLink) {
          toLink.push({
            sourceId: x.candidate.sourceId,
            sourcePatientId: x.candidate.resource.id!,
            method: x.decision.method,
            score: x.decision.method === 'demographic' ? x.decision.score : null,
          });
        } else if (!sameUnified) {
          possibles.push(x);
        }
      }
    }

    const unifiedId = await index.linkRecords(toLink);
    await this.remember(seen, unifiedId, possibles);
    const links = (await index.linksForUnified([unifiedId])).get(unifiedId) ?? [];
    const resources = new Map(seen.map((h) => [hitKey(h), h.resource]));
    const loaded = await this.withResources(unifiedId, links, resources);
    return { value: loaded.value, errors: [...errors, ...loaded.errors] };
  }

  /** Writes what the look-up saw to the blocking index, and the possible matches. Best effort: the answer never waits on a failure here. */
  private async remember(seen: readonly Candidate[], unifiedId: string, possibles: readonly { candidate: Candidate; decision: MatchDecision }[]) {
    const { index } = this.deps;
    const matches: NewPossibleMatch[] = possibles.map(({ candidate, decision }) => ({
      unifiedId,
      candidateSourceId: candidate.sourceId,
      candidateSourcePatientId: candidate.resource.id!,
      score: decision.score,
      evidence: { method: decision.method, held: decision.held ?? null, fields: decision.evidence.map((e) => ({ ...e })) },
    }));
    await Promise.all([
      index.sourcePatients.upsertMany(seen.map((h) => toSourcePatientRow(h.sourceId, h.resource))).catch(() => undefined),
      index.possibleMatches.addMany(matches).catch(() => undefined),
    ]);
  }

  /**
   * Candidates in `sourceIds` by demographics: `Patient?family=&birthdate=` per distinct
   * family name and birth date of the accepted records (one search each, memoised per
   * request), plus index rows born the same day or with day and month swapped.
   */
  private async demographicCandidates(accepted: readonly Candidate[], sourceIds: readonly string[], errors: UpstreamError[]): Promise<Hit[]> {
    const out: Hit[] = [];
    const keys = new Set<string>();
    const birthDates = new Set<string>();
    for (const a of accepted) {
      const bd = a.record.birthDate;
      if (!bd) continue;
      birthDates.add(bd);
      const [y, m, d] = bd.split('-');
      if (Number(d) <= 12 && d !== m) birthDates.add(`${y}-${d}-${m}`);
      const official = a.resource.name?.find((n) => n.use === 'official') ?? a.resource.name?.[0];
      if (official?.family) keys.add(JSON.stringify([official.family, bd]));
    }
    const search = this.deps.searchPatients;
    if (search) {
      const searches: Promise<void>[] = [];
      for (const key of keys) {
        const [family, birthDate] = JSON.parse(key) as [string, string];
        for (const sourceId of sourceIds) {
          const params: SearchParams = [
            ['family', escapeSearchValue(family)],
            ['birthdate', birthDate],
          ];
          const memoKey = `${sourceId}\u0000${family}\u0000${birthDate}`;
          let pending = this.demographicSearches.get(memoKey);
          if (!pending) this.demographicSearches.set(memoKey, (pending = search(sourceId, params)));
          searches.push(
            pending.then(
              (found) => {
                for (const resource of found) if (resource.resourceType === 'Patient' && resource.id) out.push({ sourceId, resource });
              },
              (err: unknown) => {
                if (err instanceof UpstreamError) errors.push(err);
                else throw err;
              },
            ),
          );
        }
      }
      await Promise.all(searches);
    }
    // The index catches what the live search cannot: a changed or misspelt family name.
    const rows = await this.deps.index.sourcePatients.findByBirthDates([...birthDates], sourceIds).catch(() => [] as SourcePatientRow[]);
    const fromIndex = rows.filter((r) => !out.some((h) => h.sourceId === r.sourceId && h.resource.id === r.sourcePatientId));
    const loaded = await Promise.all(
      fromIndex.map((r) =>
        this.deps.loaders
          .patientById(r.sourceId)
          .load(r.sourcePatientId)
          .catch((err: unknown) => {
            if (err instanceof UpstreamError) errors.push(err);
            else throw err;
            return null;
          }),
      ),
    );
    loaded.forEach((resource, i) => {
      if (resource) out.push({ sourceId: fromIndex[i]!.sourceId, resource });
    });
    return out;
  }

  private strongTokens(hits: readonly Hit[]): string[] {
    const systems = [...this.settings.strongIdentifierSystems, ...(this.settings.crossReferenceSystems ?? [])];
    const tokens = new Set<string>();
    for (const { resource } of hits) {
      for (const id of resource.identifier ?? []) {
        if (id.system && id.value && systems.includes(id.system)) tokens.add(tokenParam(id.system, id.value));
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

function rank(d: MatchDecision): number {
  return d.outcome === 'link' ? 2 : d.outcome === 'possible' ? 1 : 0;
}
