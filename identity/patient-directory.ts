import DataLoader from 'dataloader';
import type { Patient } from '../datasources/fhir/fhir-types.js';
import { escapeSearchValue, tokenParam } from '../datasources/fhir/search-params.js';
import { linkKey, type LinkRequest, type LinkRow, type MergeRow, type PatientIndex } from '../datasources/cache/patient-index.js';
import type { Prisma } from '../datasources/cache/generated/client.js';
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
  /** Ids of unified patients merged into this one; they resolve to it. */
  mergedFrom?: string[];
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
  /** Writes the audit event of a merge a look-up's evidence made, inside the merge's transaction. */
  auditMerge?: (tx: Prisma.TransactionClient, merge: MergeRow) => Promise<void>;
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

/** A candidate and how it compared. */
interface Possible {
  candidate: Candidate;
  decision: MatchDecision;
}

/** Another unified patient the evidence says is the same person. */
interface Merge extends Possible {
  unifiedId: string;
}

const keyOfCandidate = (h: Hit) => ({ sourceId: h.sourceId, sourcePatientId: h.resource.id! });

/** LinkRows back from a patient's records (for `withResources`). */
const toLinkRow = (unifiedId: string) => (r: LinkedRecord): LinkRow => ({
  unifiedId,
  sourceId: r.sourceId,
  sourcePatientId: r.sourcePatientId,
  method: r.matchMethod,
  score: r.matchScore,
  createdAt: new Date(0),
});

