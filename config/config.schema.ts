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
    /** Deadline for one upstream HTTP exchange, including following `next` links. */
    timeoutMs: z.number().int().positive().default(10_000),
    /** At most this many requests in flight to this source at once. */
    maxConcurrency: z.number().int().positive().default(8),
    /** OR-list chunks are cut so that the request URL stays under this many characters. */
    maxUrlLength: z.number().int().min(256).default(2_000),
    /** Page size asked for with `_count`. */
    pageSize: z.number().int().positive().default(100),
    /** The identifier system this source uses for its medical record numbers. */
    mrnSystem: z.string().optional(),
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
  })
  .strict();

const authSchema = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('dev'),
      /** HS256 secret for dev tokens; unset, one is generated and kept in the data folder. */
      secret: z.string().min(32, 'must be at least 32 characters').optional(),
      issuer: z.string().default('chartgraph-dev'),
      audience: z.string().default('chartgraph'),
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
    })
    .strict(),
]);

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
      })
      .strict()
      .default({ url: 'pglite:.chartgraph/cache', ttlSeconds: {}, defaultTtlSeconds: 300 }),
    auth: authSchema.default({ mode: 'dev', issuer: 'chartgraph-dev', audience: 'chartgraph' }),
    identity: z
      .object({
        /** Identifier systems that name one person everywhere (deterministic links). */
        strongIdentifierSystems: z.array(z.string().min(1)).default(['http://hl7.org/fhir/sid/us-ssn']),
      })
      .strict()
      .default({ strongIdentifierSystems: ['http://hl7.org/fhir/sid/us-ssn'] }),
    limits: z
      .object({
        maxPatientsPerRequest: z.number().int().positive().default(1000),
      })
      .strict()
      .default({ maxPatientsPerRequest: 1000 }),
    sources: z
      .array(z.discriminatedUnion('kind', [fhirSourceSchema, eligibilitySourceSchema]))
      .min(1, 'at least one source is needed'),
  })
  .strict();

export type ChartgraphConfig = z.infer<typeof configSchema>;
export type SourceConfig = ChartgraphConfig['sources'][number];
export type FhirSourceConfig = z.infer<typeof fhirSourceSchema>;
export type EligibilitySourceConfig = z.infer<typeof eligibilitySourceSchema>;
export type AuthConfig = ChartgraphConfig['auth'];

/** FHIR sources of a config, in file order. */
export function fhirSources(config: ChartgraphConfig): FhirSourceConfig[] {
  return config.sources.filter((s): s is FhirSourceConfig => s.kind === 'fhir');
}
