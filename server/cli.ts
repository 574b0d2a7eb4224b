#!/usr/bin/env node
// First: graphql must load in production mode (see production-env.ts).
import './production-env.js';
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { fhirSources, type ChartgraphConfig } from '../config/config.schema.js';
import { ConfigError, loadConfig, resolveConfigPath } from '../config/load-config.js';
import { openDatabase } from '../datasources/cache/database.js';
import { probeBatch, probeOrSearch } from '../datasources/fhir/capability-probe.js';
import { FhirClient } from '../datasources/fhir/fhir-client.js';
import { ROLES, isRole, type Role } from '../permissions/roles.js';
import { startGateway, type Gateway } from './app.js';
import { mintDevToken } from './auth.js';
import { createLogger } from './logger.js';

const SANDBOX_KEY_ENV = 'CHARTGRAPH_SANDBOX_KEY';
const SANDBOX_PAYER_TOKEN_ENV = 'CHARTGRAPH_SANDBOX_PAYER_TOKEN';
const SANDBOX_BASE_PORT = 4100;
const SHUTDOWN_GRACE_MS = 15_000;

function readConfig(path?: string): ChartgraphConfig {
  return loadConfig(resolveConfigPath(path));
}

function parseRole(value: string): Role {
  if (!isRole(value)) throw new InvalidArgumentError(`must be one of ${ROLES.join(', ')}`);
  return value;
}

/** Stops the gateway (and whatever else) on SIGINT/SIGTERM, letting in-flight requests finish. */
function closeOnSignal(...closers: (() => Promise<void>)[]): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: shutting down`);
    // In-flight requests get a grace period; a client that never reads its answer must
    // not keep the process alive past it.
    const deadline = setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS);
    for (const close of closers) await close().catch((err) => console.error(err));
    clearTimeout(deadline);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

async function serve(config: ChartgraphConfig, opts: { demo?: boolean } = {}): Promise<Gateway> {
  const logger = createLogger(config.server.logLevel);
  // The demo's GraphiQL offers a dev token per role; a real deployment never does.
  const gateway = await startGateway(config, { logger, graphiqlDevTokens: opts.demo ?? false });
  logger.info({ url: `${gateway.url}/graphql` }, 'chartgraph listening');
  return gateway;
}

async function startDemoSandbox() {
  const { startSandbox, SANDBOX_PAYER_TOKEN } = await import('../sandbox/index.js');
  const sandbox = await startSandbox({ basePort: SANDBOX_BASE_PORT });
  process.env[SANDBOX_KEY_ENV] = sandbox.token.privateKeyPem;
  process.env[SANDBOX_PAYER_TOKEN_ENV] = SANDBOX_PAYER_TOKEN;
  return sandbox;
}

const program = new Command('chartgraph')
  .description('GraphQL aggregation layer over EHR FHIR R4 endpoints, payer eligibility and a local cache')
  .option('-c, --config <file>', 'config file (default: $CHARTGRAPH_CONFIG or ./chartgraph.yaml)');

program
  .command('serve')
  .description('serve the GraphQL gateway for the config file')
  .action(async () => {
    const gateway = await serve(readConfig(program.opts().config));
    closeOnSignal(() => gateway.close());
  });

program
  .command('demo')
  .description('start the sandbox (two simulated EHRs and a token server) and the gateway in front of it')
  .action(async () => {
    const sandbox = await startDemoSandbox();
    const config = readConfig(program.opts().config);
    const gateway = await serve(config, { demo: true });
    closeOnSignal(
      () => gateway.close(),
      () => sandbox.close(),
    );
    const lines = [`\nchartgraph demo: ${gateway.url}/graphql`, `sandbox EHRs: ${sandbox.ehrs.map((e) => `${e.id} ${e.baseUrl}`).join(', ')}`, '\nDev tokens (12 h):'];
    for (const role of ROLES) lines.push(`  ${role.padEnd(17)} ${await mintDevToken(config.auth, { role })}`);
    const example = sandbox.truth.patients.find((p) => p.ehrs.mercy && p.ehrs.stjude)?.ehrs.mercy?.mrn;
    lines.push(`\nOpen ${gateway.url}/graphql in a browser (GraphiQL), paste a token, or try:`);
    if (example) lines.push(`  { patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: "${example}") { id name { text } sourceRecords { source { id } } } }`);
    console.log(lines.join('\n'));
  });

function parsePositive(max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0 || n > max) throw new InvalidArgumentError(`must be a whole number from 1 to ${max}`);
    return n;
  };
}

program
  .command('sandbox')
  .description('run only the simulated upstreams (EHRs at :4100 and :4101, token server at :4102, payer at :4103)')
  .option('--patients <n>', 'patients to serve, made from the fixtures when there are fewer (load tests); writes a gateway config for them', parsePositive(100_000))
  .option('--base-port <port>', 'Mercy at P, St. Jude at P+1, token server at P+2, payer at P+3; the written config serves the gateway at P+4', parsePositive(65_530))
  .option('--latency <ms>', 'fixed latency added to every EHR answer', (v) => parsePositive(60_000)(v))
  .action(async (opts: { patients?: number; basePort?: number; latency?: number }) => {
    if (opts.patients !== undefined || opts.basePort !== undefined || opts.latency !== undefined) {
      await loadSandbox(opts);
      return;
    }
    const sandbox = await startDemoSandbox();
    mkdirSync('.chartgraph', { recursive: true });
    writeFileSync('.chartgraph/sandbox-client-key.pem', sandbox.token.privateKeyPem, { mode: 0o600 });
    console.log(
      [
        ...sandbox.ehrs.map((e) => `${e.id}: ${e.baseUrl}`),
        `token: ${sandbox.token.url}`,
        `client key written to .chartgraph/sandbox-client-key.pem; serve against it with:`,
        `  ${SANDBOX_KEY_ENV}="$(cat .chartgraph/sandbox-client-key.pem)" npx chartgraph serve`,
      ].join('\n'),
    );
    closeOnSignal(() => sandbox.close());
  });

/** `chartgraph sandbox --patients N --base-port P`: a sandbox for load tests, and a gateway config for it. */
async function loadSandbox(opts: { patients?: number; basePort?: number; latency?: number }): Promise<void> {
  const { startSandbox } = await import('../sandbox/index.js');
  const { writeSandboxConfig } = await import('../sandbox/sandbox-config.js');
  const basePort = opts.basePort ?? SANDBOX_BASE_PORT;
  const started = performance.now();
  const sandbox = await startSandbox({
    basePort,
    // Exactly N: the first N fixtures, and people made from them when there are fewer.
    ...(opts.patients !== undefined && { maxPatients: opts.patients, minPatients: opts.patients }),
    ...(opts.latency !== undefined && { latencyMs: opts.latency }),
  });
  const file = writeSandboxConfig(sandbox, {
    file: `.chartgraph/sandbox-${opts.patients ?? 'fixtures'}.yaml`,
    gatewayPort: basePort + 4,
  });
  console.log(
    [
      `sandbox: ${sandbox.truth.patients.length} patients in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      ...sandbox.ehrs.map((e) => `${e.id}: ${e.baseUrl}`),
      `token: ${sandbox.token.url}`,
      `payer: ${sandbox.payer.baseUrl}`,
      `config: ${file}`,
      `  npx chartgraph sync --config ${file}`,
      `  npx chartgraph serve --config ${file}`,
    ].join('\n'),
  );
  closeOnSignal(() => sandbox.close());
}

