import type { GraphQLResolveInfo } from 'graphql';
import { Ctx, FieldResolver, Info, Resolver, Root } from 'type-graphql';
import { Coverage } from '../schema/coverage.types.js';
import { Patient } from '../schema/patient.type.js';
import type { RequestContext } from './context.js';
import { loadPatientCoverages } from './coverage-load.js';
import type { PatientView } from './patient-view.js';

@Resolver(() => Patient)
export class CoverageResolver {
  @FieldResolver(() => [Coverage], {
    description:
      'Insurance on file in every linked EHR (FHIR Coverage), the same policy from two sources shown once with both provenances; primary first. A failing source costs only its coverages (partial error).',
  })
  async coverage(@Root() p: PatientView, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo): Promise<Coverage[]> {
    return (await loadPatientCoverages(ctx, p, info)).map((c) => c.view);
  }
}
