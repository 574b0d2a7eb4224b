import { isIP } from 'node:net';
import { z } from 'zod';

/** SMART Backend Services signing algorithms that the FHIR spec allows clients to use. */
export const SMART_ALGS = ['RS384', 'ES384'] as const;

const sourceId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes');

const fhirAuth = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z.object({ type: z.literal('bearer'), token: z.string().min(1) }).strict(),
  z
    .object({
      type: z.literal('smart-backend'),
      tokenUrl: z.url(),
      clientId: z.string().min(1),
      /** PEM (PKCS#8) or a JWK as JSON text; comes from `${ENV}` in real deployments. */
      privateKey: z.string().min(1),
      alg: z.enum(SMART_ALGS).default('RS384'),
      keyId: z.string().optional(),
      scope: z.string().default('system/*.rs'),
    })
    .strict(),
]);

const fhirCapabilities = z
  .object({
    /** `patient=a,b,c` accepted (comma = OR). Unset: read from /metadata, else false. */
    patientOrSearch: z.boolean().optional(),
    /** POST `[type]/_search` accepted. */
    postSearch: z.boolean().optional(),
    /** The largest `_count` the server honours. */
    maxCount: z.number().int().positive().optional(),
    /** FHIR `batch` Bundles (POST to the base URL) accepted. Unset: /metadata's `rest.interaction`, else a probe. */
    batch: z.boolean().optional(),
    /** Probe the source for what /metadata does not say (OR lists, `batch`, largest `_count`). */
    probe: z.boolean().optional(),
  })
  .strict();

export const fhirSourceSchema = z
  .object({
    id: sourceId,
    kind: z.literal('fhir'),
    name: z.string().min(1),
    baseUrl: z.url(),
    auth: fhirAuth.default({ type: 'none' }),
    capabilities: fhirCapabilities.default({}),
    /** Deadline of one upstream HTTP exchange (one page, one read, one batch), counted from when it is sent. */
    timeoutMs: z.number().int().positive().default(10_000),
    /** How long a request may wait for one of this source's concurrency slots before failing (UPSTREAM_TIMEOUT, reason QUEUE). */
    queueTimeoutMs: z.number().int().positive().default(15_000),
    /** At most this many requests in flight to this source at once. */
    maxConcurrency: z.number().int().positive().default(8),
    /** Let the in-flight limit fall below `maxConcurrency` when the source's latency shows it queueing our requests. */
    adaptiveConcurrency: z.boolean().default(true),
    /** Most entries in one FHIR `batch` Bundle (per-patient searches of a source without OR lists). */
    maxBatchEntries: z.number().int().min(1).max(1000).default(50),
    /** OR-list chunks are cut so that the request URL stays under this many characters. */
    maxUrlLength: z.number().int().min(256).default(2_000),
    /** Page size asked for with `_count`. */
    pageSize: z.number().int().positive().default(100),
    /** Answers larger than this are refused (memory stays bounded whatever a source sends). */
    maxResponseBytes: z.number().int().positive().default(32 * 1024 * 1024),
    /** The identifier system this source uses for its medical record numbers. */
    mrnSystem: z.string().optional(),
    /** `chartgraph sync`: `auto` uses Bulk Data `Patient/$export` when /metadata offers it, else paged search. */
    sync: z
      .object({ mode: z.enum(['auto', 'search', 'export']).default('auto') })
      .strict()
      .default({ mode: 'auto' }),
    /** The care-coordination event feed's polling of this source; unset keys follow `events`. */
    events: z
      .object({
        /** Poll this source for events (default: when `events.enabled`). */
        enabled: z.boolean().optional(),
        /** Seconds between incremental searches of this source (default `events.pollSeconds`). */
        pollSeconds: z.number().positive().optional(),
      })
      .strict()
      .default({}),
    /** Retries, retry budget and circuit breaker; unset keys keep their defaults. */
    resilience: z
      .object({
        retries: z.number().int().min(0).max(5),
        baseDelayMs: z.number().int().min(0),
        maxDelayMs: z.number().int().min(0),
        maxRetryAfterSec: z.number().int().min(0),
        retryBudgetRatio: z.number().min(0).max(1),
        breakerFailures: z.number().int().min(1),
        breakerHalfOpenMs: z.number().int().min(100),
      })
      .partial()
      .strict()
      .default({}),
  })
  .strict();

