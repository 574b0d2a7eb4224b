import { Field, ID, ObjectType } from 'type-graphql';
import { connectionOf } from './connection.types.js';
import { DateTimeScalar } from './scalars.js';

@ObjectType({ simpleResolvers: true, description: 'One recorded access to patient data (or attempt), for compliance review. Admins only.' })
export class AuditEvent {
  @Field(() => ID, { description: 'Event id.' })
  id!: string;

  @Field(() => DateTimeScalar, { description: 'When the request was answered.' })
  at!: string;

  @Field(() => String, { description: 'The request id (the `x-request-id` response header), to find the request in the logs.' })
  requestId!: string;

  @Field(() => String, { description: 'Who asked: the token’s subject.' })
  subject!: string;

  @Field(() => String, { description: 'The role the token carried.' })
  role!: string;

  @Field(() => String, { nullable: true, description: 'Purpose of use from the `X-Purpose-Of-Use` header (TREAT, HPAYMT, HOPERAT, ...), null when none was sent.' })
  purposeOfUse?: string | null;

  @Field(() => String, { description: '`read` for queries; admin actions such as `link` or `unlink` use their own names.' })
  action!: string;

  @Field(() => [ID], { description: 'Unified ids of the patients whose data was read or refused.' })
  patientIds!: string[];

  @Field(() => [String], { description: 'Field groups asked for: demographics, identifiers, sourceRecords, conditions, observations, coverage, ...' })
  fieldGroups!: string[];

  @Field(() => [String], { description: 'Field groups the permission rules refused (empty unless the outcome is `denied`).' })
  deniedGroups!: string[];

  @Field(() => String, { description: '`success`, `partial` (some sources failed), `denied` (a permission rule refused part of the request) or `error`.' })
  outcome!: string;

  @Field(() => String, { nullable: true, description: 'The GraphQL operation name, when the client gave one.' })
  operationName?: string | null;
}

export const AuditEventConnection = connectionOf(AuditEvent, 'AuditEvent', 'audit event');