/** The error a patient's answer carries while a source has not been searched for it. */
function notYetSearched(sourceId: string): UpstreamError {
  return new UpstreamError(sourceId, 'UPSTREAM_UNAVAILABLE', { reason: 'not yet searched for this patient' });
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
  private matchSettings: MatchSettings | undefined;
  private readonly demographicSearches = new Map<string, Promise<Patient[]>>();

  constructor(private readonly deps: PatientDirectoryDeps) {}

  /** Worked out when a look-up first matches records: reads of known patients never do. */
  private get settings(): MatchSettings {
    return (this.matchSettings ??= matchSettings(this.deps.strongIdentifierSystems, this.deps.matching));
  }

  /**
   * Unified patients by id with their linked records but without the source Patient
   * resources (`resource: null`): enough to fetch clinical lists, and null for unknown ids.
   * A merged-away id answers its survivor. A patient with sources not yet searched (they
   * failed when it was linked) is completed first; what still fails comes back as errors.
   * Batched: one index query for all ids of a request.
   */
  readonly linksById = new DataLoader<string, WithErrors<UnifiedPatient | null>>(async (ids) => {
    const resolved = await this.resolve(ids);
    const pending = await this.deps.index.pendingChecks([...new Set([...resolved.values()].map((p) => p.id))]);
    return Promise.all(
      ids.map(async (id) => {
        const patient = resolved.get(id) ?? null;
        const checks = patient ? (pending.get(patient.id) ?? []).filter((c) => this.deps.sourceIds.includes(c.sourceId)) : [];
        if (!patient || checks.length === 0) return { value: patient, errors: [] };
        return this.completePending(patient, checks.map((c) => c.sourceId));
      }),
    );
  });

  /** Unified patients by id with every source Patient resource, batched per source. */
  readonly byId = new DataLoader<string, WithErrors<UnifiedPatient | null>>(async (ids) => {
    const resolved = await this.resolve(ids);
    return Promise.all(
      ids.map(async (id) => {
        const patient = resolved.get(id);
        if (!patient) return { value: null, errors: [] };
        const loaded = await this.withResources(patient.id, patient.records.map(toLinkRow(patient.id)));
        return { value: loaded.value && { ...loaded.value, ...(patient.mergedFrom && { mergedFrom: patient.mergedFrom }) }, errors: loaded.errors };
      }),
    );
  });

  /** Links of each id (of its survivor when merged), with the ids merged into it. Unknown ids are absent. */
  private async resolve(ids: readonly string[]): Promise<Map<string, UnifiedPatient>> {
    const { index } = this.deps;
    const links = await index.linksForUnified(ids);
    const orphans = ids.filter((id) => (links.get(id) ?? []).length === 0);
    const survivors = orphans.length ? await index.survivors(orphans) : new Map<string, string>();
    const survivorLinks = survivors.size ? await index.linksForUnified([...survivors.values()]) : new Map<string, LinkRow[]>();
    const out = new Map<string, UnifiedPatient>();
    const found = ids.map((id) => {
      const target = survivors.get(id) ?? id;
      return { id, target, rows: links.get(target) ?? survivorLinks.get(target) ?? [] };
    });
    const withLinks = found.filter((f) => f.rows.length > 0);
    const mergedFrom = withLinks.length ? await index.mergedInto([...new Set(withLinks.map((f) => f.target))]) : new Map<string, string[]>();
    for (const f of withLinks) {
      out.set(f.id, {
        id: f.target,
        records: f.rows.map((l) => ({ sourceId: l.sourceId, sourcePatientId: l.sourcePatientId, matchMethod: l.method, matchScore: l.score, resource: null })),
        ...(mergedFrom.has(f.target) && { mergedFrom: mergedFrom.get(f.target) }),
      });
    }
    return out;
  }

  /**
   * Searches the sources a patient could not be searched in when it was linked, links what
   * they hold (or merges, as any look-up would) and clears the checks that succeeded.
   */
  private async completePending(patient: UnifiedPatient, sourceIds: readonly string[]): Promise<WithErrors<UnifiedPatient | null>> {
    const errors: UpstreamError[] = [];
    const loaded = await this.withResources(patient.id, patient.records.map(toLinkRow(patient.id)));
    errors.push(...loaded.errors);
    const accepted: Candidate[] = (loaded.value?.records ?? [])
      .filter((r): r is LinkedRecord & { resource: Patient } => r.resource !== null)
      .map((r) => ({ sourceId: r.sourceId, resource: r.resource, record: toMatchRecord(r.resource) }));
    if (accepted.length === 0) return { value: patient, errors: [...errors, ...sourceIds.map((id) => notYetSearched(id))] };
    const found = await this.extend(accepted, patient.id, sourceIds, errors);
    const unifiedId = found.toLink.length ? await this.deps.index.linkRecords([{ ...keyOfCandidate(accepted[0]!), method: 'origin' }, ...found.toLink]) : patient.id;
    const survivor = await this.mergeInto(unifiedId, found.merges, found.possibles);
    await this.settleChecks(survivor, sourceIds, errors);
    await this.remember(found.seen, survivor, found.possibles);
    const resolved = await this.resolve([survivor]);
    return { value: resolved.get(survivor) ?? patient, errors };
  }

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
    const toLink: LinkRequest[] = [{ sourceId: anchor.sourceId, sourcePatientId: anchor.resource.id!, method: 'identifier' }];
    const possibles: Possible[] = [];
    const accepted: Candidate[] = [anchor];
    const seen: Candidate[] = [anchor];

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
    const known = await index.findLinks(accepted.map(keyOfCandidate));
    const anchorLink = known.get(hitKey(anchor));
    const existing = anchorLink ? ((await index.linksForUnified([anchorLink.unifiedId])).get(anchorLink.unifiedId) ?? []) : [];
    const covered = new Set([...accepted.map((c) => c.sourceId), ...existing.map((l) => l.sourceId)]);
    const missing = this.deps.sourceIds.filter((id) => !covered.has(id));
    const found = await this.extend(accepted, anchorLink?.unifiedId ?? null, missing, errors);
    seen.push(...found.seen);
    possibles.push(...found.possibles);

    // Accepted hits already in another unified patient than the anchor's: the evidence joins them.
    const merges = [...found.merges];
    for (const c of accepted.slice(1)) {
      const link = known.get(hitKey(c));
      if (link && link.unifiedId !== anchorLink?.unifiedId) merges.push({ unifiedId: link.unifiedId, candidate: c, decision: decideMatch(anchor.record, c.record, sharedSettings) });
    }
    const unifiedId = await index.linkRecords([...toLink, ...found.toLink]);
    const survivor = await this.mergeInto(unifiedId, merges, possibles);
    await this.settleChecks(survivor, missing, errors);
    await this.remember(seen, survivor, possibles);
    const links = (await index.linksForUnified([survivor])).get(survivor) ?? [];
    const resources = new Map(seen.map((h) => [hitKey(h), h.resource]));
    const loaded = await this.withResources(survivor, links, resources);
    return { value: loaded.value, errors: [...errors, ...loaded.errors] };
  }

  /**
   * Finds the person of `accepted` in `sourceIds` (strong identifiers first, then
   * demographics) and scores every candidate against every accepted record. Returns what to
   * link into `unifiedId`, what other unified patients the evidence says to merge with, and
   * the pairs kept for review.
   */
  private async extend(accepted: readonly Candidate[], unifiedId: string | null, sourceIds: readonly string[], errors: UpstreamError[]) {
    const { index } = this.deps;
    const rejected = unifiedId ? await index.possibleMatches.rejectedFor([unifiedId]) : new Set<string>();
    const acceptedKeys = new Set(accepted.map(hitKey));
    const candidates = new Map<string, Candidate>();
    const addCandidate = (hit: Hit) => {
      const key = hitKey(hit);
      if (!candidates.has(key) && !acceptedKeys.has(key)) candidates.set(key, { ...hit, record: toMatchRecord(hit.resource) });
    };
    let missing = [...sourceIds];
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
    const bySource = new Map<string, Possible[]>();
    for (const c of candidates.values()) {
      const decision = accepted
        .map((a) => decideMatch(a.record, c.record, this.settings))
        .reduce((best, d) => (rank(d) > rank(best) || (rank(d) === rank(best) && d.score > best.score) ? d : best));
      if (decision.outcome === 'none') continue;
      const list = bySource.get(c.sourceId) ?? [];
      list.push({ candidate: c, decision });
      bySource.set(c.sourceId, list);
    }
    const candidateLinks = await index.findLinks([...candidates.values()].map(keyOfCandidate));
    const toLink: LinkRequest[] = [];
    const merges: Merge[] = [];
    const possibles: Possible[] = [];
    for (const list of bySource.values()) {
      const links = list.filter((x) => x.decision.outcome === 'link');
      for (const x of list) {
        const key = hitKey(x.candidate);
        const elsewhere = candidateLinks.get(key);
        const same = !!unifiedId && elsewhere?.unifiedId === unifiedId;
        // Two auto-link candidates in one source are two people or a duplicate there: an
        // admin decides; so does a pair an admin rejected before. A record of another
        // unified patient means the two are one person: they merge.
        const linkable = x.decision.outcome === 'link' && links.length === 1 && !rejected.has(key);
        if (linkable && elsewhere && !same) merges.push({ unifiedId: elsewhere.unifiedId, ...x });
        else if (linkable && !elsewhere) {
          toLink.push({ ...keyOfCandidate(x.candidate), method: x.decision.method, score: x.decision.method === 'demographic' ? x.decision.score : null });
        } else if (!same) possibles.push(x);
      }
    }
    return { toLink, merges, possibles, seen: [...candidates.values()] };
  }

  /** Merges each patient of `merges` into `unifiedId`'s; a refused merge becomes a possible match. Returns the survivor. */
  private async mergeInto(unifiedId: string, merges: readonly Merge[], possibles: Possible[]): Promise<string> {
    let survivor = unifiedId;
    for (const m of merges) {
      if (m.unifiedId === survivor) continue;
      const outcome = await this.deps.index.mergePatients(
        survivor,
        m.unifiedId,
        { method: 'matcher', score: m.decision.score, evidence: { method: m.decision.method, held: m.decision.held ?? null, fields: m.decision.evidence.map((e) => ({ ...e })) }, by: 'matcher' },
        this.deps.auditMerge,
      );
      if (outcome.merged) survivor = outcome.merge.survivorId;
      else if (outcome.reason === 'same-patient') survivor = outcome.survivorId;
      else possibles.push(m);
    }
    return survivor;
  }

  /**
   * Sources that failed during the search are remembered as not yet searched for this
   * patient (a later read or sync searches them again); the ones searched are cleared.
   */
  private async settleChecks(unifiedId: string, searched: readonly string[], errors: readonly UpstreamError[]): Promise<void> {
    const failed = new Map<string, string>();
    for (const e of errors) if (searched.includes(e.sourceId) && !failed.has(e.sourceId)) failed.set(e.sourceId, e.code);
    const ok = searched.filter((id) => !failed.has(id));
    await Promise.all([
      this.deps.index.addPendingChecks(unifiedId, [...failed].map(([sourceId, reason]) => ({ sourceId, reason }))),
      this.deps.index.clearPendingChecks(unifiedId, ok),
    ]);
  }

  /** Writes what the look-up saw to the blocking index, and the possible matches. Best effort: the answer never waits on a failure here. */
  private async remember(seen: readonly Candidate[], unifiedId: string, possibles: readonly Possible[]) {
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
    const searches = new Map<string, SearchParams>();
    const birthDates = new Set<string>();
    for (const a of accepted) {
      const bd = a.record.birthDate;
      if (!bd) continue;
      birthDates.add(bd);
      const [y, m, d] = bd.split('-');
      if (Number(d) <= 12 && d !== m) birthDates.add(`${y}-${d}-${m}`);
      const official = a.resource.name?.find((n) => n.use === 'official') ?? a.resource.name?.[0];
      // Family name and birth year: also reaches a swapped day and month or a slip in either.
      if (official?.family) {
        const params: SearchParams = [
          ['family', escapeSearchValue(official.family)],
          ['birthdate', `ge${y}-01-01`],
          ['birthdate', `le${y}-12-31`],
        ];
        searches.set(JSON.stringify(params), params);
      }
      // First name and birth date: reaches a changed (married) or misspelt family name.
      const given = official?.given?.[0];
      if (given) {
        const params: SearchParams = [
          ['given', escapeSearchValue(given)],
          ['birthdate', bd],
        ];
        searches.set(JSON.stringify(params), params);
      }
    }
    const search = this.deps.searchPatients;
    if (search) {
      const running: Promise<void>[] = [];
      for (const [key, params] of searches) {
        for (const sourceId of sourceIds) {
          const memoKey = `${sourceId}\u0000${key}`;
          let pending = this.demographicSearches.get(memoKey);
          if (!pending) this.demographicSearches.set(memoKey, (pending = search(sourceId, params)));
          running.push(
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
      await Promise.all(running);
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
