import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../config/load-config.js';
import type { ChartgraphConfig } from '../../config/config.schema.js';
import type { UpstreamCall } from '../../datasources/fhir/fhir-types.js';
import type { DatabaseKind } from '../../datasources/cache/database.js';
import type { Role } from '../../permissions/roles.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/index.js';
import type { Logger } from 'pino';
import { startGateway, type Gateway, type GatewayOptions } from '../../server/app.js';
import { mintDevToken } from '../../server/auth.js';
import { createTestDatabase, type TestDatabaseHandle } from './databases.js';
import { settleWithin } from './teardown.js';
import type { TestIssuer } from './oidc-issuer.js';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export interface TestGateway {
  sandbox: Sandbox;
  gateway: Gateway;
  config: ChartgraphConfig;
  /** Every upstream call the gateway made, in order. */
  calls: UpstreamCall[];
  token(role: Role, scopes?: string[]): Promise<string>;
  /** POSTs a GraphQL request as `role` (default clinician); `null` sends no token. */
  query<T = any>(query: string, variables?: Record<string, unknown>, role?: Role | null, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** Forgets upstream calls seen so far, at the sandbox and the gateway. */
  resetCounts(): void;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  sandbox?: SandboxOptions;
  /** The whole config instead of the defaults, built from the sandbox's sources. */
  config?: (sources: unknown[]) => Record<string, unknown>;
  /** `analytics` config keys (e.g. `suppressionThreshold`). */
  analytics?: Record<string, unknown>;
  /** `limits` config keys (e.g. `requestDeadlineMs`). */
  limits?: Record<string, unknown>;
  /** `cache` keys over the defaults (by default nothing is served from the cache). */
  cache?: Record<string, unknown>;
  /** `events` config keys (the event feed is off by default). */
  events?: Record<string, unknown>;
  /** Keys over every sandbox source entry (`timeoutMs`, `resilience`, ...). */
  sourceOptions?: Record<string, unknown>;
  database?: DatabaseKind;
  /** Also configure the sandbox payer's eligibility sources (`sandbox.payerConfig()`), after the EHRs. */
  payers?: boolean;
  /** The gateway's logger (default silent); tests that read the log pass their own. */
  logger?: Logger;
  /** More `startGateway` options (e.g. `withoutSecurity` for baselines). */
  gatewayOptions?: Partial<GatewayOptions>;
  /** With `auth.mode: oidc` configured for this issuer: `token()` gets its tokens signed there. */
  issuer?: TestIssuer;
  /** More `startGateway` options that depend on the running sandbox (e.g. GraphiQL examples from its data). */
  gatewayOptionsFor?: (sandbox: Sandbox) => Promise<Partial<GatewayOptions>>;
}

/** A sandbox and a gateway in front of it, over real HTTP, on a throwaway database. */
export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const sandbox = await startSandbox({ maxPatients: 20, ...opts.sandbox });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'cg-gw-'));
  let db: TestDatabaseHandle | undefined;
  try {
    db = await createTestDatabase(opts.database ?? 'pglite');
    const sources: unknown[] = [
      ...sandbox.sourcesConfig().map((s) => ({ ...s, ...opts.sourceOptions })),
      ...(opts.payers ? sandbox.payerConfig() : []),
    ];
    const raw = opts.config?.(sources) ?? {
      server: { port: 0, logLevel: 'silent' },
      // Nothing served from the cache unless a test asks: every query reaches the sources.
      // and no whole answer given again from the response cache (test/e2e/response-cache.test.ts turns it on).
      cache: { url: db.url, defaultTtlSeconds: 0, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 0, responseMaxAgeSeconds: 0, ...opts.cache },
      auth: { mode: 'dev' },
      ...(opts.analytics && { analytics: opts.analytics }),
      ...(opts.events && { events: opts.events }),
      ...(opts.limits && { limits: opts.limits }),
      sources,
    };
    const config = parseConfig(raw);
    const calls: UpstreamCall[] = [];
    const secretFile = path.join(tmp, 'dev-secret');
    const gateway = await startGateway(config, {
      ...opts.gatewayOptions,
      ...(await opts.gatewayOptionsFor?.(sandbox)),
      logger: opts.logger ?? pino({ level: 'silent' }),
      port: 0,
      devSecretFile: secretFile,
      onUpstreamCall: (c) => calls.push(c),
    });
    const tokens = new Map<string, string>();
    const token = async (role: Role, scopes?: string[]) => {
      const key = `${role} ${scopes?.join(' ') ?? ''}`;
      if (!tokens.has(key)) {
        const minted = opts.issuer
          ? await opts.issuer.sign({ sub: `oidc-${role}`, role, scope: (scopes ?? ['user/*.rs']).join(' ') })
          : await mintDevToken(config.auth, { role, scopes }, secretFile);
        tokens.set(key, minted);
      }
      return tokens.get(key)!;
    };
    return {
      sandbox,
      gateway,
      config,
      calls,
      token,
      async query(query, variables, role = 'clinician', headers = {}) {
        const res = await fetch(`${gateway.url}/graphql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(role && { authorization: `Bearer ${await token(role)}` }),
            ...headers,
          },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await res.json()) as GraphQLResponse;
        return { status: res.status, data: body.data, errors: body.errors };
      },
      resetCounts() {
        for (const ehr of sandbox.ehrs) ehr.resetRequests();
        sandbox.payer.resetRequests();
        sandbox.token.requests.reset();
        calls.length = 0;
      },
      async close() {
        let step = '';
        try {
          await settleWithin('gateway.close()', gateway.close({ onStep: (s) => (step = s) }), () => step);
        } finally {
          await settleWithin('sandbox.close()', sandbox.close()).finally(async () => {
            await db?.dispose();
            await rm(tmp, { recursive: true, force: true });
          });
        }
      },
    };
  } catch (err) {
    await sandbox.close();
    await db?.dispose();
    throw err;
  }
}
