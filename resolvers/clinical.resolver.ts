import type { GraphQLResolveInfo } from 'graphql';
import { Args, Ctx, FieldResolver, Info, Resolver, Root } from 'type-graphql';
import {
  AllergyIntoleranceConnection,
  ConditionConnection,
  DiagnosticReportConnection,
  EncounterConnection,
  ImmunizationConnection,
  MedicationRequestConnection,
  ObservationConnection,
  ProcedureConnection,
} from '../schema/clinical.types.js';
import { Patient } from '../schema/patient.type.js';
import {
  AllergyArgs,
  CodedSinceArgs,
  ConditionArgs,
  DiagnosticReportArgs,
  MedicationRequestArgs,
  ObservationArgs,
  SinceArgs,
} from './clinical-args.js';
import { loadClinicalConnection } from './clinical-connection.js';
import { KINDS } from './clinical-kinds.js';
import type { RequestContext } from './context.js';
import type { PatientView } from './patient-view.js';

// The clinical lists of a patient. All go through one loader path, so a dashboard asking
// for 50 patients' conditions makes one batched search per source, not 50.

@Resolver(() => Patient)
export class ClinicalResolver {
  @FieldResolver(() => ConditionConnection, { description: 'Problems and diagnoses from every linked source, newest onset first.' })
  conditions(@Root() p: PatientView, @Args(() => ConditionArgs) a: ConditionArgs, @Ctx() ctx: RequestContext, @Info() i: GraphQLResolveInfo) {
    return loadClinicalConnection(ctx, p, KINDS.Condition, a, i);
  }

  @FieldResolver(() => ObservationConnection, { description: 'Labs, vital signs and other observations from every linked source, newest first.' })
  observations(@Root() p: PatientView, @Args(() => ObservationArgs) a: ObservationArgs, @Ctx() ctx: RequestContext, @Info() i: GraphQLResolveInfo) {
    return loadClinicalConnection(ctx, p, KINDS.Observation, a, i);
  }

  @FieldResolver(() => MedicationRequestConnection, { description: 'Medication orders from every linked source, newest first.' })
  medicationRequests(
    @Root() p: PatientView,
    @Args(() => MedicationRequestArgs) a: MedicationRequestArgs,
    @Ctx() ctx: RequestContext,
    @Info() i: GraphQLResolveInfo,
  ) {
    return loadClinicalConnection(ctx, p, KINDS.MedicationRequest, a, i);
  }

  @FieldResolver(() => AllergyIntoleranceConnection, { description: 'Allergies and intolerances from every linked source.' })
  allergies(@Root() p: PatientView, @Args(() => AllergyArgs) a: AllergyArgs, @Ctx() ctx: RequestContext, @Info() i: GraphQLResolveInfo) {
    return loadClinicalConnection(ctx, p, KINDS.AllergyIntolerance, a, i);
  }

  @FieldResolver(() => ImmunizationConnection, { description: 'Vaccinations from every linked source, newest first.' })
  immunizations(@Root() p: PatientView, @Args(() => SinceArgs) a: SinceArgs, @Ctx() ctx: RequestContext, @Info() i: GraphQLResolveInfo) {
    return loadClinicalConnection(ctx, p, KINDS.Immunization, a, i);
  }

  @FieldResolver(() => ProcedureConnection, { description: 'Procedures from every linked source, newest first.' })
  procedures(@Root() p: PatientView, @Args(() => CodedSinceArgs) a: CodedSinceArgs, @Ctx() ctx: RequestContext, @Info() i: GraphQLResolveInfo) {
    return loadClinicalConnection(ctx, p, KINDS.Procedure, a, i);
  }

  @FieldResolver(() => EncounterConnection, { description: 'Visits and admissions from every linked source, newest first.' })
  encounters(@Root() p: PatientView, @Args(() => SinceArgs) a: SinceArgs, @Ctx() ctx: RequestContext, @Info() i: GraphQLResolveInfo) {
    return loadClinicalConnection(ctx, p, KINDS.Encounter, a, i);
  }

  @FieldResolver(() => DiagnosticReportConnection, { description: 'Diagnostic reports from every linked source, newest first.' })
  diagnosticReports(
    @Root() p: PatientView,
    @Args(() => DiagnosticReportArgs) a: DiagnosticReportArgs,
    @Ctx() ctx: RequestContext,
    @Info() i: GraphQLResolveInfo,
  ) {
    return loadClinicalConnection(ctx, p, KINDS.DiagnosticReport, a, i);
  }
}
