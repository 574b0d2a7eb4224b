import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Info, Query, Resolver, Root } from 'type-graphql';
import { escapeSearchValue } from '../datasources/fhir/search-params.js';
import type { SearchParams } from '../datasources/fhir/fhir-types.js';
import { BadUserInputError, ForbiddenError, UpstreamError } from '../errors/errors.js';
import { foldName } from '../identity/normalize.js';
import type { WithErrors } from '../identity/patient-directory.js';
import { Gender, Identifier } from '../schema/common.types.js';
import { mayLookUpByIdentifier, mayReadIdentifier } from '../permissions/patient.js';
import type { ConnectionShape } from '../schema/connection.types.js';
import { Patient, PatientConnection } from '../schema/patient.type.js';
import { DateScalar } from '../schema/scalars.js';
import type { RequestContext } from './context.js';
import { PageArgs, pageWindow, paginate } from './pagination.js';
import { pathOf } from './partial-errors.js';
import { buildPatientView, lazyPatientView, type PatientView } from './patient-view.js';
import type { UnifiedPatient } from '../identity/patient-directory.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkPatientId(id: string, argument: string): void {
  if (!UUID.test(id)) throw new BadUserInputError(`\`${argument}\` is not a chartgraph patient id`, { argument });
}

/** Letters the longest part of a folded search name must have: `%`, `.`, `-` or one letter would match nearly everyone. */
export const MIN_NAME_LETTERS = 2;

/** Largest page of a walk over every patient (`searchPatients` without criteria). */
export const MAX_WALK_PAGE = 100;

const WALK_CURSOR_PREFIX = 'cgw:';

function encodeWalkCursor(unifiedId: string): string {
  return Buffer.from(`${WALK_CURSOR_PREFIX}${unifiedId}`).toString('base64url');
}

function decodeWalkCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = text.startsWith(WALK_CURSOR_PREFIX) ? text.slice(WALK_CURSOR_PREFIX.length) : '';
  if (!UUID.test(id) || encodeWalkCursor(id) !== cursor) {
    throw new BadUserInputError('`after` is not a cursor of a walk over every patient', { argument: 'after' });
  }
  return id;
}

/**
 * The name as the index matches it (folded: case, accents, punctuation gone). The check
 * is on the folded form, since that is what matching uses: a raw `%` folds to nothing and
 * would match every patient.
 */
function foldedSearchName(name: string): string {
  const folded = foldName(name) ?? '';
  const longest = Math.max(0, ...folded.split(/[ -]/).map((part) => part.length));
  if (longest < MIN_NAME_LETTERS) {
    throw new BadUserInputError(`\`name\` must have a part of at least ${MIN_NAME_LETTERS} letters`, { argument: 'name' });
  }
  return folded;
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
    if (!mayLookUpByIdentifier(ctx.principal, system)) throw new ForbiddenError('This role may not look patients up by this identifier system');
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
    description: `Patients whose records match: searched in the master patient index (every source record chartgraph has seen or synced), or in every source when the index knows none. A name needs a part of at least ${MIN_NAME_LETTERS} letters. Without any criteria, pages through every patient of the index in a stable order (each exactly once; at most ${MAX_WALK_PAGE} per page).`,
  })
  async searchPatients(
    @Args(() => SearchPatientsArgs) args: SearchPatientsArgs,
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<ConnectionShape<PatientView>> {
    const hasName = args.name !== null && args.name !== undefined;
    if (!hasName && !args.birthDate && !args.gender) return this.walk(args, ctx, info);
    if (!hasName && !args.birthDate) throw new BadUserInputError('give `name` or `birthDate` with `gender`, or no criteria to page through every patient');
    // Every argument is checked before the index or a source is asked.
    pageWindow(args);
    const name = hasName ? foldedSearchName(args.name!) : undefined;
    const params: [string, string][] = [];
    if (name) params.push(['name', escapeSearchValue(args.name!.trim())]);
    if (args.birthDate) params.push(['birthdate', args.birthDate]);
    if (args.gender) params.push(['gender', args.gender]);
    // The index answers when it knows matching records; the fan-out to every source runs
    // only when it knows none, and is how new patients enter the index (besides look-ups by
    // identifier and `chartgraph sync`).
    const resolved =
      (await ctx.patients.searchIndex({ name, birthDate: args.birthDate, gender: args.gender })) ??
      (await ctx.patients.resolveHits(await searchSources(ctx, params, info)));
    for (const err of resolved.errors) ctx.partialErrors.add(err, pathOf(info.path));
    return paginate(
      resolved.value.map((p) => buildPatientView(p, ctx.services.sourceRef)),
      args,
    );
  }

  /** One keyset page of every unified patient (no criteria given). */
  private async walk(args: SearchPatientsArgs, ctx: RequestContext, info: GraphQLResolveInfo): Promise<ConnectionShape<PatientView>> {
    const { first } = pageWindow({ first: args.first }, MAX_WALK_PAGE);
    const after = args.after ? decodeWalkCursor(args.after) : null;
    const walk = ctx.services.patientWalk;
    if (!walk) throw new Error('searchPatients without criteria needs the patient index database');
    const sourceIds = [...ctx.services.clients.keys()];
    const [page, total] = await Promise.all([walk.page(sourceIds, after, first), walk.count(sourceIds)]);
    const found = await ctx.patients.linksById.loadMany(page.ids);
    const nodes: PatientView[] = [];
    const edges: { cursor: string; node: PatientView }[] = [];
    found.forEach((f, i) => {
      if (f instanceof Error) throw f;
      // Unlinked between the two queries: skipped, the cursor still moves past it.
      const view = this.known(ctx, { prev: info.path, key: i, typename: undefined }, f);
      if (!view) return;
      nodes.push(view);
      edges.push({ cursor: encodeWalkCursor(page.ids[i]!), node: view });
    });
    return {
      totalCount: total,
      nodes,
      edges,
      pageInfo: {
        hasNextPage: page.hasMore,
        hasPreviousPage: after !== null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: page.ids.length > 0 ? encodeWalkCursor(page.ids.at(-1)!) : (args.after ?? null),
      },
    };
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
