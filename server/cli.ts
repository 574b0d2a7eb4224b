#!/usr/bin/env node
// First: graphql must load in production mode (see production-env.ts).
import './production-env.js';
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { fhirSources, type ChartgraphConfig } from '../config/config.schema.js';
import { COMMAND_ENV_SECTIONS, ConfigError, loadConfig, resolveConfigPath } from '../config/load-config.js';
import { CacheDatabaseError } from '../datasources/cache/cache-errors.js';
import { openDatabase } from '../datasources/cache/database.js';
import { probeBatch, probeOrSearch } from '../datasources/fhir/capability-probe.js';
import { FhirClient } from '../datasources/fhir/fhir-client.js';
import { ROLES, isRole, type Role } from '../permissions/roles.js';
import { SHUTDOWN_GRACE_MS, startGateway, type Gateway } from './app.js';
import { mintDevToken } from './auth.js';
import { createLogger } from './logger.js';

const SANDBOX_KEY_ENV = 'CHARTGRAPH_SANDBOX_KEY';
const SANDBOX_PAYER_TOKEN_ENV = 'CHARTGRAPH_SANDBOX_PAYER_TOKEN';
const SANDBOX_BASE_PORT = 4100;
// PRODUCT.md: the demo serves at least 200 patients (variants of the shipped bundles).
const DEMO_MIN_PATIENTS = 200;
// Past the grace for requests, the audit queue still gets this long to reach the database or the spool.
const AUDIT_FLUSH_MARGIN_MS = 5_000;

/** A start-up failure the operator can fix: printed as it is (no stack), exit status 2. */
class StartupError extends Error {}

/** The config, with `${ENV}` resolved only in the sections a command needs (all by default). */
function readConfig(path?: string, envSections?: readonly string[]): ChartgraphConfig {
  return loadConfig(resolveConfigPath(path), process.env, { envSections });
}

/** What went wrong at start-up and how to fix it, or undefined for an unexpected error. */
function describeStartupError(err: unknown, config?: ChartgraphConfig): string | undefined {
  if (err instanceof StartupError) return err.message;
  if (err instanceof CacheDatabaseError) {
    return `${err.message}\nCheck cache.url in the config (and any \${ENV} in it), that the database server is running and reachable from here, then start again.`;
  }
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e?.code === 'EADDRINUSE') {
    const where = config ? `${config.server.host}:${config.server.port}` : `${e.address ?? ''}:${e.port ?? ''}`;
    return `cannot listen on ${where}: the port is already in use by another process.\nStop that process (for example another chartgraph), or set server.port in the config to a free port.`;
  }
  if (e?.code === 'EACCES' || e?.code === 'EADDRNOTAVAIL') {
    const where = config ? `${config.server.host}:${config.server.port}` : 'the configured address';
    return `cannot listen on ${where} (${e.code}): ${e.code === 'EACCES' ? 'ports below 1024 need privileges; use a higher server.port' : 'server.host is not an address of this machine'}.`;
  }
  return undefined;
}

function parseRole(value: string): Role {
  if (!isRole(value)) throw new InvalidArgumentError(`must be one of ${ROLES.join(', ')}`);
  return value;
}

/**
 * The process's one SIGINT/SIGTERM handler: stops the gateway (and whatever else), letting
 * in-flight requests finish within the grace and storing their audit events, then exits 0.
 */
