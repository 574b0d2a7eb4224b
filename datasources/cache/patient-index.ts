import { LRUCache } from 'lru-cache';
import { randomUUID } from 'node:crypto';
import { BadUserInputError } from '../../errors/errors.js';
import type { Prisma, PrismaClient } from './generated/client.js';
import { PossibleMatchStore } from './possible-matches.js';
import { SourcePatientStore } from './source-patient-store.js';

/** A source patient linked into a unified patient. */
export interface LinkRow {
  unifiedId: string;
  sourceId: string;
  sourcePatientId: string;
  method: string;
  score: number | null;
  createdAt: Date;
}

/** One source patient. */
export interface SourcePatientKey {
  sourceId: string;
  sourcePatientId: string;
}

/** A source patient to link, with how it was matched. */
export interface LinkRequest extends SourcePatientKey {
  /** `identifier`, `demographic`, `manual`, ... */
  method: string;
  score?: number | null;
}

/** One merge of two unified patients. */
export interface MergeRow {
  id: string;
  survivorId: string;
  mergedId: string;
  /** The source records that moved to the survivor. */
  records: SourcePatientKey[];
  method: string;
  score: number | null;
  evidence: unknown;
  mergedBy: string;
  at: Date;
  undoneAt: Date | null;
  undoneBy: string | null;
}

/** Why and by whom two unified patients are merged. */
export interface MergeRequest {
  /** `matcher` or `manual`. */
  method: string;
  score?: number | null;
  /** Per-field outcomes of the pair that joined them (no values). */
  evidence?: Prisma.InputJsonValue | null;
  /** Token subject of an admin, or `matcher`. */
  by: string;
}

/** What `mergePatients` did. */
export type MergeOutcome =
  | { merged: true; merge: MergeRow }
  /** Already one patient (a concurrent merge got there first). */
  | { merged: false; reason: 'same-patient'; survivorId: string }
  /** Both hold a record of one source: two people, or a duplicate that an admin must untangle. */
  | { merged: false; reason: 'same-source' }
  /** An admin undid a merge of these two before: the matcher never redoes it. */
  | { merged: false; reason: 'undone-before' };

/** A source that could not be searched for a patient when it was linked. */
export interface PendingCheck {
  unifiedId: string;
  sourceId: string;
  reason: string;
  since: Date;
}

/** `${sourceId}/${sourcePatientId}`: the key of `findLinks`' map. */
export function linkKey(record: SourcePatientKey): string {
  return `${record.sourceId}/${record.sourcePatientId}`;
}

type Client = PrismaClient | Prisma.TransactionClient;

// Postgres allows 65 535 bind parameters per statement; stay well below.
const MAX_IDS_PER_QUERY = 20_000;
// Deadlocks and serialization failures are worth one more try; Prisma maps both to P2034.
const RETRYABLE = /P2034|40P01|40001|deadlock|could not serialize/i;
const ATTEMPTS = 3;

/**
 * The master patient index: links between source patients (one EHR's patient id) and the
 * unified ids chartgraph hands out. Every method is one round trip where the data allows.
 */
export class PatientIndex {
  /** Demographics of seen source patients (blocking and `searchPatients`). */
  readonly sourcePatients: SourcePatientStore;
  /** Pairs kept for admin review. */
  readonly possibleMatches: PossibleMatchStore;

  /**
   * Links per unified id, kept briefly in memory: opening a patient is the hottest path of
   * the gateway and its links rarely change. This replica's own changes drop the entries
   * they touch at once; another replica's changes show here within `linkCacheMs`.
   */
  private readonly linkCache: LRUCache<string, LinkRow[]> | undefined;
  /** Pending checks per unified id, kept like the links (most patients have none: an empty list is kept too). */
  private readonly pendingCache: LRUCache<string, PendingCheck[]> | undefined;
  /** Ids merged into each survivor, kept like the links. */
  private readonly mergedCache: LRUCache<string, string[]> | undefined;