program
  .command('migrate')
  .description('apply pending cache database migrations and exit')
  .action(async () => {
    const config = readConfig(program.opts().config);
    const db = await openDatabase(config.cache.url, { logger: createLogger(config.server.logLevel) });
    await db.close();
    console.log('cache database is up to date');
  });

program
  .command('token')
  .description('mint a dev token that this config’s dev mode accepts')
  .requiredOption('-r, --role <role>', `one of ${ROLES.join(', ')}`, parseRole)
  .option('-s, --scopes <scopes...>', 'SMART scopes (default user/*.rs)')
  .option('--sub <subject>', 'token subject')
  .option('--ttl <seconds>', 'lifetime in seconds', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
    return n;
  })
  .action(async (opts: { role: Role; scopes?: string[]; sub?: string; ttl?: number }) => {
    const config = readConfig(program.opts().config);
    console.log(await mintDevToken(config.auth, { role: opts.role, scopes: opts.scopes, sub: opts.sub, ttlSeconds: opts.ttl }));
  });

program
  .command('sync')
  .description('index every patient of every FHIR source (resumable; only changes after the first complete run)')
  .option('--source <id>', 'only this source')
  .option('--full', 'walk every patient again, ignoring the last run')
  .option('--resources', "also fetch each patient's chart into the resource cache")
  .action(async (opts: { source?: string; full?: boolean; resources?: boolean }) => {
    const { runSyncCommand } = await import('../sync/sync-command.js');
    process.exitCode = await runSyncCommand(readConfig(program.opts().config), opts);
  });

program
  .command('check')
  .description('reach each configured FHIR source and print its capabilities')
  .action(async () => {
    const config = readConfig(program.opts().config);
    let failed = false;
    const rows = await Promise.all(
      fhirSources(config).map(async (source) => {
        let ok = true;
        const client = new FhirClient(source, {
          onCall: (call) => {
            if (call.outcome !== 'ok') ok = false;
          },
        });
        await client.getCapabilities();
        // A small search proves auth and search end to end; its patients serve the probes of
        // what /metadata does not say (OR lists, batch), as a dashboard would probe them.
        let found: string[] = [];
        const search = await client.search('Patient', [['_count', '2']], {}).then(
          (r) => {
            found = r.flatMap((p) => (p.id ? [p.id] : [])).slice(0, 2);
            return 'ok';
          },
          (err: Error) => err.message,
        );
        if (found.length === 2) await probeOrSearch(client, 'Patient', found).catch(() => undefined);
        if (found.length > 0) await probeBatch(client, 'Patient', found[0]!).catch(() => undefined);
        const caps = await client.getCapabilities();
        if (!ok || search !== 'ok') failed = true;
        const how = (key: keyof typeof caps.origins) => caps.origins[key].toLowerCase();
        return [
          source.id,
          ok ? 'reachable' : 'errors',
          search,
          caps.fhirVersion ?? '?',
          `${caps.patientOrSearch ? 'yes' : 'no'} (${how('patientOrSearch')})`,
          `${caps.batch ? 'yes' : 'no'} (${how('batch')})`,
          `${caps.maxCount} (${how('maxCount')})`,
        ];
      }),
    );
    const header = ['source', 'metadata', 'search', 'FHIR', 'OR-lists', 'batch', 'max _count'];
    const table = [header, ...rows];
    const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
    console.log('(config: set in the source\'s capabilities; metadata: its CapabilityStatement; probe: found out by asking; default: nothing said)');
    process.exitCode = failed ? 1 : 0;
  });

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}
