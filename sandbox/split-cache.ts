import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveFixturesDir } from './fixtures.js';
import { splitFixtures, type SplitOptions, type SplitResult } from './split.js';

/** Below this many patients a split is quick enough that a disk copy is not worth it. */
const CACHE_FROM_PATIENTS = 100;

/** The code that decides what a split holds: a change to any of them makes old copies useless. */
const SPLIT_CODE = ['split', 'fixtures', 'population', 'cross-hospital', 'us-names', 'demographic-variants', 'hash'];

/**
 * {@link splitFixtures}, kept on disk for large populations: splitting 1,000 patients made
 * from the fixtures costs seconds of CPU (every variant's ids rewritten, every resource
 * copied and hashed), reading the same split back a fraction of that. The copy is keyed
 * by the options, the fixture files (names, sizes, times) and the split code itself, so it
 * is never stale; it lives in `CHARTGRAPH_SANDBOX_CACHE` or the system temp folder.
 */
export function splitFixturesCached(opts: SplitOptions = {}): SplitResult {
  if ((opts.minPatients ?? 0) < CACHE_FROM_PATIENTS) return splitFixtures(opts);
  const memoKey = JSON.stringify([opts.fixturesDir ?? null, opts.maxPatients ?? null, opts.minPatients ?? null, opts.deriveCoverage ?? true, opts.patientsOnly ?? false]);
  let result = memo.get(memoKey);
  if (!result) memo.set(memoKey, (result = fromDisk(opts)));
  return result;
}

// Within one process, one split per options (the stores are shared by identity of its lists).
const memo = new Map<string, SplitResult>();

function fromDisk(opts: SplitOptions): SplitResult {
  const dir = process.env.CHARTGRAPH_SANDBOX_CACHE ?? path.join(os.tmpdir(), 'chartgraph-sandbox-cache');
  let file: string;
  try {
    file = path.join(dir, `split-${cacheKey(opts)}.json`);
  } catch {
    return splitFixtures(opts);
  }
  try {
    return revive(JSON.parse(readFileSync(file, 'utf8')) as StoredSplit);
  } catch {
    // No copy yet, or an unreadable one: split, then store.
  }
  const result = splitFixtures(opts);
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(store(result)));
    renameSync(tmp, file);
  } catch {
    // A read-only or full disk only costs the next start its time.
  }
  return result;
}

function cacheKey(opts: SplitOptions): string {
  const fixturesDir = resolveFixturesDir(opts.fixturesDir);
  const hash = createHash('sha256');
  hash.update(JSON.stringify([fixturesDir, opts.maxPatients ?? null, opts.minPatients ?? null, opts.deriveCoverage ?? true, opts.patientsOnly ?? false]));
  for (const f of readdirSync(fixturesDir).filter((n) => n.endsWith('.json')).sort()) {
    const s = statSync(path.join(fixturesDir, f));
    hash.update(`${f}:${s.size}:${s.mtimeMs}`);
  }
  const here = path.dirname(fileURLToPath(import.meta.url));
  const ext = path.extname(fileURLToPath(import.meta.url));
  for (const name of SPLIT_CODE) hash.update(readFileSync(path.join(here, `${name}${ext}`)));
  return hash.digest('hex').slice(0, 24);
}

type StoredSplit = Omit<SplitResult, 'truth'> & {
  truth: Omit<SplitResult['truth'], 'idMap'> & { idMap: Record<string, [string, string][]> };
};

function store(result: SplitResult): StoredSplit {
  const idMap = Object.fromEntries(Object.entries(result.truth.idMap).map(([ehr, map]) => [ehr, [...map]]));
  return { ...result, truth: { ...result.truth, idMap } };
}

function revive(stored: StoredSplit): SplitResult {
  const idMap = Object.fromEntries(Object.entries(stored.truth.idMap).map(([ehr, pairs]) => [ehr, new Map(pairs)]));
  return { ...stored, truth: { ...stored.truth, idMap } } as unknown as SplitResult;
}