  /** `prisma` is public so that administrative actions can write their audit event with it. */
  constructor(
    readonly prisma: PrismaClient,
    opts: { linkCacheMs?: number } = {},
  ) {
    this.sourcePatients = new SourcePatientStore(prisma);
    this.possibleMatches = new PossibleMatchStore(prisma);
    const ttl = opts.linkCacheMs ?? 0;
    this.linkCache = ttl > 0 ? new LRUCache<string, LinkRow[]>({ max: 100_000, ttl }) : undefined;
    this.pendingCache = ttl > 0 ? new LRUCache<string, PendingCheck[]>({ max: 100_000, ttl }) : undefined;
    this.mergedCache = ttl > 0 ? new LRUCache<string, string[]>({ max: 100_000, ttl }) : undefined;
  }

  private forget(...unifiedIds: string[]): void {
    for (const id of unifiedIds) this.linkCache?.delete(id);
    for (const listener of this.onLinksChanged) listener(unifiedIds);
  }

  /**
   * Until when what this replica keeps in memory about these patients (links, merged ids,
   * pending checks) may be used, epoch ms: an answer built from it is no fresher. Infinity
   * when nothing about them is kept.
   */
  keptUntil(unifiedIds: Iterable<string>, now = Date.now()): number {
    let until = Number.POSITIVE_INFINITY;
    for (const id of unifiedIds) {
      for (const cache of [this.linkCache, this.mergedCache, this.pendingCache]) {
        if (cache?.has(id)) until = Math.min(until, now + cache.getRemainingTTL(id));
      }
    }
    return until;
  }

  /**
   * Told whenever this replica changes links: with the unified ids when a patient gained
   * links, without when a merge, an undo or a move may have changed any. What was answered
   * from them may be out of date.
   */
  readonly onLinksChanged = new Set<(unifiedIds?: readonly string[]) => void>();

  private linksChanged(): void {
    this.linkCache?.clear();
    for (const listener of this.onLinksChanged) listener();
  }

  /**
   * The surviving unified id of each id that was merged into another; ids never merged are
   * absent. One query (merges keep one hop: a survivor is never itself merged).
   */
  async survivors(unifiedIds: readonly string[]): Promise<Map<string, string>> {
    const ids = [...new Set(unifiedIds)].filter(isUuid);
    const out = new Map<string, string>();
    if (ids.length === 0) return out;
    const rows = await this.prisma.unifiedPatient.findMany({ where: { id: { in: ids }, mergedInto: { not: null } }, select: { id: true, mergedInto: true } });
    for (const r of rows) out.set(r.id, r.mergedInto!);
    return out;
  }

  /** For each survivor, the ids merged into it (which resolve to it), oldest merge first. */
  async mergedInto(survivorIds: readonly string[]): Promise<Map<string, string[]>> {
    return readThrough(this.mergedCache, survivorIds, async (asked) => {
      const rows = await this.prisma.unifiedPatient.findMany({
        where: { mergedInto: { in: asked } },
        orderBy: [{ mergedAt: 'asc' }, { id: 'asc' }],
        select: { id: true, mergedInto: true },
      });
      return groupBy(rows, (r) => r.mergedInto!, (r) => r.id);
    });
  }

