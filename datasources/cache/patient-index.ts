import { LRUCache } from 'lru-cache';
import { randomUUID } from 'node:crypto';
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

  /** `prisma` is public so that administrative actions can write their audit event with it. */
  constructor(
    readonly prisma: PrismaClient,
    opts: { linkCacheMs?: number } = {},
  ) {
    this.sourcePatients = new SourcePatientStore(prisma);
    this.possibleMatches = new PossibleMatchStore(prisma);
    const ttl = opts.linkCacheMs ?? 0;
    this.linkCache = ttl > 0 ? new LRUCache<string, LinkRow[]>({ max: 100_000, ttl }) : undefined;
  }

  private forget(...unifiedIds: string[]): void {
    for (const id of unifiedIds) this.linkCache?.delete(id);
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
    }, { maxWait: 10_000, timeout: 20_000 }).finally(() => this.linkCache?.clear());
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
    }, { maxWait: 10_000, timeout: 20_000 }).finally(() => this.linkCache?.clear());
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