export const eligibilitySourceSchema = z
  .object({
    id: sourceId,
    kind: z.literal('eligibility'),
    name: z.string().min(1).optional(),
    baseUrl: z.url(),
    auth: z.discriminatedUnion('type', [
      z.object({ type: z.literal('none') }).strict(),
      z.object({ type: z.literal('bearer'), token: z.string().min(1) }).strict(),
      z.object({ type: z.literal('api-key'), header: z.string().default('Authorization'), key: z.string().min(1) }).strict(),
    ]),
    tradingPartnerServiceId: z.string().min(1),
    provider: z.object({ npi: z.string().regex(/^\d{10}$/, 'must be a 10-digit NPI'), organizationName: z.string().min(1) }).strict(),
    timeoutMs: z.number().int().positive().default(5_000),
    maxConcurrency: z.number().int().positive().default(4),
    /**
     * How EHR Coverage resources name this payer: matched (case-insensitively) against
     * `Coverage.payor[].identifier.value` and `Coverage.payor[].display`. The trading partner
     * id and the source name always match too.
     */
    payerIds: z.array(z.string().min(1)).default([]),
    /** The most a GraphQL field waits for this payer (queue plus exchange); then cache or null. */
    deadlineMs: z.number().int().positive().default(6_000),
    cache: z
      .object({
        /** `end-of-day`: fresh until midnight (in `timeZone`) of the day fetched; or a number of seconds. */
        ttl: z.union([z.literal('end-of-day'), z.number().int().min(0)]).default('end-of-day'),
        /** IANA time zone whose midnight ends an `end-of-day` entry. */
        timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as America/Chicago').default('UTC'),
        /** How long past expiry an answer may still be served, marked stale, when the payer fails. */
        staleIfErrorSeconds: z.number().int().min(0).default(7 * 86_400),
      })
      .strict()
      .default({ ttl: 'end-of-day', timeZone: 'UTC', staleIfErrorSeconds: 7 * 86_400 }),
  })
  .strict();

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const authSchema = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('dev'),
      /** HS256 secret for dev tokens; unset, one is generated and kept in the data folder. */
      secret: z.string().min(32, 'must be at least 32 characters').optional(),
      issuer: z.string().default('chartgraph-dev'),
      audience: z.string().default('chartgraph'),
      /** Longest lifetime a token may have (exp - iat, or exp - now without iat); longer-lived tokens are refused. */
      maxTokenLifetimeSec: z.number().int().positive().default(3600),
    })
    .strict(),
  z
    .object({
      mode: z.literal('oidc'),
      issuer: z.url(),
      audience: z.string().min(1),
      /** Unset: taken from the issuer's `/.well-known/openid-configuration`. */
      jwksUri: z.url().optional(),
      algorithms: z.array(z.enum(['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384'])).min(1).default(['RS256']),
      clockToleranceSec: z.number().int().min(0).max(300).default(30),
      roleClaim: z.string().default('role'),
      /** Longest lifetime a token may have (exp - iat, or exp - now without iat); longer-lived tokens are refused. */
      maxTokenLifetimeSec: z.number().int().positive().default(3600),
    })
    .strict(),
]);

/** Defaults of the document and argument limits (README "Security model"). */
export const LIMIT_DEFAULTS = { maxFields: 500, maxDirectives: 50, maxStringLength: 256 } as const;