function closeOnSignal(...closers: (() => Promise<void>)[]): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: shutting down (in-flight requests get ${SHUTDOWN_GRACE_MS / 1000} s)`);
    // The gateway cuts connections at the grace itself; this only guards against a hang
    // past it (a database that never answers the last audit write).
    const deadline = setTimeout(() => {
      console.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS + AUDIT_FLUSH_MARGIN_MS);
    let failed = false;
    for (const close of closers) {
      await close().catch((err) => {
        failed = true;
        console.error(err);
      });
    }
    clearTimeout(deadline);
    process.exit(failed ? 1 : 0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

// The config being started, for start-up error messages (which port, which host).
let startingConfig: ChartgraphConfig | undefined;

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65_535 - 3) throw new InvalidArgumentError('must be a port number');
  return n;
}

async function serve(config: ChartgraphConfig, opts: { demo?: boolean; examples?: Record<string, string> } = {}): Promise<Gateway> {
  startingConfig = config;
  const logger = createLogger(config.server.logLevel);
  // The demo's GraphiQL offers a dev token per role; a real deployment never does.
  const gateway = await startGateway(config, { logger, graphiqlDevTokens: opts.demo ?? false, graphiqlExamples: opts.examples });
  logger.info({ url: `${gateway.url}/graphql` }, 'chartgraph listening');
  return gateway;
}

async function startDemoSandbox(basePort = SANDBOX_BASE_PORT, misbehave?: string) {
  const { startSandbox, SANDBOX_PAYER_TOKEN, EHR_IDS } = await import('../sandbox/index.js');
  if (misbehave !== undefined && !(EHR_IDS as readonly string[]).includes(misbehave)) {
    throw new StartupError(`--misbehave: "${misbehave}" is not a sandbox EHR; choose one of ${EHR_IDS.join(', ')}`);
  }
  const sandbox = await startSandbox({
    basePort,
    minPatients: DEMO_MIN_PATIENTS,
    ...(misbehave && { misbehave: misbehave as (typeof EHR_IDS)[number] }),
  }).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    throw new StartupError(
      `cannot start the sandbox on ports ${basePort}-${basePort + 3}: one is already in use (another sandbox or demo running?).\nStop it, or pick other ports with --base-port.`,
    );
  });
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
  .option('--misbehave <ehr>', 'make one sandbox EHR break the FHIR contract (wrong-patient items, wrong types, malformed items, bad next links, warnings)')
  .action(async (opts: { misbehave?: string }) => {
    const sandbox = await startDemoSandbox(undefined, opts.misbehave);
    const config = readConfig(program.opts().config);
    // GraphiQL's tabs start with an MRN and a name that exist in this sandbox.
    const { demoExamples } = await import('../sandbox/demo-examples.js');
    const examples = await demoExamples(sandbox);
    const gateway = await serve(config, { demo: true, examples: examples && { ...examples } });
    const indexing = new AbortController();
    closeOnSignal(
      async () => indexing.abort(),
      () => gateway.close(),
      () => sandbox.close(),
    );
    const lines = [`\nchartgraph demo: ${gateway.url}/graphql`, `sandbox EHRs: ${sandbox.ehrs.map((e) => `${e.id} ${e.baseUrl}`).join(', ')}`, `\nDev tokens (${Math.round(config.auth.maxTokenLifetimeSec / 60)} min, auth.maxTokenLifetimeSec):`];
    for (const role of ROLES) lines.push(`  ${role.padEnd(17)} ${await mintDevToken(config.auth, { role })}`);
    const example = examples?.value;
    lines.push(`\nOpen ${gateway.url}/graphql in a browser (GraphiQL), paste a token, or try:`);
    if (example) lines.push(`  { patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: "${example}") { id name { text } sourceRecords { source { id } } } }`);
    lines.push('\nIndexing every patient with their records for cohorts in the background (`cohort { freshness { sourcesSyncing } }` says when done).');
    console.log(lines.join('\n'));
    const { indexPopulationInBackground } = await import('../sync/gateway-population-sync.js');
    indexPopulationInBackground(fhirSources(config), { ...gateway.services, prisma: gateway.services.database.prisma, strongIdentifierSystems: config.identity.strongIdentifierSystems }, indexing.signal);
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
  .option('--base-port <port>', 'Mercy at P, St. Jude at P+1, token server at P+2, payer at P+3 (default 4100); with --patients, the written config serves the gateway at P+4', parsePort)
  .option('--latency <ms>', 'fixed latency added to every EHR answer (with --patients)', (v) => parsePositive(60_000)(v))
  .option('--misbehave <ehr>', 'make one sandbox EHR break the FHIR contract (wrong-patient items, wrong types, malformed items, bad next links, warnings)')
  .action(async (opts: { patients?: number; basePort?: number; latency?: number; misbehave?: string }) => {
    if (opts.patients !== undefined || opts.latency !== undefined) {
      await loadSandbox(opts);
      return;
    }
    const sandbox = await startDemoSandbox(opts.basePort, opts.misbehave);
    mkdirSync('.chartgraph', { recursive: true });
    writeFileSync('.chartgraph/sandbox-client-key.pem', sandbox.token.privateKeyPem, { mode: 0o600 });
    console.log(
      [
        ...sandbox.ehrs.map((e) => `${e.id}: ${e.baseUrl}`),
        `token: ${sandbox.token.url}`,
        `payer: ${sandbox.payer.baseUrl}`,
        `client key written to .chartgraph/sandbox-client-key.pem; serve against it with:`,
        `  ${SANDBOX_KEY_ENV}="$(cat .chartgraph/sandbox-client-key.pem)" ${SANDBOX_PAYER_TOKEN_ENV}=${process.env[SANDBOX_PAYER_TOKEN_ENV]} npx chartgraph serve`,
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
    const config = readConfig(program.opts().config, COMMAND_ENV_SECTIONS.migrate);
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
    // A token needs only `auth`: the sources' secrets need not be set to mint one.
    const config = readConfig(program.opts().config, COMMAND_ENV_SECTIONS.token);
    try {
      console.log(await mintDevToken(config.auth, { role: opts.role, scopes: opts.scopes, sub: opts.sub, ttlSeconds: opts.ttl }));
    } catch (err) {
      // A lifetime over the config's maximum, or a config without dev mode: say so, no stack.
      console.error(`chartgraph token: ${(err as Error).message}`);
      process.exitCode = 2;
    }
  });

program
  .command('sync')
  .description('index every patient of every FHIR source (resumable; only changes after the first complete run)')
  .option('--source <id>', 'only this source')
  .option('--full', 'walk every patient again, ignoring the last run')
  .option('--resources', "also fetch each patient's chart into the resource cache")
  .action(async (opts: { source?: string; full?: boolean; resources?: boolean }) => {
    const { runSyncCommand } = await import('../sync/sync-command.js');
    process.exitCode = await runSyncCommand(readConfig(program.opts().config, COMMAND_ENV_SECTIONS.sync), opts);
  });

program
  .command('check')
  .description('reach each configured FHIR source and print its capabilities')
  .action(async () => {
    const config = readConfig(program.opts().config, COMMAND_ENV_SECTIONS.check);
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
  const message = describeStartupError(err, startingConfig);
  if (message) {
    console.error(`chartgraph cannot start: ${message}`);
    process.exit(2);
  }
  throw err;
}
