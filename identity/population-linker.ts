import type { Prisma } from '../datasources/cache/generated/client.js';
import { linkKey, type LinkRequest, type LinkRow, type MergeRow, type PatientIndex, type SourcePatientKey } from '../datasources/cache/patient-index.js';
import type { NewPossibleMatch } from '../datasources/cache/possible-matches.js';
import type { BlockingQuery, SourcePatientRow } from '../datasources/cache/source-patient-store.js';
import { decideMatch, type MatchDecision, type MatchSettings } from './match-decision.js';
import { matchRecordOfRow } from './source-patient-row.js';

/** Links freshly indexed source patients into unified patients. */
export interface PopulationLinker {
  /** Links these rows of one source (already written to `source_patient`); returns how many rows changed the index. */
  link(sourceId: string, rows: readonly SourcePatientRow[]): Promise<number>;
}

/** What the population linker needs besides the index. */
export interface PopulationLinkerDeps {
  index: PatientIndex;
  settings: MatchSettings;
  /** Writes the audit event of a merge the matcher made, inside the merge's transaction. */
  auditMerge: (tx: Prisma.TransactionClient, merge: MergeRow) => Promise<void>;
}

interface Scored {
  candidate: SourcePatientRow;
  decision: MatchDecision;
}

/** A row's verdict: the candidates it links with (at most one per other source) and the pairs kept for review. */
interface Verdict {
  row: SourcePatientRow;
  chosen: Scored[];
  possible: Scored[];
}

/**
 * The population sync's linker: every new or changed record of a source is compared, with
 * the same {@link decideMatch} as look-ups, against the records of the other sources that
 * share a blocking key with it (birth date, birth date with day and month swapped, family
 * name sound and birth year, phone, strong identifier), never against all records. So the
 * cost grows with the population, not with its square.
 *
 * - A record links with the one candidate per other source that `decideMatch` links; two
 *   such candidates in one source, or two records of this batch wanting the same candidate,
 *   are ambiguous and kept as possible matches. Records of one source are never linked with
 *   each other (that is the source's own MPI's work).
 * - When the records that should be one person already belong to two unified patients, the
 *   two are merged (audited, reversible), unless both hold a record of one source, an admin
 *   rejected the pair or undid such a merge: then it is a possible match.
 * - A record with no match gets a unified patient of its own, as look-ups give one to every
 *   record they see.
 */
