/** What a running sync reports as it goes (no patient data: counts and phases only). */
export interface SyncProgressEvent {
  sourceId: string;
  mode: 'search' | 'export';
  /** `waiting`: the export job is not ready yet; `linking`: the unlinked-record sweep; `changes`: refreshing lists that changed (detail: the type). */
  phase: 'start' | 'page' | 'waiting' | 'file' | 'linking' | 'changes' | 'done' | 'failed' | 'interrupted';
  /** Patients written by this run so far. */
  indexed: number;
  /** Expected patients, when the source said (`Bundle.total`, manifest counts). */
  total?: number;
  /** Short extra text: the server's `X-Progress`, `file 2/3`. */
  detail?: string;
}

/** A progress sink; `end()` finishes the line. */
export interface ProgressReporter {
  (event: SyncProgressEvent): void;
  end(): void;
}

const WIDTH = 24;
const REDRAW_MS = 100;

/**
 * A one-line progress bar per source on a terminal (redrawn in place, at most ten times a
 * second, finished with a newline when the source is done). On anything that is not a TTY
 * (a log file, CI) it writes nothing: the command's summary says how it went.
 */
export function createProgressBar(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const tty = stream.isTTY === true;
  let lastDraw = 0;
  let open = false;
  const draw = (e: SyncProgressEvent, final: boolean) => {
    const now = Date.now();
    if (!final && now - lastDraw < REDRAW_MS) return;
    lastDraw = now;
    const total = e.total && e.total >= e.indexed ? e.total : undefined;
    const filled = total ? Math.round((e.indexed / total) * WIDTH) : 0;
    const bar = total ? `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ` : '';
    const count = total ? `${e.indexed}/${total}` : `${e.indexed}`;
    const tail = final ? e.phase : (e.detail ?? e.phase);
    stream.write(`\r\x1b[2K${e.sourceId} ${e.mode} ${bar}${count} patients  ${tail}${final ? '\n' : ''}`);
    open = !final;
  };
  const report = ((e: SyncProgressEvent) => {
    if (!tty) return;
    draw(e, e.phase === 'done' || e.phase === 'failed' || e.phase === 'interrupted');
  }) as ProgressReporter;
  report.end = () => {
    if (tty && open) stream.write('\n');
    open = false;
  };
  return report;
}
