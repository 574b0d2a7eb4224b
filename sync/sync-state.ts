import type { PrismaClient } from '../datasources/cache/generated/client.js';

/**
 * Where a source's sync stands: `running` (in progress, or killed: resumable), `interrupted`
 * (stopped by a signal: resumable), `failed` (an upstream error: resumable), `complete`.
 */
export type SyncStatus = 'running' | 'interrupted' | 'failed' | 'complete';

/** Where an unfinished walk resumes. */
export type SyncCursor =
  | { kind: 'search'; next: string }
  | { kind: 'export'; statusUrl: string; filesDone: number };

/** One source's row of `sync_state`. */
export interface SyncStateRow {
  sourceId: string;
  cursor: SyncCursor | null;
  /** Lower bound of the run in progress; once complete, of the next run. Null: everything. */
  since: Date | null;
  status: SyncStatus;
  /** Patients written by the run in progress (or the last one). */
  indexed: number;
  startedAt: Date | null;
  finishedAt: Date | null;
}

// An export cursor is the status URL with the number of finished files as its fragment: a
// fragment never reaches a server, and a next link never carries this one.
const EXPORT_FRAGMENT = /#export-files-done=(\d+)$/;

/** The `cursor` column's text for a cursor: the next link as given, or the export status URL. */
export function encodeCursor(cursor: SyncCursor | null): string | null {
  if (!cursor) return null;
  return cursor.kind === 'search' ? cursor.next : `${cursor.statusUrl.replace(/#.*$/, '')}#export-files-done=${cursor.filesDone}`;
}

/** Reads the `cursor` column back. */
export function decodeCursor(text: string | null): SyncCursor | null {
  if (!text) return null;
  const m = EXPORT_FRAGMENT.exec(text);
  if (m) return { kind: 'export', statusUrl: text.slice(0, m.index), filesDone: Number(m[1]) };
  return { kind: 'search', next: text };
}

/** `sync_state` through Prisma: one row per source, each change one statement. */
export class SyncStateStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** The state of one source, or null before its first run. */
  async get(sourceId: string): Promise<SyncStateRow | null> {
    const row = await this.prisma.syncState.findUnique({ where: { sourceId } });
    if (!row) return null;
    return {
      sourceId: row.sourceId,
      cursor: decodeCursor(row.cursor),
      since: row.since,
      status: row.status as SyncStatus,
      indexed: row.indexed,
      startedAt: row.startedAt,
      finishedAt: row.finishedAt,
    };
  }

  /** A new run from the start: no cursor, nothing indexed yet, `since` = this run's lower bound. */
  async start(sourceId: string, since: Date | null, startedAt: Date): Promise<void> {
    const data = { cursor: null, since, status: 'running', indexed: 0, startedAt, finishedAt: null };
    await this.prisma.syncState.upsert({ where: { sourceId }, create: { sourceId, ...data }, update: data });
  }

  /** A resumed run carries on where the cursor points. */
  async resume(sourceId: string): Promise<void> {
    await this.prisma.syncState.update({ where: { sourceId }, data: { status: 'running', finishedAt: null } });
  }

  /** Records progress: the new cursor and the patients written since the last commit. */
  async advance(sourceId: string, cursor: SyncCursor | null, written: number): Promise<void> {
    await this.prisma.syncState.update({ where: { sourceId }, data: { cursor: encodeCursor(cursor), indexed: { increment: written } } });
  }

  /** The run is over: the next run asks only for what changed after `nextSince`. */
  async complete(sourceId: string, nextSince: Date, finishedAt: Date): Promise<void> {
    await this.prisma.syncState.update({ where: { sourceId }, data: { cursor: null, since: nextSince, status: 'complete', finishedAt } });
  }

  /** Stopped before the end; the cursor stays for the next run. */
  async stop(sourceId: string, status: 'interrupted' | 'failed'): Promise<void> {
    await this.prisma.syncState.update({ where: { sourceId }, data: { status } });
  }
}