export function populationLinker(deps: PopulationLinkerDeps): PopulationLinker {
  const { index, settings } = deps;
  const strongSystems = new Set([...settings.strongIdentifierSystems, ...(settings.crossReferenceSystems ?? [])]);

  return {
    async link(sourceId, rows) {
      if (rows.length === 0) return 0;
      const candidates = await index.sourcePatients.blockingCandidates(blockingQuery(rows, strongSystems), sourceId);
      const blocks = blockIndex(candidates, strongSystems);
      const verdicts = rows.map((row) => judge(row, candidatesOf(row, blocks, strongSystems), settings));
      resolveCompetition(verdicts);

      const links = await index.findLinks([...rows, ...verdicts.flatMap((v) => [...v.chosen, ...v.possible].map((s) => s.candidate))]);
      const unifiedOf = (r: SourcePatientKey) => links.get(linkKey(r))?.unifiedId;
      const involved = [...new Set([...links.values()].map((l) => l.unifiedId))];
      const [rejected, members] = await Promise.all([index.possibleMatches.rejectedPairs(involved), index.linksForUnified(involved)]);

      // Two rows of this batch joining one patient through different candidates would give it
      // two records of this source: neither joins.
      const joining = new Map<string, number>();
      for (const v of verdicts) {
        const own = unifiedOf(v.row);
        for (const t of new Set(v.chosen.map((c) => unifiedOf(c.candidate)))) if (t && t !== own) joining.set(t, (joining.get(t) ?? 0) + 1);
      }
      for (const v of verdicts) {
        const contested = v.chosen.filter((c) => (joining.get(unifiedOf(c.candidate) ?? '') ?? 0) > 1);
        if (contested.length === 0) continue;
        v.chosen = v.chosen.filter((c) => !contested.includes(c));
        v.possible.push(...contested);
      }

      const simple: LinkRequest[][] = [];
      const merging: { verdict: Verdict; targets: string[] }[] = [];
      const possibles: NewPossibleMatch[] = [];
      for (const verdict of verdicts) {
        const own = unifiedOf(verdict.row);
        // A chosen candidate an admin kept apart from this record's patient (or the other way round) is only possible.
        verdict.chosen = verdict.chosen.filter((s) => {
          const theirs = unifiedOf(s.candidate);
          const refused = (theirs && rejected.has(`${theirs}|${linkKey(verdict.row)}`)) || (own && rejected.has(`${own}|${linkKey(s.candidate)}`));
          if (refused) verdict.possible.push(s);
          return !refused;
        });
        const targets = [...new Set([own, ...verdict.chosen.map((s) => unifiedOf(s.candidate))].filter((id): id is string => !!id))];
        // Joining a patient that already holds another record of this source would put two
        // of one EHR's patients together: a duplicate there, or two people.
        const clash = targets.some((t) => t !== own && (members.get(t) ?? []).some((l) => l.sourceId === sourceId && l.sourcePatientId !== verdict.row.sourcePatientId));
        if (clash) {
          verdict.possible.push(...verdict.chosen);
          verdict.chosen = [];
        }
        if (targets.length > 1 && !clash) merging.push({ verdict, targets });
        else if (!own || verdict.chosen.some((s) => !unifiedOf(s.candidate))) simple.push(linkGroup(verdict));
        for (const p of verdict.possible) {
          const holder = unifiedOf(p.candidate);
          if (holder && holder !== own) possibles.push(possibleMatch(holder, verdict.row, p.decision));
        }
      }

      let changed = simple.length;
      const unifiedIds = simple.length ? await index.linkMany(simple) : [];
      // Rows that got a unified patient just now: possible matches naming their candidates hang on them.
      simple.forEach((g, i) => {
        for (const r of g) if (!links.has(linkKey(r))) links.set(linkKey(r), { ...r, unifiedId: unifiedIds[i]!, score: r.score ?? null, createdAt: new Date() } as LinkRow);
      });
      for (const { verdict, targets } of merging) {
        const survivor = await mergeAll(targets, verdict);
        if (survivor) {
          changed++;
          const group = linkGroup(verdict);
          if (group.some((r) => !links.has(linkKey(r)))) await index.linkRecords(group);
        }
      }
      for (const verdict of verdicts) {
        const own = unifiedOf(verdict.row);
        if (!own) continue;
        for (const p of verdict.possible) if (!unifiedOf(p.candidate)) possibles.push(possibleMatch(own, p.candidate, p.decision));
      }
      await index.possibleMatches.addMany(possibles);
      return changed;

      /** Merges the targets pairwise into one; returns the survivor, or null when a merge was refused (then: possible matches). */
      async function mergeAll(targets: string[], verdict: Verdict): Promise<string | null> {
        let survivor = targets[0]!;
        const best = verdict.chosen.reduce((a, b) => (b.decision.score > a.decision.score ? b : a));
        for (const other of targets.slice(1)) {
          const outcome = await index.mergePatients(
            survivor,
            other,
            { method: 'matcher', score: best.decision.score, evidence: evidenceOf(best.decision), by: 'matcher' },
            deps.auditMerge,
          );
          if (outcome.merged) survivor = outcome.merge.survivorId;
          else if (outcome.reason === 'same-patient') survivor = outcome.survivorId;
          else {
            for (const s of verdict.chosen) {
              const holder = unifiedOf(s.candidate);
              if (holder) possibles.push(possibleMatch(holder, verdict.row, s.decision));
            }
            return null;
          }
        }
        return survivor;
      }
    },
  };
}

/** Blocking keys of a batch: each row's birth date (and swapped), phone, family sound + birth year, strong identifiers. */
function blockingQuery(rows: readonly SourcePatientRow[], strongSystems: ReadonlySet<string>): BlockingQuery {
  const query = { birthDates: [] as string[], phones: [] as string[], soundYears: [] as [string, number][], identifiers: [] as string[] };
  for (const r of rows) {
    query.birthDates.push(...birthDateKeys(r.birthDate));
    if (r.phone) query.phones.push(r.phone);
    if (r.familySound && r.birthYear !== null) query.soundYears.push([r.familySound, r.birthYear]);
    query.identifiers.push(...r.identifiers.filter((t) => strongSystems.has(systemOf(t))));
  }
  return query;
}

/** A birth date and, when day and month can be swapped, the swapped date. */
function birthDateKeys(birthDate: string | null): string[] {
  if (!birthDate) return [];
  const [y, m, d] = birthDate.split('-');
  return Number(d) <= 12 && d !== m ? [birthDate, `${y}-${d}-${m}`] : [birthDate];
}

interface Blocks {
  byKey: Map<string, SourcePatientRow[]>;
}

