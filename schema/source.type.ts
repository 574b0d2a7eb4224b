import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from './scalars.js';

export enum SourceStatus {
  UP = 'UP',
  DEGRADED = 'DEGRADED',
  DOWN = 'DOWN',
  UNKNOWN = 'UNKNOWN',
}
registerEnumType(SourceStatus, {
  name: 'SourceStatus',
  description: 'Health of a source as chartgraph last saw it.',
  valuesConfig: {
    UP: { description: 'The last call succeeded.' },
    DEGRADED: { description: 'Recent calls were rate limited or slow.' },
    DOWN: { description: 'The last call failed.' },
    UNKNOWN: { description: 'No call has been made yet.' },
  },
});

export enum BreakerState {
  CLOSED = 'CLOSED',
  OPEN = 'OPEN',
  HALF_OPEN = 'HALF_OPEN',
}
registerEnumType(BreakerState, {
  name: 'BreakerState',
  description: 'State of a source’s circuit breaker.',
  valuesConfig: {
    CLOSED: { description: 'Calls go through.' },
    OPEN: { description: 'Recent calls failed: calls fail at once, without reaching the source, until a trial call is due.' },
    HALF_OPEN: { description: 'A trial call decides whether the breaker closes again.' },
  },
});

export enum CapabilityOrigin {
  CONFIG = 'CONFIG',
  METADATA = 'METADATA',
  PROBE = 'PROBE',
  DEFAULT = 'DEFAULT',
}
registerEnumType(CapabilityOrigin, {
  name: 'CapabilityOrigin',
  description: 'How chartgraph learned one capability of a source.',
  valuesConfig: {
    CONFIG: { description: 'Set in the source’s `capabilities` config, which overrides everything else.' },
    METADATA: { description: 'Read from the source’s CapabilityStatement (`/metadata`).' },
    PROBE: { description: 'Found out by probing the source (a count-only search or batch, or the reply to a large `_count`), because /metadata did not say.' },
    DEFAULT: { description: 'Nothing said and nothing probed yet: the safe default (no OR lists, no batch, the configured page size).' },
  },
});

@ObjectType({ simpleResolvers: true, description: 'How each capability of a source was learned.' })
export class SourceCapabilityOrigins {
  @Field(() => CapabilityOrigin, { description: 'Origin of `patientOrSearch`.' })
  patientOrSearch!: CapabilityOrigin;

  @Field(() => CapabilityOrigin, { description: 'Origin of `postSearch`.' })
  postSearch!: CapabilityOrigin;

  @Field(() => CapabilityOrigin, { description: 'Origin of `maxCount`.' })
  maxCount!: CapabilityOrigin;

  @Field(() => CapabilityOrigin, { description: 'Origin of `batch`.' })
  batch!: CapabilityOrigin;
}

@ObjectType({ simpleResolvers: true, description: 'What a FHIR source can do, from its CapabilityStatement, probes of the source and the config’s overrides.' })
export class SourceCapabilities {
  @Field(() => String, { nullable: true, description: 'FHIR version the server declares.' })
  fhirVersion?: string | null;

  @Field(() => String, { nullable: true, description: 'Server software name.' })
  software?: string | null;

  @Field(() => Boolean, { description: 'Accepts `patient=a,b,c` (comma = OR), so one search serves many patients.' })
  patientOrSearch!: boolean;

  @Field(() => Boolean, { description: 'Accepts POST `[type]/_search`.' })
  postSearch!: boolean;

  @Field(() => Int, { description: 'Largest page size (`_count`) the server honours.' })
  maxCount!: number;

  @Field(() => Boolean, { description: 'Accepts FHIR `batch` Bundles (POST to the base URL), so per-patient searches of a source without OR lists travel many to a request.' })
  batch!: boolean;

  @Field(() => SourceCapabilityOrigins, { description: 'How each capability above was learned: config, /metadata, a probe, or the default.' })
  origins!: SourceCapabilityOrigins;

  @Field(() => Int, { description: 'Requests in flight to the source allowed now: `maxConcurrency`, lowered while the source’s latency shows it queueing our requests.' })
  concurrencyLimit!: number;
}

@ObjectType({ simpleResolvers: true, description: 'A configured upstream: an EHR FHIR endpoint or a payer eligibility API.' })
export class Source {
  @Field(() => ID, { description: 'The id from the config, used in provenance and errors.' })
  id!: string;

  @Field(() => String, { description: 'Display name.' })
  name!: string;

  @Field(() => String, { description: '`fhir` or `eligibility`.' })
  kind!: string;

  @Field(() => SourceStatus, { description: 'Health as last seen.' })
  status!: SourceStatus;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When chartgraph last called the source.' })
  lastCheckedAt?: string | null;

  @Field(() => BreakerState, { nullable: true, description: 'Circuit breaker of a FHIR source; null for payers.' })
  breaker?: BreakerState | null;

  @Field(() => SourceCapabilities, { nullable: true, description: 'Capabilities of a FHIR source; null for payers or when unknown.' })
  capabilities?: SourceCapabilities | null;
}
