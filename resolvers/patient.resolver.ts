import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Info, Query, Resolver, Root } from 'type-graphql';
import { escapeSearchValue } from '../datasources/fhir/search-params.js';
import type { SearchParams } from '../datasources/fhir/fhir-types.js';
import { BadUserInputError, UpstreamError } from '../errors/errors.js';
import type { WithErrors } from '../identity/patient-directory.js';
import { Gender, Identifier } from '../schema/common.types.js';
import { mayReadIdentifier } from '../permissions/patient.js';
import type { ConnectionShape } from '../schema/connection.types.js';
import { Patient, PatientConnection } from '../schema/patient.type.js';
import { DateScalar } from '../schema/scalars.js';
import type { RequestContext } from './context.js';
import { PageArgs, paginate } from './pagination.js';
import { pathOf } from './partial-errors.js';
import { buildPatientView, lazyPatientView, type PatientView } from './patient-view.js';
import type { UnifiedPatient } from '../identity/patient-directory.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkPatientId(id: string, argument: string): void {
  if (!UUID.test(id)) throw new BadUserInputError(`\`${argument}\` is not a chartgraph patient id`, { argument });
}

@ArgsType()
class SearchPatientsArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: 'Part of any name (family or given), as FHIR `name` matches it.' })
  name?: string | null;

  @Field(() => DateScalar, { nullable: true, description: 'Exact birth date.' })
  birthDate?: string | null;

  @Field(() => Gender, { nullable: true, description: 'Administrative gender.' })
  gender?: Gender | null;
}

@Resolver(() => Patient)
export class PatientResolver {
  private view(ctx: RequestContext, info: GraphQLResolveInfo, found: WithErrors<UnifiedPatient | null>): PatientView | null {
    for (const err of found.errors) ctx.partialErrors.add(err, pathOf(info.path));
    return found.value ? buildPatientView(found.value, ctx.services.sourceRef) : null;
  }

  /**
   * A patient known to the index, answered at once: clinical lists start from its links,
   * and its source Patient resources are read only if a demographic field asks (failures
   * reported at the patient's path).
   */
  private known(ctx: RequestContext, path: GraphQLResolveInfo['path'], found: WithErrors<UnifiedPatient | null>): PatientView | null {
    // Sources not yet searched for this patient (they failed when it was linked) are named here.
    for (const err of found.errors) ctx.partialErrors.add(err, pathOf(path));
    const patient = found.value;
    if (!patient) return null;
    const load = async () => {
      const found = await ctx.patients.byId.load(patient.id);
      for (const err of found.errors) ctx.partialErrors.add(err, pathOf(path));
      return found.value ?? patient;
    };
    return lazyPatientView(patient, load, ctx.services.sourceRef);
  }

  @Query(() => Patient, { nullable: true, description: 'One patient by unified id, with every linked source record.' })
  async patient(
    @Arg('id', () => ID, { description: 'Unified patient id.' }) id: string,
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<PatientView | null> {
    checkPatientId(id, 'id');
    return this.known(ctx, info.path, await ctx.patients.linksById.load(id));
  }

  @Query(() => Patient, {
    nullable: true,
    description: 'The patient a business identifier names (an MRN of one source, an SSN, ...), looked up in every source and linked.',
  })
  async patientByIdentifier(
    @Arg('system', () => String, { description: 'Identifier system, e.g. http://hl7.org/fhir/sid/us-ssn.' }) system: string,
    @Arg('value', () => String, { description: 'Identifier value.' }) value: string,
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<PatientView | null> {
    if (!system.trim() || !value.trim()) throw new BadUserInputError('`system` and `value` must not be empty');
    return this.view(ctx, info, await ctx.patients.findByIdentifier(system, value));
  }

  @Query(() => [Patient], {
    nullable: 'items',
    description: 'Many patients by unified id, for dashboards: same order as `ids`, null for an unknown id.',
  })
  async patients(
    @Arg('ids', () => [ID], { description: 'Unified patient ids.' }) ids: string[],
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<(PatientView | null)[]> {
    const max = ctx.services.config.limits.maxPatientsPerRequest;
    if (ids.length > max) throw new BadUserInputError(`at most ${max} patients per request`, { argument: 'ids' });
    ids.forEach((id, i) => checkPatientId(id, `ids[${i}]`));
    const found = await ctx.patients.linksById.loadMany(ids);
    return found.map((f, i) => {
      if (f instanceof Error) throw f;
      return this.known(ctx, { prev: info.path, key: i, typename: undefined }, f);
    });
  }

  @FieldResolver(() => [Identifier], {
    description: 'Every identifier any source holds for the patient (MRNs, SSN, ...), without repeats. The SSN only for billing and admins.',
  })
  async identifiers(@Root() patient: PatientView, @Ctx() ctx: RequestContext): Promise<Identifier[]> {
    return (await patient.details).identifiers.filter((i) => mayReadIdentifier(ctx.principal, i.system));
  }

  @Query(() => PatientConnection, {
    description:
      'Patients whose records match: searched in the master patient index (every source record chartgraph has seen or synced), or in every source when the index knows none. Give at least a name or a birth date.',
  })
  async searchPatients(
    @Args(() => SearchPatientsArgs) args: SearchPatientsArgs,
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<ConnectionShape<PatientView>> {
    if (!args.name?.trim() && !args.birthDate) throw new BadUserInputError('give at least `name` or `birthDate`');
    const params: [string, string][] = [];
    if (args.name) params.push(['name', escapeSearchValue(args.name.trim())]);
    if (args.birthDate) params.push(['birthdate', args.birthDate]);
    if (args.gender) params.push(['gender', args.gender]);
    // The index answers when it knows matching records; the fan-out to every source runs
    // only when it knows none, and is how new patients enter the index (besides look-ups by
    // identifier and `chartgraph sync`).
    const resolved =
      (await ctx.patients.searchIndex({ name: args.name?.trim(), birthDate: args.birthDate, gender: args.gender })) ??
      (await ctx.patients.resolveHits(await searchSources(ctx, params, info)));
    for (const err of resolved.errors) ctx.partialErrors.add(err, pathOf(info.path));
    return paginate(
      resolved.value.map((p) => buildPatientView(p, ctx.services.sourceRef)),
      args,
    );
  }
}

async function searchSources(ctx: RequestContext, params: SearchParams, info: GraphQLResolveInfo) {
  const perSource = await Promise.all(
    [...ctx.services.clients.entries()].map(async ([sourceId, client]) => {
      try {
        const found = await client.search('Patient', params);
        return found.map((resource) => ({ sourceId, resource: resource as import('@medplum/fhirtypes').Patient }));
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        ctx.partialErrors.add(err, pathOf(info.path));
        return [];
      }
    }),
  );
  return perSource.flat();
}