function blockIndex(candidates: readonly SourcePatientRow[], strongSystems: ReadonlySet<string>): Blocks {
  const byKey = new Map<string, SourcePatientRow[]>();
  const add = (key: string, r: SourcePatientRow) => {
    const list = byKey.get(key);
    if (list) list.push(r);
    else byKey.set(key, [r]);
  };
  for (const c of candidates) {
    if (c.birthDate) add(`b|${c.birthDate}`, c);
    if (c.phone) add(`p|${c.phone}`, c);
    if (c.familySound && c.birthYear !== null) add(`s|${c.familySound}|${c.birthYear}`, c);
    for (const t of c.identifiers) if (strongSystems.has(systemOf(t))) add(`i|${t}`, c);
  }
  return { byKey };
}

function candidatesOf(row: SourcePatientRow, blocks: Blocks, strongSystems: ReadonlySet<string>): SourcePatientRow[] {
  const keys = [
    ...birthDateKeys(row.birthDate).map((b) => `b|${b}`),
    ...(row.phone ? [`p|${row.phone}`] : []),
    ...(row.familySound && row.birthYear !== null ? [`s|${row.familySound}|${row.birthYear}`] : []),
    ...row.identifiers.filter((t) => strongSystems.has(systemOf(t))).map((t) => `i|${t}`),
  ];
  const out = new Map<string, SourcePatientRow>();
  for (const k of keys) for (const c of blocks.byKey.get(k) ?? []) out.set(linkKey(c), c);
  return [...out.values()];
}

/** Scores a row against its candidates: per other source, the one it links with, and what is only possible. */
function judge(row: SourcePatientRow, candidates: readonly SourcePatientRow[], settings: MatchSettings): Verdict {
  const record = matchRecordOfRow(row);
  const bySource = new Map<string, Scored[]>();
  const possible: Scored[] = [];
  for (const candidate of candidates) {
    const decision = decideMatch(record, matchRecordOfRow(candidate), settings);
    if (decision.outcome === 'possible') possible.push({ candidate, decision });
    if (decision.outcome !== 'link') continue;
    const list = bySource.get(candidate.sourceId);
    if (list) list.push({ candidate, decision });
    else bySource.set(candidate.sourceId, [{ candidate, decision }]);
  }
  const chosen: Scored[] = [];
  for (const list of bySource.values()) {
    if (list.length === 1) chosen.push(list[0]!);
    else possible.push(...list);
  }
  return { row, chosen, possible };
}

/** Two rows of one batch (one source) wanting the same candidate: neither gets it. */
function resolveCompetition(verdicts: Verdict[]): void {
  const wanted = new Map<string, number>();
  for (const v of verdicts) for (const s of v.chosen) wanted.set(linkKey(s.candidate), (wanted.get(linkKey(s.candidate)) ?? 0) + 1);
  for (const v of verdicts) {
    const contested = v.chosen.filter((s) => wanted.get(linkKey(s.candidate))! > 1);
    if (contested.length === 0) continue;
    v.chosen = v.chosen.filter((s) => !contested.includes(s));
    v.possible.push(...contested);
  }
}

/** The row and its chosen candidates: linked ones name the patient to join, unlinked ones join with the row. */
function linkGroup(verdict: Verdict): LinkRequest[] {
  const best = verdict.chosen.reduce<Scored | undefined>((a, b) => (!a || b.decision.score > a.decision.score ? b : a), undefined);
  // The row carries how it joined: by its best pair. A row with no pair is the origin of its patient.
  const rowMethod = best ? best.decision.method : 'origin';
  return [
    { sourceId: verdict.row.sourceId, sourcePatientId: verdict.row.sourcePatientId, method: rowMethod, score: best?.decision.method === 'demographic' ? best.decision.score : null },
    ...verdict.chosen.map((s) => ({
      sourceId: s.candidate.sourceId,
      sourcePatientId: s.candidate.sourcePatientId,
      method: s.decision.method,
      score: s.decision.method === 'demographic' ? s.decision.score : null,
    })),
  ];
}

function possibleMatch(unifiedId: string, candidate: SourcePatientKey, decision: MatchDecision): NewPossibleMatch {
  return {
    unifiedId,
    candidateSourceId: candidate.sourceId,
    candidateSourcePatientId: candidate.sourcePatientId,
    score: decision.score,
    evidence: evidenceOf(decision),
  };
}

function evidenceOf(decision: MatchDecision): Prisma.InputJsonValue {
  return { method: decision.method, held: decision.held ?? null, fields: decision.evidence.map((e) => ({ ...e })) };
}

function systemOf(token: string): string {
  return token.slice(0, Math.max(0, token.indexOf('|')));
}