  /**
   * Merges two unified patients into one: the older survives (so concurrent merges pick the
   * same one), the other's links move to it and its id keeps resolving to it; earlier
   * merges into the loser are re-pointed (one hop), its possible matches and pending checks
   * move along. Refused when both hold a record of one source, or when an admin undid a
   * merge of these two (`method: matcher` only). Both rows are locked in id order, so two
   * replicas merging the same pair, or overlapping pairs, serialise. `run` writes the audit
   * event in the same transaction.
   */
  async mergePatients(a: string, b: string, request: MergeRequest, run?: (tx: Prisma.TransactionClient, merge: MergeRow) => Promise<void>): Promise<MergeOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await this.prisma.$transaction((tx) => mergeInTransaction(tx, a, b, request, run), { maxWait: 10_000, timeout: 20_000 });
        this.linksChanged();
        this.pendingCache?.clear();
        this.mergedCache?.clear();
        return outcome;
      } catch (error) {
        if (attempt >= ATTEMPTS || !RETRYABLE.test(errorText(error))) throw error;
      }
    }
  }

  /**
   * Undoes a merge: the records it moved (those still with the survivor) go back to the
   * merged id, which stops resolving to the survivor. Null when there is no such merge or it
   * was undone already. Refused while the survivor is itself merged into a later survivor:
   * the records have moved on with it, so that later merge must be undone first.
   */
  async undoMerge(mergeId: string, by: string, run?: (tx: Prisma.TransactionClient, merge: MergeRow) => Promise<void>): Promise<MergeRow | null> {
    if (!isUuid(mergeId)) return null;
    const result = await this.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "patient_merge" WHERE "id" = ${mergeId}::uuid AND "undone_at" IS NULL FOR UPDATE`;
      if (rows.length === 0) return null;
      const row = await tx.patientMerge.findUniqueOrThrow({ where: { id: mergeId } });
      const detail = row.links as unknown as MergeDetail;
      const locked = await lockPatients(tx, [row.survivorId, row.mergedId]);
      if (locked.find((p) => p.id === row.survivorId)?.mergedInto) {
        throw new BadUserInputError('The survivor of this merge was merged again later: undo that later merge first', { argument: 'mergeId' });
      }
      for (const r of detail.records) {
        await tx.patientLink.updateMany({
          where: { sourceId: r.sourceId, sourcePatientId: r.sourcePatientId, unifiedId: row.survivorId },
          data: { unifiedId: row.mergedId },
        });
      }
      const now = new Date();
      await tx.unifiedPatient.update({ where: { id: row.mergedId }, data: { mergedInto: null, mergedAt: null } });
      if (detail.repointed.length) await tx.unifiedPatient.updateMany({ where: { id: { in: detail.repointed }, mergedInto: row.survivorId }, data: { mergedInto: row.mergedId } });
      const undone = await tx.patientMerge.update({ where: { id: mergeId }, data: { undoneAt: now, undoneBy: by } });
      const merge = toMergeRow(undone);
      await run?.(tx, merge);
      return merge;
    }, { maxWait: 10_000, timeout: 20_000 });
    this.linksChanged();
    this.mergedCache?.clear();
    return result;
  }

  /** Merges involving any of these unified ids (as survivor or merged), newest first. */
  async merges(unifiedIds: readonly string[] | null, skip: number, take: number): Promise<{ rows: MergeRow[]; total: number }> {
    const ids = unifiedIds?.filter(isUuid);
    const where = ids ? { OR: [{ survivorId: { in: ids } }, { mergedId: { in: ids } }] } : {};
    const [rows, total] = await Promise.all([
      this.prisma.patientMerge.findMany({ where, orderBy: [{ at: 'desc' }, { id: 'asc' }], skip, take }),
      this.prisma.patientMerge.count({ where }),
    ]);
    return { rows: rows.map(toMergeRow), total };
  }

  /** Notes that these sources could not be searched for this patient (kept until a search succeeds). */
  async addPendingChecks(unifiedId: string, checks: readonly { sourceId: string; reason: string }[]): Promise<void> {
    if (checks.length === 0) return;
    this.pendingCache?.delete(unifiedId);
    await this.prisma.pendingSourceCheck.createMany({
      data: checks.map((c) => ({ unifiedId, sourceId: c.sourceId, reason: c.reason, since: new Date() })),
      skipDuplicates: true,
    });
  }

  /** Pending checks of these unified patients, by unified id. One query. */
  async pendingChecks(unifiedIds: readonly string[]): Promise<Map<string, PendingCheck[]>> {
    return readThrough(this.pendingCache, unifiedIds, async (asked) => {
      const rows = await this.prisma.pendingSourceCheck.findMany({ where: { unifiedId: { in: asked } }, orderBy: [{ sourceId: 'asc' }] });
      return groupBy(rows, (r) => r.unifiedId, (r) => r);
    });
  }

  /** Clears pending checks: these sources of this patient were searched. */
  async clearPendingChecks(unifiedId: string, sourceIds: readonly string[]): Promise<void> {
    if (sourceIds.length === 0) return;
    this.pendingCache?.delete(unifiedId);
    await this.prisma.pendingSourceCheck.deleteMany({ where: { unifiedId, sourceId: { in: [...sourceIds] } } });
  }

  /** Unified patients with a check of this source pending since before `before`. */
  async pendingOfSource(sourceId: string, before: Date): Promise<string[]> {
    const rows = await this.prisma.pendingSourceCheck.findMany({ where: { sourceId, since: { lt: before } }, select: { unifiedId: true } });
    return rows.map((r) => r.unifiedId);
  }

  /** Clears the checks of one source noted before `before`, for these patients. */
  async clearPendingOfSource(sourceId: string, before: Date, unifiedIds: readonly string[]): Promise<void> {
    if (unifiedIds.length === 0) return;
    for (const id of unifiedIds) this.pendingCache?.delete(id);
    await this.prisma.pendingSourceCheck.deleteMany({ where: { sourceId, since: { lt: before }, unifiedId: { in: [...unifiedIds] } } });
  }

  /**
   * Links many groups at once (a population sync's batch): one transaction when no group
   * touches two unified patients and no record is claimed concurrently; otherwise each group
   * through {@link linkRecords}. Returns the unified id of each group, in order.
   */
  async linkMany(groups: readonly (readonly LinkRequest[])[]): Promise<string[]> {
    const nonEmpty = groups.filter((g) => g.length > 0);
    if (nonEmpty.length !== groups.length) throw new TypeError('linkMany needs at least one record per group');
    const seen = new Set<string>();
    const distinct = groups.every((g) => g.every((r) => !seen.has(linkKey(r)) && !!seen.add(linkKey(r))));
    if (distinct) {
      const ids = await this.prisma
        .$transaction((tx) => linkManyInTransaction(tx, groups), { maxWait: 10_000, timeout: 60_000 })
        .catch((error: unknown) => {
          if (error instanceof FallBack || /P2002|unique constraint/i.test(errorText(error)) || RETRYABLE.test(errorText(error))) return null;
          throw error;
        });
      if (ids) {
        this.forget(...ids);
        return ids;
      }
    }
    const out: string[] = [];
    for (const g of groups) out.push(await this.linkRecords(g));
    return out;
  }

  /** Whether a unified id was ever handed out (it may have no links left after unlinks). */
  async exists(unifiedId: string): Promise<boolean> {
    if (!isUuid(unifiedId)) return false;
    return (await this.prisma.unifiedPatient.count({ where: { id: unifiedId } })) === 1;
  }

  /**
   * An admin's link: puts these source records into `unifiedId`, moving them out of any
   * other unified patient (method `manual`, no score). Returns the unified ids they left.
   * `run` is called inside the same transaction (for the audit event), so the move and its
   * record commit together.
   */
  async moveRecords(
    unifiedId: string,
    records: readonly SourcePatientKey[],
    run?: (tx: Prisma.TransactionClient, previous: string[]) => Promise<void>,
  ): Promise<string[]> {
    const sorted = [...new Map(records.map((r) => [linkKey(r), r])).values()].sort(
      (a, b) => compare(a.sourceId, b.sourceId) || compare(a.sourcePatientId, b.sourcePatientId),
    );
    return this.prisma.$transaction(async (tx) => {
      const existing = await readLinks(tx, sorted);
      const previous = [...new Set([...existing.values()].map((l) => l.unifiedId).filter((id) => id !== unifiedId))];
      for (const r of sorted) {
        await tx.patientLink.upsert({
          where: { sourceId_sourcePatientId: { sourceId: r.sourceId, sourcePatientId: r.sourcePatientId } },
          create: { sourceId: r.sourceId, sourcePatientId: r.sourcePatientId, unifiedId, method: 'manual', score: null },
          update: { unifiedId, method: 'manual', score: null },
        });
      }
      await run?.(tx, previous);
      return previous;
    }, { maxWait: 10_000, timeout: 20_000 }).finally(() => this.linksChanged());
  }

  /**
   * An admin's unlink: takes one source record out of its unified patient into a new one of
   * its own (method `manual`). Returns both ids, or null when the record is not linked.
   */
  async detachRecord(
    record: SourcePatientKey,
    run?: (tx: Prisma.TransactionClient, moved: { from: string; to: string }) => Promise<void>,
  ): Promise<{ from: string; to: string } | null> {
    return this.prisma.$transaction(async (tx) => {
      const link = (await readLinks(tx, [record])).get(linkKey(record));
      if (!link) return null;
      const to = randomUUID();
      await tx.unifiedPatient.create({ data: { id: to } });
      await tx.patientLink.update({
        where: { sourceId_sourcePatientId: { sourceId: record.sourceId, sourcePatientId: record.sourcePatientId } },
        data: { unifiedId: to, method: 'manual', score: null },
      });
      const moved = { from: link.unifiedId, to };
      await run?.(tx, moved);
      return moved;
    }, { maxWait: 10_000, timeout: 20_000 }).finally(() => this.linksChanged());
  }

  /** The links of these source patients, keyed by `linkKey`; unlinked ones are absent. One query. */
  async findLinks(records: readonly SourcePatientKey[]): Promise<Map<string, LinkRow>> {
    return readLinks(this.prisma, records);
  }

  /**
   * Every source patient linked into each unified id, oldest link first. Every requested id is
   * in the map (an empty list when nothing links to it). One query: fit for a DataLoader batch.
   */
  async linksForUnified(unifiedIds: readonly string[]): Promise<Map<string, LinkRow[]>> {
    const result = new Map<string, LinkRow[]>();
    for (const id of unifiedIds) result.set(id, this.linkCache?.get(id) ?? []);
    const ids = [...new Set(unifiedIds)].filter((id) => isUuid(id) && !this.linkCache?.has(id));
    if (ids.length === 0) return result;
    const rows = await this.prisma.patientLink.findMany({
      where: { unifiedId: { in: ids } },
      orderBy: [{ createdAt: 'asc' }, { sourceId: 'asc' }, { sourcePatientId: 'asc' }],
    });
    for (const row of rows) result.get(row.unifiedId)?.push(toLinkRow(row));
    // Unknown ids are not remembered: a patient created a moment later must be found.
    for (const id of ids) if (result.get(id)!.length > 0) this.linkCache?.set(id, result.get(id)!);
    return result;
  }

  /**
   * Puts these source patients in one unified patient and returns its id.
   *
   * - None linked yet: a new unified patient gets them all.
   * - Some already linked: the unlinked ones join the unified patient of the oldest existing
   *   link. When the records already belong to two or more unified patients, those other
   *   links stay as they are: this never merges unified patients silently (merging is an
   *   audited admin action).
   *
   * Safe under concurrency: links are inserted with ON CONFLICT DO NOTHING against the
   * (sourceId, sourcePatientId) key, in key order (no deadlocks); a caller that created a new
   * unified patient but lost some records to a concurrent caller moves its own new links to
   * the winner's unified patient and drops its own, so racing callers agree on one id.
   */
  async linkRecords(records: readonly LinkRequest[]): Promise<string> {
    if (records.length === 0) throw new TypeError('linkRecords needs at least one record');
    const unique = new Map<string, LinkRequest>();
    for (const r of records) if (!unique.has(linkKey(r))) unique.set(linkKey(r), r);
    const sorted = [...unique.values()].sort((a, b) => compare(a.sourceId, b.sourceId) || compare(a.sourcePatientId, b.sourcePatientId));

    for (let attempt = 1; ; attempt++) {
      try {
        const unifiedId = await this.prisma.$transaction((tx) => linkInTransaction(tx, sorted), { maxWait: 10_000, timeout: 20_000 });
        this.forget(unifiedId);
        return unifiedId;
      } catch (error) {
        if (attempt >= ATTEMPTS || !RETRYABLE.test(errorText(error))) throw error;
      }
    }
  }
}

async function linkInTransaction(tx: Prisma.TransactionClient, records: readonly LinkRequest[]): Promise<string> {
  const existing = await readLinks(tx, records);
  const missing = records.filter((r) => !existing.has(linkKey(r)));
  let target: string;
  const created = existing.size === 0;
  if (created) {
    target = randomUUID();
    await tx.unifiedPatient.create({ data: { id: target } });
  } else {
    target = oldest([...existing.values()]).unifiedId;
    // A merge running beside us moves the target's links; locking the row orders us after it.
    const [row] = await lockPatients(tx, [target]);
    if (row?.mergedInto) target = row.mergedInto;
  }
  if (missing.length === 0) return target;

  const { count } = await tx.patientLink.createMany({
    data: missing.map((r) => ({
      sourceId: r.sourceId,
      sourcePatientId: r.sourcePatientId,
      unifiedId: target,
      method: r.method,
      score: r.score ?? null,
    })),
    skipDuplicates: true,
  });
  // Every insert landed: no concurrent caller took any of these records.
  if (count === missing.length || !created) return target;

  // A concurrent caller linked some of them first (its rows are committed and visible now,
  // at READ COMMITTED). Nobody else can see our new unified patient yet, so move our links
  // to theirs and drop ours.
  const after = await readLinks(tx, records);
  const theirs = [...after.values()].filter((l) => l.unifiedId !== target);
  if (theirs.length === 0) return target;
  const winner = oldest(theirs).unifiedId;
  await tx.patientLink.updateMany({ where: { unifiedId: target }, data: { unifiedId: winner } });
  await tx.unifiedPatient.delete({ where: { id: target } });
  return winner;
}

/** Thrown inside `linkManyInTransaction` to roll back and link group by group. */
class FallBack extends Error {}

async function linkManyInTransaction(tx: Prisma.TransactionClient, groups: readonly (readonly LinkRequest[])[]): Promise<string[]> {
  const existing = await readLinks(tx, groups.flat());
  const targets = groups.map((g) => {
    const ids = new Set(g.map((r) => existing.get(linkKey(r))?.unifiedId).filter((id): id is string => !!id));
    if (ids.size > 1) throw new FallBack();
    return [...ids][0] ?? null;
  });
  const joined = targets.filter((t): t is string => !!t);
  // Locked, so that a concurrent merge of a target waits for us or we see it merged.
  if (joined.length && (await lockPatients(tx, joined)).some((r) => r.mergedInto)) throw new FallBack();
  const ids = targets.map((t) => t ?? randomUUID());
  const created = ids.filter((_, i) => targets[i] === null);
  if (created.length) await tx.unifiedPatient.createMany({ data: created.map((id) => ({ id })) });
  const data = groups.flatMap((g, i) =>
    g
      .filter((r) => !existing.has(linkKey(r)))
      .map((r) => ({ sourceId: r.sourceId, sourcePatientId: r.sourcePatientId, unifiedId: ids[i]!, method: r.method, score: r.score ?? null })),
  );
  // No skipDuplicates: a record a concurrent writer linked first fails the whole batch,
  // which then goes group by group through the race-safe path.
  if (data.length) await tx.patientLink.createMany({ data });
  return ids;
}

/** What a merge row's `links` column holds. */
interface MergeDetail {
  records: { sourceId: string; sourcePatientId: string; method: string; score: number | null }[];
  /** Ids that had been merged into the loser and now point at the survivor. */
  repointed: string[];
}

async function lockPatients(tx: Prisma.TransactionClient, ids: readonly string[]): Promise<{ id: string; createdAt: Date; mergedInto: string | null }[]> {
  const sorted = [...new Set(ids)].sort();
  return tx.$queryRaw<{ id: string; createdAt: Date; mergedInto: string | null }[]>`
    SELECT "id"::text AS "id", "created_at" AS "createdAt", "merged_into"::text AS "mergedInto" FROM "unified_patient"
    WHERE "id" = ANY(${sorted}::uuid[]) ORDER BY "id" FOR UPDATE`;
}

async function mergeInTransaction(
  tx: Prisma.TransactionClient,
  a: string,
  b: string,
  request: MergeRequest,
  run?: (tx: Prisma.TransactionClient, merge: MergeRow) => Promise<void>,
): Promise<MergeOutcome> {
  // Resolve to survivors first (either may have been merged meanwhile), then lock and check.
  let ids = [a, b];
  let locked = await lockPatients(tx, ids);
  for (let hops = 0; locked.some((r) => r.mergedInto) && hops < 3; hops++) {
    ids = ids.map((id) => locked.find((r) => r.id === id)?.mergedInto ?? id);
    locked = await lockPatients(tx, ids);
  }
  if (locked.length < 2 || ids[0] === ids[1]) return { merged: false, reason: 'same-patient', survivorId: ids[0]! };
  if (locked.some((r) => r.mergedInto)) throw new Error('40001 merge chain changed during the merge');
  const [survivor, loser] = [...locked].sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime() || compare(x.id, y.id));
  if (request.method === 'matcher') {
    const undone = await tx.patientMerge.count({
      where: {
        undoneAt: { not: null },
        OR: [
          { survivorId: survivor!.id, mergedId: loser!.id },
          { survivorId: loser!.id, mergedId: survivor!.id },
        ],
      },
    });
    if (undone > 0) return { merged: false, reason: 'undone-before' };
  }
  const links = await tx.patientLink.findMany({ where: { unifiedId: { in: [survivor!.id, loser!.id] } } });
  const survivorSources = new Set(links.filter((l) => l.unifiedId === survivor!.id).map((l) => l.sourceId));
  const moving = links.filter((l) => l.unifiedId === loser!.id);
  if (moving.some((l) => survivorSources.has(l.sourceId))) return { merged: false, reason: 'same-source' };

  const now = new Date();
  await tx.patientLink.updateMany({ where: { unifiedId: loser!.id }, data: { unifiedId: survivor!.id } });
  const repointed = (await tx.unifiedPatient.findMany({ where: { mergedInto: loser!.id }, select: { id: true } })).map((r) => r.id);
  if (repointed.length) await tx.unifiedPatient.updateMany({ where: { id: { in: repointed } }, data: { mergedInto: survivor!.id } });
  await tx.unifiedPatient.update({ where: { id: loser!.id }, data: { mergedInto: survivor!.id, mergedAt: now } });
  // Possible matches and pending checks follow the person; duplicates of the survivor's go.
  await tx.$executeRaw`UPDATE "possible_match" pm SET "unified_id" = ${survivor!.id}::uuid WHERE pm."unified_id" = ${loser!.id}::uuid
    AND NOT EXISTS (SELECT 1 FROM "possible_match" s WHERE s."unified_id" = ${survivor!.id}::uuid
      AND s."candidate_source_id" = pm."candidate_source_id" AND s."candidate_source_patient_id" = pm."candidate_source_patient_id")`;
  await tx.possibleMatch.deleteMany({ where: { unifiedId: loser!.id } });
  await tx.$executeRaw`UPDATE "possible_match" pm SET "status" = 'linked', "reviewed_at" = ${now}, "reviewed_by" = ${request.by}
    WHERE pm."unified_id" = ${survivor!.id}::uuid AND pm."status" = 'open' AND EXISTS (SELECT 1 FROM "patient_link" l
      WHERE l."unified_id" = pm."unified_id" AND l."source_id" = pm."candidate_source_id" AND l."source_patient_id" = pm."candidate_source_patient_id")`;
  await tx.$executeRaw`INSERT INTO "pending_source_check" ("unified_id", "source_id", "reason", "since")
    SELECT ${survivor!.id}::uuid, "source_id", "reason", "since" FROM "pending_source_check" WHERE "unified_id" = ${loser!.id}::uuid
    ON CONFLICT DO NOTHING`;
  await tx.pendingSourceCheck.deleteMany({ where: { OR: [{ unifiedId: loser!.id }, { unifiedId: survivor!.id, sourceId: { in: moving.map((l) => l.sourceId) } }] } });

  const detail: MergeDetail = {
    records: moving.map((l) => ({ sourceId: l.sourceId, sourcePatientId: l.sourcePatientId, method: l.method, score: l.score })),
    repointed,
  };
  const row = await tx.patientMerge.create({
    data: {
      id: randomUUID(),
      survivorId: survivor!.id,
      mergedId: loser!.id,
      links: detail as unknown as Prisma.InputJsonValue,
      method: request.method,
      score: request.score ?? null,
      evidence: request.evidence ?? undefined,
      mergedBy: request.by,
      at: now,
    },
  });
  const merge = toMergeRow(row);
  await run?.(tx, merge);
  return { merged: true, merge };
}

function toMergeRow(row: {
  id: string;
  survivorId: string;
  mergedId: string;
  links: unknown;
  method: string;
  score: number | null;
  evidence: unknown;
  mergedBy: string;
  at: Date;
  undoneAt: Date | null;
  undoneBy: string | null;
}): MergeRow {
  const detail = row.links as MergeDetail;
  return {
    id: row.id,
    survivorId: row.survivorId,
    mergedId: row.mergedId,
    records: detail.records.map((r) => ({ sourceId: r.sourceId, sourcePatientId: r.sourcePatientId })),
    method: row.method,
    score: row.score,
    evidence: row.evidence,
    mergedBy: row.mergedBy,
    at: row.at,
    undoneAt: row.undoneAt,
    undoneBy: row.undoneBy,
  };
}

/**
 * Per-id lists served from `cache` where it holds them (an empty list included: most
 * patients have none), the rest asked of `fetch` in one call and remembered. Ids with an
 * empty list are absent from the answer.
 */
async function readThrough<V>(cache: LRUCache<string, V[]> | undefined, ids: readonly string[], fetch: (asked: string[]) => Promise<Map<string, V[]>>): Promise<Map<string, V[]>> {
  const out = new Map<string, V[]>();
  const unique = [...new Set(ids)].filter(isUuid);
  for (const id of unique) {
    const cached = cache?.get(id);
    if (cached?.length) out.set(id, cached);
  }
  const asked = unique.filter((id) => !cache?.has(id));
  if (asked.length === 0) return out;
  const fetched = await fetch(asked);
  for (const id of asked) {
    const list = fetched.get(id) ?? [];
    cache?.set(id, list);
    if (list.length) out.set(id, list);
  }
  return out;
}

function groupBy<R, V>(rows: readonly R[], key: (r: R) => string, value: (r: R) => V): Map<string, V[]> {
  const out = new Map<string, V[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(value(r));
    else out.set(k, [value(r)]);
  }
  return out;
}

async function readLinks(client: Client, records: readonly SourcePatientKey[]): Promise<Map<string, LinkRow>> {
  const result = new Map<string, LinkRow>();
  if (records.length === 0) return result;
  const bySource = new Map<string, Set<string>>();
  for (const r of records) {
    let ids = bySource.get(r.sourceId);
    if (!ids) bySource.set(r.sourceId, (ids = new Set()));
    ids.add(r.sourcePatientId);
  }
  // One query unless the batch is huge (a population sync); then one per slice.
  const slices: { sourceId: string; ids: string[] }[][] = [[]];
  let size = 0;
  for (const [sourceId, ids] of bySource) {
    const all = [...ids];
    for (let i = 0; i < all.length; i += MAX_IDS_PER_QUERY) {
      const part = all.slice(i, i + MAX_IDS_PER_QUERY);
      if (size + part.length > MAX_IDS_PER_QUERY) {
        slices.push([]);
        size = 0;
      }
      slices[slices.length - 1].push({ sourceId, ids: part });
      size += part.length;
    }
  }
  for (const slice of slices) {
    const rows = await client.patientLink.findMany({
      where: { OR: slice.map((s) => ({ sourceId: s.sourceId, sourcePatientId: { in: s.ids } })) },
    });
    for (const row of rows) result.set(linkKey(row), toLinkRow(row));
  }
  return result;
}

/** Just the link fields of a Prisma row (which has more). */
function toLinkRow(row: LinkRow): LinkRow {
  return {
    unifiedId: row.unifiedId,
    sourceId: row.sourceId,
    sourcePatientId: row.sourcePatientId,
    method: row.method,
    score: row.score,
    createdAt: row.createdAt,
  };
}

function oldest(links: readonly LinkRow[]): LinkRow {
  return links.reduce((best, l) => {
    const d = l.createdAt.getTime() - best.createdAt.getTime();
    return d < 0 || (d === 0 && l.unifiedId < best.unifiedId) ? l : best;
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// The column is a Postgres uuid: a malformed id would fail the whole batch, so it is simply
// not found.
function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

function errorText(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  return `${String(e?.code ?? '')} ${String(e?.message ?? '')}`;
}
