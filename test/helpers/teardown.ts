import pg from 'pg';
import { TEST_PG_URL } from './databases.js';

/** How long one teardown step may take before the helpers say what it waits on and go on. */
const TEARDOWN_PATIENCE_MS = 30_000;

/**
 * Runs a teardown step, but gives up waiting after a while: a shutdown that hangs must not
 * turn into a hook timeout that names nothing. Stderr then gets the step (from `current()`)
 * and what the test server's sessions are doing, and the rest of the teardown (which drops
 * the database WITH FORCE) goes on.
 */
export async function settleWithin(label: string, work: Promise<void>, current: () => string = () => ''): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), TEARDOWN_PATIENCE_MS)));
  try {
    const outcome = await Promise.race([work.then(() => 'done' as const), late]);
    if (outcome === 'done') return;
    work.catch(() => undefined);
    const step = current();
    process.stderr.write(`teardown: ${label} still waiting after ${TEARDOWN_PATIENCE_MS / 1000} s${step ? ` (at: ${step})` : ''}; going on\n${await sessionSummary()}\n`);
  } finally {
    clearTimeout(timer);
  }
}

/** Sessions on the test server's throwaway databases, by state and wait (statements cut short, no values). */
async function sessionSummary(): Promise<string> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ line: string }>(
      `SELECT concat_ws(' | ', datname, state, wait_event_type, wait_event, round(extract(epoch FROM now() - state_change))::text || ' s', left(query, 80)) AS line
         FROM pg_stat_activity WHERE datname LIKE 'cg\\_%' ORDER BY state_change`,
    );
    return rows.map((r) => `  ${r.line}`).join('\n') || '  (no sessions on test databases)';
  } catch (err) {
    return `  (sessions not read: ${(err as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}
