import type { FhirResource } from '../datasources/fhir/fhir-types.js';
import { SimulatedEhr } from './fhir-server.js';
import { FhirStore } from './fhir-store.js';
import { MISBEHAVING } from './misbehaviour.js';
import { withMedicationReferences } from './medication-references.js';
import { DEFAULT_PROFILES, type EhrProfile } from './profiles.js';
import { generateClientKey, SmartTokenServer, type ClientKey } from './smart-token-server.js';
import { EHR_IDS, EHR_INFO, type EhrId, type SplitTruth } from './split.js';
import { splitFixturesCached } from './split-cache.js';
import type { RequestLog } from './request-log.js';
import { deriveMembers, SANDBOX_TRADING_PARTNERS } from './payer-members.js';
import { SANDBOX_PAYER_TOKEN, SimulatedPayer } from './payer-server.js';

export { SimulatedEhr } from './fhir-server.js';
export { SimulatedPayer, SANDBOX_PAYER_TOKEN } from './payer-server.js';
export type { SimulatedMember, SimulatedTradingPartner } from './payer-members.js';
export { SANDBOX_TRADING_PARTNERS } from './payer-members.js';
export type { FaultRule } from './faults.js';
export type { EhrProfile } from './profiles.js';
export { MISBEHAVING, FOREIGN_PATIENT_ID, type Misbehaviour } from './misbehaviour.js';
export { medicationForm, medicationIdFor, type MedicationForm } from './medication-references.js';
export type { RecordedRequest, RequestFilter, RequestLog } from './request-log.js';
export type { SplitTruth, TruthPatient, TruthEhrRecord, EhrId } from './split.js';
export type { VariationKind } from './cross-hospital.js';
export { VARIATION_KINDS } from './cross-hospital.js';
export { EHR_IDS, EHR_INFO, SSN_SYSTEM } from './split.js';
export { SEARCH_MULTIPLE_OR_URL, MAX_COUNT_URL, POST_SEARCH_URL, OAUTH_URIS_URL } from './capability.js';

/** The SMART client id the sandbox registers for the gateway. */
export const SANDBOX_CLIENT_ID = 'chartgraph';

/** Options for {@link startSandbox}. */
export interface SandboxOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Mercy at N, St. Jude at N+1, token server at N+2, payer at N+3; 0 (default) = random ports. */
  basePort?: number;
  /** Fixture folder; default per `resolveFixturesDir`. */
  fixturesDir?: string;
  /** Only the first N fixture patients. */
  maxPatients?: number;
  /** At least N patients, made from the fixtures when there are fewer (benchmarks). */
  minPatients?: number;
  /**
   * Serve Patient resources only, no clinical resources or Coverage: identity evaluations
   * of 10,000 people, which read demographics only, start in seconds and fit in memory.
   */
  patientsOnly?: boolean;
  /** Fixed latency added to every EHR answer (and token answer), ms. */
  latencyMs?: number;
  /** Per-EHR profile overrides. */
  profiles?: Partial<Record<EhrId, Partial<EhrProfile>>>;
  /** Access token lifetime in seconds (default 300). */
  tokenExpiresIn?: number;
  /** Fixed latency of every payer answer, ms (default 0). */
  payerLatencyMs?: number;
  /** This EHR gets the `MISBEHAVING` profile (see `misbehaviour.ts`); `profiles` may refine it. */
  misbehave?: EhrId;
  /** These EHRs send two thirds of MedicationRequests by `medicationReference` and serve the Medications (see `medication-references.ts`). */
  medicationReferences?: EhrId[];
}

/** The SMART token endpoint as the tests and the gateway config need it. */
export interface SandboxToken {
  url: string;
  clientId: string;
  /** PKCS#8 PEM of the registered RS384 key (the default for the gateway). */
  privateKeyPem: string;
  alg: 'RS384';
  keyId: string;
  /** The registered ES384 key, for tests of that algorithm. */
  es384: ClientKey;
  rs384: ClientKey;
  requests: RequestLog;
  server: SmartTokenServer;
}

/** A plain object shaped like a `sources` entry of the chartgraph config (kind fhir). */
export interface SandboxSourceConfig {
  id: EhrId;
  kind: 'fhir';
  name: string;
  baseUrl: string;
  auth:
    | { type: 'none' }
    | { type: 'smart-backend'; tokenUrl: string; clientId: string; privateKey: string; alg: 'RS384' | 'ES384'; keyId?: string };
  mrnSystem: string;
}

/** A plain object shaped like a `sources` entry of the chartgraph config (kind eligibility). */
export interface SandboxPayerSourceConfig {
  id: string;
  kind: 'eligibility';
  name: string;
  baseUrl: string;
  auth: { type: 'bearer'; token: string };
  tradingPartnerServiceId: string;
  provider: { npi: string; organizationName: string };
  payerIds: string[];
}