export const configSchema = z
  .object({
    server: z
      .object({
        port: z.number().int().min(0).max(65_535).default(4000),
        host: z.string().default('127.0.0.1'),
        /** Production mode turns introspection and GraphiQL off unless set explicitly. */
        production: z.boolean().default(false),
        introspection: z.boolean().optional(),
        graphiql: z.boolean().optional(),
        logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /**
         * The proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client, for
         * the per-address rate limit and the audit. None by default: behind a load balancer
         * every client would otherwise share its address, and a forged header from anyone
         * else must not buy a fresh allowance.
         */
        trustProxy: z.array(z.string().refine(isProxyAddress, 'must be an IP address, a CIDR range (10.0.0.0/8) or loopback, linklocal, uniquelocal')).min(1).optional(),
      })
      .strict()
      .default({ port: 4000, host: '127.0.0.1', production: false, logLevel: 'info' }),
    cache: z
      .object({
        /** `pglite:<folder>` (embedded) or a `postgresql://` URL. */
        url: z
          .string()
          .refine((u) => u.startsWith('pglite:') || /^postgres(ql)?:\/\//.test(u), 'must start with pglite: or postgresql://')
          .default('pglite:.chartgraph/cache'),
        /** Seconds a cached search result counts as fresh, per FHIR resource type. */
        ttlSeconds: z.record(z.string(), z.number().int().min(0)).default({}),
        defaultTtlSeconds: z.number().int().min(0).default(300),
        /** Past its TTL, a copy is still served for this long while a background refresh runs. */
        staleWhileRevalidateSeconds: z.number().int().min(0).default(60),
        /** Past its TTL, a copy is served (marked stale) for this long when the source fails. */
        staleIfErrorSeconds: z.number().int().min(0).default(86_400),
        /** Resources kept in this process's memory in front of the database cache; 0 turns the tier off. */
        memoryMaxResources: z.number().int().min(0).default(200_000),
        /**
         * A whole answer built only from fresh cached copies is kept this long (at most until
         * the first of them expires, and never longer than `identity.linkCacheSeconds`) and
         * given again to the same user asking the same; 0 turns the response cache off.
         */
        responseMaxAgeSeconds: z.number().int().min(0).default(10),
        /** Memory the response cache may use in this process, in MiB. */
        responseMemoryMb: z.number().int().min(1).default(64),
      })
      .strict()
      .default({
        url: 'pglite:.chartgraph/cache',
        ttlSeconds: {},
        defaultTtlSeconds: 300,
        staleWhileRevalidateSeconds: 60,
        staleIfErrorSeconds: 86_400,
        memoryMaxResources: 200_000,
        responseMaxAgeSeconds: 10,
        responseMemoryMb: 64,
      }),
    auth: authSchema.default({ mode: 'dev', issuer: 'chartgraph-dev', audience: 'chartgraph', maxTokenLifetimeSec: 3600 }),
    identity: z
      .object({
        /** Identifier systems that name one person everywhere (deterministic links). */
        strongIdentifierSystems: z.array(z.string().min(1)).default(['http://hl7.org/fhir/sid/us-ssn']),
        /** How long a replica keeps a patient's links in memory; another replica's link changes show within this. 0: always ask the database. */
        linkCacheSeconds: z.number().int().min(0).default(10),
        /** Further identifier systems sources share as cross references (an HIE or enterprise id): deterministic links too. */
        crossReferenceSystems: z.array(z.string().min(1)).default([]),
        /** Demographic match score (bits, log2 likelihood ratio) at or above which records link automatically. */
        autoLinkThreshold: z.number().default(24),
        /** Demographic match score (bits) at or above which a pair is kept as a possible match for admins. */
        possibleMatchThreshold: z.number().default(12),
      })
      .strict()
      .refine((i) => i.possibleMatchThreshold <= i.autoLinkThreshold, {
        message: 'possibleMatchThreshold must not exceed autoLinkThreshold',
        path: ['possibleMatchThreshold'],
      })
      .default({
        strongIdentifierSystems: ['http://hl7.org/fhir/sid/us-ssn'],
        linkCacheSeconds: 10,
        crossReferenceSystems: [],
        autoLinkThreshold: 24,
        possibleMatchThreshold: 12,
      }),
    limits: z
      .object({
        maxPatientsPerRequest: z.number().int().positive().default(1000),
        /** Most `cohort` fields (aliases included) in one request: each runs SQL that holds a database connection. */
        maxCohortsPerRequest: z.number().int().positive().default(5),
        /** One GraphQL request's overall deadline, shared by every upstream call it makes (queue and exchange). */
        requestDeadlineMs: z.number().int().positive().default(20_000),
        /** Deepest field nesting an operation may have (introspection fields not counted). */
        maxDepth: z.number().int().positive().default(12),
        /** Most aliases in one operation (alias bombs). */
        maxAliases: z.number().int().min(0).default(30),
        /** Largest estimated cost: objects the answer may hold, lists counted at `first` or `ids` length. */
        maxCost: z.number().int().positive().default(1_000_000),
        /** Most lexical tokens in a document; the parser stops there. */
        maxTokens: z.number().int().positive().default(10_000),
        /** Most field selections written in a document (counted on the text before validation, whose cost grows with them). */
        maxFields: z.number().int().positive().default(LIMIT_DEFAULTS.maxFields),
        /** Most directives in one operation. */
        maxDirectives: z.number().int().min(0).default(LIMIT_DEFAULTS.maxDirectives),
        /** Longest string (characters) any argument, input field or variable may hold; longer is BAD_USER_INPUT before any upstream call. */
        maxStringLength: z.number().int().min(16).default(LIMIT_DEFAULTS.maxStringLength),
        /** Accept a JSON array of operations in one HTTP request. */
        batching: z.boolean().default(false),
        /**
         * Request rate limits; unset: none. `perMinute` counts per token subject, `perIpPerMinute`
         * per client address before the token is checked (floods of bad tokens). With `redisUrl`,
         * shared by every replica.
         */
        rateLimit: z
          .object({
            perMinute: z.number().int().positive().optional(),
            perIpPerMinute: z.number().int().positive().optional(),
            redisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
          })
          .strict()
          .refine((r) => r.perMinute !== undefined || r.perIpPerMinute !== undefined, 'set perMinute, perIpPerMinute or both')
          .optional(),
      })
      .strict()
      .default({
        maxPatientsPerRequest: 1000,
        maxCohortsPerRequest: 5,
        requestDeadlineMs: 20_000,
        maxDepth: 12,
        maxAliases: 30,
        maxCost: 1_000_000,
        maxTokens: 10_000,
        ...LIMIT_DEFAULTS,
        batching: false,
      }),
    analytics: z
      .object({
        /** Cohort breakdown cells (and totals) under this count are suppressed for analysts (CMS cell-size rule: 11). */
        suppressionThreshold: z.number().int().min(1).default(11),
      })
      .strict()
      .default({ suppressionThreshold: 11 }),
    /** OpenTelemetry traces; off unless `otlp` is set. */
    telemetry: z
      .object({
        serviceName: z.string().min(1).default('chartgraph'),
        otlp: z
          .object({
            /** OTLP/HTTP traces endpoint, e.g. http://otel-collector:4318/v1/traces. */
            endpoint: z.url(),
            headers: z.record(z.string(), z.string()).default({}),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    sourceHealth: z
      .object({
        /** Calls older than this no longer count toward a source's status. */
        windowSeconds: z.number().int().positive().default(60),
        /** DEGRADED when the 90th percentile of per-exchange latency in the window is above this. */
        degradedLatencyMs: z.number().int().positive().default(2_000),
        /** DEGRADED when more than this share of the window's calls failed (from 5 calls on). */
        degradedErrorRate: z.number().min(0).max(1).default(0.2),
      })
      .strict()
      .default({ windowSeconds: 60, degradedLatencyMs: 2_000, degradedErrorRate: 0.2 }),
    audit: z
      .object({
        /**
         * Local append-only file (JSON lines, fsync'd) that holds audit events while the cache
         * database is unreachable; replayed into it when it is back. One per replica.
         */
        spoolFile: z.string().min(1).default('.chartgraph/audit-spool.jsonl'),
      })
      .strict()
      .default({ spoolFile: '.chartgraph/audit-spool.jsonl' }),
    /** The care-coordination event feed (PRODUCT.md `patientEvents`). */
    events: z
      .object({
        /** Poll the FHIR sources for events. Off by default; the demo config turns it on. Reading and subscribing work either way. */
        enabled: z.boolean().default(false),
        /** Seconds between incremental `_lastUpdated` searches of each source. */
        pollSeconds: z.number().positive().default(30),
        /** Each search reaches back this many seconds before the cursor, for writes that commit late at the source. */
        overlapSeconds: z.number().min(0).default(10),
        /** A replica holds a source's poller lease this long unless it renews it (failover time when a replica dies). */
        leaseSeconds: z.number().positive().default(15),
        /** How often a replica checks the events table even without a notification, in ms. */
        deliveryCheckMs: z.number().int().min(50).default(2_000),
        /** Events one subscriber may have waiting before it is dropped as too slow (it may resume with `after`). */
        subscriberQueueSize: z.number().int().positive().default(1_000),
        /** Open subscriptions per token subject and replica. */
        maxSubscriptionsPerSubject: z.number().int().positive().default(10),
        /** WebSocket ping interval, seconds; a WebSocket that misses a ping is closed (SSE keep-alives are graphql-sse's, every 12 s). */
        keepAliveSeconds: z.number().positive().default(15),
        /** This gateway's public base URL: where sources with FHIR Subscriptions (R4 Backport, rest-hook) send notifications. Unset: polling only. */
        notificationBaseUrl: z.url().optional(),
        /** Seconds between safety-net polls of a source whose FHIR Subscription is active. */
        subscriptionPollSeconds: z.number().positive().default(60),
      })
      .strict()
      .default({
        enabled: false,
        pollSeconds: 30,
        overlapSeconds: 10,
        leaseSeconds: 15,
        deliveryCheckMs: 2_000,
        subscriberQueueSize: 1_000,
        maxSubscriptionsPerSubject: 10,
        keepAliveSeconds: 15,
        subscriptionPollSeconds: 60,
      }),
    security: z
      .object({
        /**
         * HMAC key for analysts' pseudonyms (at least 32 characters, from `${ENV}`). Required with
         * `auth.mode: oidc`; dev mode generates one next to the dev secret.
         */
        deidKey: z.string().min(32, 'must be at least 32 characters').optional(),
      })
      .strict()
      .default({}),
    sources: z
      .array(z.discriminatedUnion('kind', [fhirSourceSchema, eligibilitySourceSchema]))
      .min(1, 'at least one source is needed'),
  })
  .strict()
  .superRefine((config, ctx) => {
    // Dev tokens are signed with a secret on the local disk: whoever reads it can mint any role.
    if (config.server.production && config.auth.mode === 'dev') {
      ctx.addIssue({ code: 'custom', path: ['auth', 'mode'], message: 'auth.mode dev is refused with server.production: configure an OIDC issuer (auth.mode: oidc)' });
    }
  });

export type ChartgraphConfig = z.infer<typeof configSchema>;
export type SourceConfig = ChartgraphConfig['sources'][number];
export type FhirSourceConfig = z.infer<typeof fhirSourceSchema>;
export type EligibilitySourceConfig = z.infer<typeof eligibilitySourceSchema>;
export type AuthConfig = ChartgraphConfig['auth'];

/** Payer eligibility sources of a config, in file order. */
export function eligibilitySources(config: ChartgraphConfig): EligibilitySourceConfig[] {
  return config.sources.filter((s): s is EligibilitySourceConfig => s.kind === 'eligibility');
}

/** FHIR sources of a config, in file order. */
export function fhirSources(config: ChartgraphConfig): FhirSourceConfig[] {
  return config.sources.filter((s): s is FhirSourceConfig => s.kind === 'fhir');
}

/** What Fastify's `trustProxy` (proxy-addr) accepts: an address, a CIDR range or a named range. */
function isProxyAddress(value: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(value)) return true;
  const [address, prefix, ...rest] = value.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}
