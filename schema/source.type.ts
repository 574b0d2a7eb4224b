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

@ObjectType({ simpleResolvers: true, description: 'What a FHIR source can do, from its CapabilityStatement and the config’s overrides.' })
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
