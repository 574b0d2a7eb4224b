import { open, readdir, readFile, rename, unlink, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AuditRecord } from './audit-store.js';
import type { AuditSink } from './audit-writer.js';

/**
 * A local append-only file of audit events that could not reach the database (one JSON
 * object per line, fsync'd before `append` resolves). `replay` moves them into the database
 * when it is back; inserts are idempotent by event id, so a replay cut short and run again
 * stores each event once.
 */
export class AuditSpool {
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  /** Appends the events and syncs the file to disk; resolves only once they are durable. */
  append(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return this.writing;
    const text = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
    // One append at a time: lines of two batches must never interleave.
    const next = this.writing.catch(() => undefined).then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      const handle = await open(this.file, 'a', 0o600);
      try {
        await handle.appendFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
    this.writing = next;
    return next;
  }

  /** How many events wait in the spool (its own file and any replay left unfinished). */
  async count(): Promise<number> {
    // A replay renames the spool between listing and reading: list again rather than miss it.
    for (let attempt = 0; ; attempt++) {
      let n = 0;
      let moved = false;
      for (const file of await this.files()) {
        const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
          moved = true;
          return '';
        });
        n += parseLines(text).length;
      }
      if (!moved || attempt >= 10) return n;
    }
  }

  /**
   * Writes every spooled event to `sink`, in batches, then deletes what was written. The
   * spool is renamed first, so events appended meanwhile go to a fresh file. Returns the
   * number of events replayed; throws (leaving the rest on disk) if the sink fails.
   */
  async replay(sink: AuditSink, batchSize = 500): Promise<number> {
    await this.writing.catch(() => undefined);
    try {
      await rename(this.file, `${this.file}.replay-${Date.now()}-${process.pid}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let replayed = 0;
    for (const file of (await this.files()).filter((f) => f !== this.file)) {
      const records = parseLines(await readFile(file, 'utf8'));
      for (let i = 0; i < records.length; i += batchSize) await sink.insertMany(records.slice(i, i + batchSize));
      await unlink(file);
      replayed += records.length;
    }
    return replayed;
  }

  private async files(): Promise<string[]> {
    const dir = path.dirname(this.file);
    const base = path.basename(this.file);
    const names = await readdir(dir).catch(() => [] as string[]);
    return names
      .filter((n) => n === base || n.startsWith(`${base}.replay-`))
      .sort()
      .map((n) => path.join(dir, n));
  }
}

/** Spooled lines back to records; a torn last line (a crash mid-write) is skipped. */
function parseLines(text: string): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as AuditRecord & { at: string };
      out.push({ ...r, at: new Date(r.at) });
    } catch {
      // Only the line being written when the process died can be partial.
    }
  }
  return out;
}
