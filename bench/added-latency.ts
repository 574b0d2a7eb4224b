import '../server/production-env.js';
import 'reflect-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import {
  COLD_CACHE,
  DASHBOARD,
  ONE,
  UPSTREAM_LATENCY_MS,
  directCalls,
  gateway,
  ms,
  paired,
  pct,
  resolveIds,
  sourceLinks,
  upstreams,
} from './added-latency-shared.js';

// The two added-latency rows of `npm run bench` (bench/run.ts section 2) alone, measured the
// same way (cold gateway, TTL 0, over 3 EHRs at 20 ms; paired against the direct calls),
// in about a minute. CPU time per request (this whole process: gateway and sandbox) beside.
//
//   npx tsx bench/added-latency.ts [--patients 50] [--pairs 20] [--runs 1] [--only one|dashboard]
//                                  [--cpuprofile out.cpuprofile]   (profiles the gateway's requests, then the direct calls)
//                                  [--timeline]   (gateway time before its first upstream call and after its last answer)

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  const v = i >= 0 ? Number(argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const str = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const PATIENTS = flag('--patients', 50);
const PAIRS = flag('--pairs', 20);
const RUNS = argv.includes('--runs') ? Number(str('--runs')) : 1;
const ONLY = str('--only');
const CPUPROFILE = str('--cpuprofile');

// --timeline: upstream fetches are timed (the clients take the global fetch when made).
const TIMELINE = argv.includes('--timeline');
let first = Infinity;
let last = 0;
if (TIMELINE) {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = String(input instanceof Request ? input.url : input);
    const upstream = !url.endsWith('/graphql');
    if (upstream) first = Math.min(first, performance.now());
    const res = await realFetch(input, init);
    if (!upstream) return res;
    // The caller reads the body: the end of that read is when the answer is in.
    const body = await res.arrayBuffer();
    last = Math.max(last, performance.now());
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  }) as typeof fetch;
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-added-'));
const { a, b, sources } = await upstreams(PATIENTS);
const cold = await gateway(sources, COLD_CACHE, dir, 'cold');
try {
  const ids = await resolveIds(cold.post, a, PATIENTS);
  const links = await sourceLinks(cold.gw, ids);
  const oneId = ids[0]!;
  const oneLinks = await sourceLinks(cold.gw, [oneId]);
  // Warm up connections, /metadata and the JIT on both sides.
  for (let i = 0; i < 3; i++) {
    await directCalls(cold.config, oneLinks, true);
    await cold.post(ONE, { id: oneId });
    await directCalls(cold.config, links, false);
    await cold.post(DASHBOARD, { ids });
  }
  const line = (label: string, r: Awaited<ReturnType<typeof paired>>) =>
    `${label}: added p50 ${ms(r.median)} (${r.spread}); gateway p50 ${ms(pct(r.gw, 50))}, direct p50 ${ms(pct(r.floor, 50))}; ` +
    `CPU per request: added p50 ${ms(r.cpuMedian)} (gateway ${ms(pct(r.gwCpu, 50))}, direct ${ms(pct(r.floorCpu, 50))})`;
  const summary: string[] = [];
  for (let run = 1; run <= RUNS; run++) {
    if (ONLY !== 'dashboard') {
      const one = await paired(PAIRS, async () => void (await cold.post(ONE, { id: oneId })), () => directCalls(cold.config, oneLinks, true));
      summary.push(line(`run ${run} one patient (target <= 5 ms)`, one));
      console.log(summary.at(-1));
    }
    if (ONLY !== 'one') {
      const dash = await paired(PAIRS, async () => void (await cold.post(DASHBOARD, { ids })), () => directCalls(cold.config, links, false));
      summary.push(line(`run ${run} ${PATIENTS}-patient dashboard (target <= 20 ms)`, dash));
      console.log(summary.at(-1));
    }
  }
  if (TIMELINE) {
    // Where the gateway's own time falls: before its first upstream call, and after its last
    // upstream answer was read (the two ends no upstream wait hides), per request.
    for (const [label, run] of [
      ['one patient', () => cold.post(ONE, { id: oneId })],
      [`${PATIENTS}-patient dashboard`, () => cold.post(DASHBOARD, { ids })],
    ] as const) {
      if (ONLY && !label.includes(ONLY === 'one' ? 'one' : 'dashboard')) continue;
      const before: number[] = [];
      const after: number[] = [];
      for (let i = 0; i < PAIRS; i++) {
        first = Infinity;
        last = 0;
        const t0 = performance.now();
        await run();
        const t1 = performance.now();
        before.push(first - t0);
        after.push(t1 - last);
      }
      const s1 = [...before].sort((x, y) => x - y);
      const s2 = [...after].sort((x, y) => x - y);
      console.log(`timeline ${label}: request to first upstream call p50 ${ms(pct(s1, 50))}; last upstream answer to response p50 ${ms(pct(s2, 50))} (min ${ms(s2[0]!)})`);
    }
  }
  if (CPUPROFILE) {
    // The gateway's requests, then the direct calls alone (written beside, `.direct` before the
    // extension): what the gateway adds is the difference between the two profiles.
    const one = ONLY === 'one';
    const profiled = async (file: string, fn: () => Promise<void>) => {
      const session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
      for (let i = 0; i < PAIRS; i++) await fn();
      const { profile } = await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
    };
    await profiled(CPUPROFILE, async () => void (await (one ? cold.post(ONE, { id: oneId }) : cold.post(DASHBOARD, { ids }))));
    const direct = CPUPROFILE.replace(/(\.cpuprofile)?$/, '.direct$1');
    await profiled(direct, () => (one ? directCalls(cold.config, oneLinks, true) : directCalls(cold.config, links, false)));
    console.log(`profiles of ${PAIRS} ${one ? 'one-patient' : 'dashboard'} requests: gateway ${CPUPROFILE}, direct calls ${direct}`);
  }
  console.log(`(${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, upstream ${UPSTREAM_LATENCY_MS} ms, ${PAIRS} pairs x ${RUNS} runs)`);
} finally {
  await cold.gw.close();
  await Promise.all([a.close(), b.close()]);
  await rm(dir, { recursive: true, force: true });
}
