/**
 * What graphql-shield, de-identification middleware and audit cost: throughput of the same
 * cached one-patient query against two gateways in one process, one with the security
 * layers and one built without them (`withoutSecurity`, a benchmark-only option).
 *
 *   npx tsx bench/security-overhead.ts [--seconds 3] [--rounds 5] [--concurrency 8]
 *
 * Both gateways sit in front of the same sandbox, each on its own in-memory PGlite, with a
 * long cache TTL so the query is served from the cache after warm-up. Rounds alternate
 * between the two so that drift on the machine hits both alike. Target: at most 15% less
 * throughput with security on (PRODUCT.md, performance targets).
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseConfig } from '../config/load-config.js';
import { startSandbox } from '../sandbox/index.js';
import { startGateway, type Gateway } from '../server/app.js';
import { mintDevToken } from '../server/auth.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, rounds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '8' } },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);

const QUERY = `query One($id: ID!) {
  patient(id: $id) {
    id name { text } birthDate gender
    conditions(first: 10) { totalCount nodes { id code { coding { system code } } onset provenance { source { id } stale } } }
    observations(first: 10) { nodes { code { coding { code } } valueQuantity { value unit } effective } }
  }
}`;

interface Target {
  name: string;
  gateway: Gateway;
  token: string;
  id: string;
}

async function post(t: Target, query: string, variables: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${t.gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token}`, 'x-purpose-of-use': 'HOPERAT' },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

/** Requests per second over `seconds`, with `CONCURRENCY` clients in a closed loop. */
async function measure(t: Target, seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  const client = async () => {
    while (performance.now() < end) {
      const body = await post(t, QUERY, { id: t.id });
      if (body.errors) throw new Error(`${t.name}: ${JSON.stringify(body.errors)}`);
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  return done / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const sandbox = await startSandbox({ maxPatients: 5 });
  const logger = pino({ level: 'silent' });
  const targets: Target[] = [];
  try {
    const patient = sandbox.truth.patients.find((p) => p.ssn && p.ehrs.mercy?.hasSsn)!;
    for (const [name, withoutSecurity] of [
      ['with shield + audit', false],
      ['without (baseline)', true],
    ] as const) {
      const config = parseConfig({
        server: { port: 0, logLevel: 'silent' },
        // Every request executed (no response cache): shield and audit cost is paid in execution.
        cache: { url: 'pglite:memory:', defaultTtlSeconds: 3600, responseMaxAgeSeconds: 0 },
        auth: { mode: 'dev', secret: 'bench-secret-'.padEnd(40, 'x') },
        security: { deidKey: 'bench-deid-key-'.padEnd(40, 'y') },
        sources: sandbox.sourcesConfig(),
      });
      const gateway = await startGateway(config, { logger, port: 0, withoutSecurity });
      const token = await mintDevToken(config.auth, { role: 'clinician' });
      const t: Target = { name, gateway, token, id: '' };
      const found = await post(t, `query($v: String!) { patientByIdentifier(system: "http://hl7.org/fhir/sid/us-ssn", value: $v) { id } }`, { v: patient.ssn });
      t.id = found.data.patientByIdentifier.id;
      targets.push(t);
    }
    for (const t of targets) await measure(t, 2); // warm caches, JIT and connections

    const results = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) results.get(t.name)!.push(await measure(t, SECONDS));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const secured = median(results.get(targets[0]!.name)!);
    const baseline = median(results.get(targets[1]!.name)!);
    const overhead = (1 - secured / baseline) * 100;
    const audited = await targets[0]!.gateway.services.auditWriter.flush().then(() => targets[0]!.gateway.services.database.prisma.auditEvent.count());
    console.log(`cached one-patient query, ${CONCURRENCY} concurrent clients, ${ROUNDS} rounds of ${SECONDS}s (median req/s):`);
    for (const [name, xs] of results) console.log(`  ${name.padEnd(22)} ${median(xs).toFixed(0).padStart(6)} req/s   rounds: ${xs.map((x) => x.toFixed(0)).join(', ')}`);
    console.log(`  security overhead      ${overhead.toFixed(1)}%  (target <= 15%)   audit events written: ${audited}`);
    process.exitCode = overhead <= 15 ? 0 : 1;
  } finally {
    for (const t of targets) await t.gateway.close();
    await sandbox.close();
  }
}

await main();
