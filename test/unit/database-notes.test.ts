import { describe, expect, it } from 'vitest';
import { DatabaseHealth } from '../../datasources/cache/database-health.js';

// Which requests say they had to do without the cache database. The real outage over HTTP
// is test/e2e/database-outage.test.ts; here each case is set up exactly.

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

function health(probe: () => Promise<unknown> = () => Promise.reject(refused)) {
  return new DatabaseHealth({ probe, probeIntervalMs: 60_000 });
}

describe('database notes of a request', () => {
  it('are clear for a request that ran while the database was up', async () => {
    const h = health();
    const notes = h.notesForRequest();
    expect(await h.runRequest(notes, async () => h.guard(async () => 'row', 'fallback'))).toBe('row');
    expect(h.missedDatabase(notes)).toBe(false);
    h.stop();
  });

  it('say so when an outage began while the request ran', async () => {
    const h = health();
    const notes = h.notesForRequest();
    const answer = await h.runRequest(notes, async () => h.guard(() => Promise.reject(refused), 'fallback'));
    expect(answer).toBe('fallback');
    expect(h.down).toBe(true);
    expect(h.missedDatabase(notes)).toBe(true);
    h.stop();
  });

  it('during an outage, say so only for the requests whose database calls fell back', async () => {
    const h = health();
    await h.guard(() => Promise.reject(refused), undefined);
    expect(h.down).toBe(true);
    const usedIt = h.notesForRequest();
    const didNot = h.notesForRequest();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // Concurrent: the second request's scope must not see the first one's fallback.
    const first = h.runRequest(usedIt, async () => {
      await held;
      return h.guard(async () => 'row', 'fallback');
    });
    const second = h.runRequest(didNot, async () => {
      await held;
      return 'no database call';
    });
    release();
    expect(await Promise.all([first, second])).toEqual(['fallback', 'no database call']);
    expect(h.missedDatabase(usedIt)).toBe(true);
    expect(h.missedDatabase(didNot)).toBe(false);
    h.stop();
  });

  it('are clear again once the database is back', async () => {
    let up = false;
    const h = new DatabaseHealth({ probe: () => (up ? Promise.resolve(1) : Promise.reject(refused)), probeIntervalMs: 20 });
    await h.guard(() => Promise.reject(refused), undefined);
    const during = h.notesForRequest();
    await h.runRequest(during, async () => h.guard(async () => 'row', 'fallback'));
    expect(h.missedDatabase(during)).toBe(true);
    up = true;
    while (h.down) await new Promise((r) => setTimeout(r, 10));
    const after = h.notesForRequest();
    expect(await h.runRequest(after, async () => h.guard(async () => 'row', 'fallback'))).toBe('row');
    expect(h.missedDatabase(after)).toBe(false);
    h.stop();
  });

  it('a handler that throws at once is still counted out', async () => {
    const h = health();
    await h.guard(() => Promise.reject(refused), undefined);
    expect(() =>
      h.runRequest(h.notesForRequest(), () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    const notes = h.notesForRequest();
    await h.runRequest(notes, async () => h.guard(async () => 'row', 'fallback'));
    expect(h.missedDatabase(notes)).toBe(true);
    h.stop();
  });
});
