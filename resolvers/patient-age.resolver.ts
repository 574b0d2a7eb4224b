import { Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { ageGroup, birthYear } from '../deid/safe-harbor.js';
import { Patient } from '../schema/patient.type.js';
import type { RequestContext } from './context.js';
import type { PatientView } from './patient-view.js';

// Age fields that are safe for de-identified views too (HIPAA Safe Harbor groups ages
// over 89), so dashboards can use one query for every role.

@Resolver(() => Patient)
export class PatientAgeResolver {
  @FieldResolver(() => Int, { nullable: true, description: 'Year of birth; null when unknown or when the patient is over 89 (Safe Harbor withholds it then).' })
  async birthYear(@Root() patient: PatientView, @Ctx() ctx: RequestContext): Promise<number | null> {
    return birthYear((await patient.details).birthDate, ctx.services.deid?.now() ?? new Date());
  }

  @FieldResolver(() => String, { nullable: true, description: 'Age band today: `0-4`, `5-9`, ..., `85-89`, or `90+`; null when the birth date is unknown.' })
  async ageGroup(@Root() patient: PatientView, @Ctx() ctx: RequestContext): Promise<string | null> {
    return ageGroup((await patient.details).birthDate, ctx.services.deid?.now() ?? new Date());
  }
}