/** A running sandbox. */
export interface Sandbox {
  ehrs: SimulatedEhr[];
  ehr(id: EhrId): SimulatedEhr;
  token: SandboxToken;
  truth: SplitTruth;
  /** Config `sources` entries for both EHRs (SMART auth where the profile requires it). */
  sourcesConfig(): SandboxSourceConfig[];
  /** The simulated payer gateway (one endpoint, one trading partner per simulated payer). */
  payer: SimulatedPayer;
  /** Config `sources` entries (kind eligibility), one per simulated trading partner. */
  payerConfig(): SandboxPayerSourceConfig[];
  close(): Promise<void>;
}

/**
 * Starts the simulated upstreams: the SMART token server and one FHIR server per EHR,
 * seeded with the fixture patients split across the EHRs.
 */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const host = opts.host ?? '127.0.0.1';
  const port = (offset: number): number => (opts.basePort ? opts.basePort + offset : 0);
  const split = splitFixturesCached({
    fixturesDir: opts.fixturesDir,
    maxPatients: opts.maxPatients,
    minPatients: opts.minPatients,
    patientsOnly: opts.patientsOnly,
  });

  const [rs384, es384] = await Promise.all([generateClientKey('RS384', 'chartgraph-rs384'), generateClientKey('ES384', 'chartgraph-es384')]);
  const tokenServer = await SmartTokenServer.start({ host, port: port(2), expiresIn: opts.tokenExpiresIn, latencyMs: opts.latencyMs });
  tokenServer.registerClient(SANDBOX_CLIENT_ID, [rs384.publicJwk, es384.publicJwk]);

  const ehrs: SimulatedEhr[] = [];
  try {
    for (const [i, id] of EHR_IDS.entries()) {
      const profile: EhrProfile = {
        ...DEFAULT_PROFILES[id],
        ...(opts.latencyMs !== undefined && { latencyMs: opts.latencyMs }),
        ...(opts.misbehave === id && { misbehave: { ...MISBEHAVING } }),
        ...opts.profiles?.[id],
      };
      ehrs.push(
        await SimulatedEhr.start({
          id,
          name: EHR_INFO[id].name,
          // A fork: writes (create, update) stay in this sandbox.
          store: storeFor(opts.medicationReferences?.includes(id) ? referenceVariant(split.ehrs[id].resources) : split.ehrs[id].resources).fork(),
          profile,
          host,
          port: port(i),
          tokenUrl: tokenServer.url,
          validateToken: (t) => tokenServer.validateAccessToken(t),
        }),
      );
    }
  } catch (e) {
    await Promise.all([...ehrs.map((e) => e.close()), tokenServer.close()]);
    throw e;
  }
  let payer: SimulatedPayer;
  try {
    payer = await SimulatedPayer.start({ members: deriveMembers(split), host, port: port(3), latencyMs: opts.payerLatencyMs });
  } catch (e) {
    await Promise.all([...ehrs.map((e) => e.close()), tokenServer.close()]);
    throw e;
  }

  const token: SandboxToken = {
    url: tokenServer.url,
    clientId: SANDBOX_CLIENT_ID,
    privateKeyPem: rs384.privateKeyPem,
    alg: 'RS384',
    keyId: rs384.kid,
    rs384,
    es384,
    requests: tokenServer.requests,
    server: tokenServer,
  };
  const byId = (id: EhrId): SimulatedEhr => {
    const e = ehrs.find((x) => x.id === id);
    if (!e) throw new Error(`no simulated EHR "${id}"`);
    return e;
  };
  return {
    ehrs,
    ehr: byId,
    token,
    truth: split.truth,
    sourcesConfig: () =>
      ehrs.map((e) => ({
        id: e.id as EhrId,
        kind: 'fhir' as const,
        name: e.name,
        baseUrl: e.baseUrl,
        auth: e.profile.requireAuth
          ? { type: 'smart-backend' as const, tokenUrl: token.url, clientId: token.clientId, privateKey: token.privateKeyPem, alg: token.alg, keyId: token.keyId }
          : { type: 'none' as const },
        mrnSystem: EHR_INFO[e.id as EhrId].mrnSystem,
      })),
    payer,
    payerConfig: () =>
      SANDBOX_TRADING_PARTNERS.map((p) => ({
        id: p.sourceId,
        kind: 'eligibility' as const,
        name: p.name,
        baseUrl: payer.baseUrl,
        auth: { type: 'bearer' as const, token: SANDBOX_PAYER_TOKEN },
        tradingPartnerServiceId: p.tradingPartnerServiceId,
        provider: { npi: '1999999984', organizationName: 'Mercy Hospital' },
        payerIds: [p.payorDisplay],
      })),
    close: async () => {
      await Promise.all([...ehrs.map((e) => e.close()), tokenServer.close(), payer.close()]);
    },
  };
}

const variants = new WeakMap<readonly FhirResource[], FhirResource[]>();
function referenceVariant(resources: readonly FhirResource[]): FhirResource[] {
  let v = variants.get(resources);
  if (!v) variants.set(resources, (v = withMedicationReferences(resources)));
  return v;
}

// Indexing costs more than a start; a store depends only on its split data, so share it.
const stores = new WeakMap<readonly FhirResource[], FhirStore>();
function storeFor(resources: readonly FhirResource[]): FhirStore {
  let s = stores.get(resources);
  if (!s) stores.set(resources, (s = new FhirStore(resources)));
  return s;
}
