import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, Info, Query, Resolver, Root } from 'type-graphql';
import type { Cohort } from '../analytics/cohort-service.js';
import { toCohortFilter, type CohortCriteriaInput } from '../analytics/cohort-criteria.js';
import { ForbiddenError, BadUserInputError } from '../errors/errors.js';
import { refusedCohortPart } from '../permissions/cohort.js';
import { isDeidentifiedRole } from '../permissions/deid-middleware.js';
import { CohortCell, CohortConnection, CohortCriteria, CohortDimension, CohortFreshness } from '../schema/cohort.types.js';
import type { PageInfo } from '../schema/connection.types.js';
import type { RequestContext } from './context.js';
import { connectionFrom, PageArgs, pageWindow } from './pagination.js';
import { pathOf } from './partial-errors.js';
import { lazyPatientView, type PatientView } from './patient-view.js';

@ArgsType()
class CohortArgs extends PageArgs {
  @Field(() => CohortCriteria, { description: 'Who is in the cohort.' })
  criteria!: CohortCriteria;
}

/** What `cohort` hands its fields: the request's cohort and its page. */
interface CohortResult {
  cohort: Cohort;
  audit: { breakdowns: string[][] };
  totalCount: number | null;
  nodes: PatientView[];
  edges: { cursor: string; node: PatientView }[];
  pageInfo: PageInfo;
}

// Analysts may not pick out ages Safe Harbor groups (over 89).
const ANALYST_MAX_AGE = 89;

function criteriaParts(c: CohortCriteriaInput): string[] {
  return Object.entries(c)
    .filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0))
    .map(([k]) => k);
}

@Resolver(() => CohortConnection)
export class CohortResolver {
  @Query(() => CohortConnection, {
    description:
      'Patients across every source whose records meet the criteria, answered from the local population store (`chartgraph sync --resources`), in a stable order. Analysts get pseudonymous ids, Safe Harbor fields and suppressed small counts.',
  })
  async cohort(@Args(() => CohortArgs) args: CohortArgs, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo): Promise<CohortResult> {
    const service = ctx.services.cohorts;
    if (!service) throw new ForbiddenError('Cohorts are not available on this gateway');
    const deidentified = isDeidentifiedRole(ctx.principal);
    const criteria = args.criteria as CohortCriteriaInput;
    const refused = refusedCohortPart(ctx.principal, criteriaParts(criteria));
    if (refused) throw new ForbiddenError(`Not authorised to select cohorts by \`${refused}\``);
    if (deidentified && ((criteria.ageMin ?? 0) > ANALYST_MAX_AGE + 1 || (criteria.ageMax ?? 0) > ANALYST_MAX_AGE)) {
      throw new BadUserInputError('ages over 89 are one group for analysts: use `ageMin: 90` without `ageMax`', { argument: 'criteria.ageMax' });
    }
    const filter = toCohortFilter(criteria, { today: service.now(), sourceIds: service.sourceIds, yearOnly: deidentified });
    const { start, first } = pageWindow(args);
    const max = ctx.services.config.limits.maxPatientsPerRequest;
    if (first > max) throw new BadUserInputError(`at most ${max} patients per request`, { argument: 'first' });
    const cohort = service.cohort(filter, { suppress: deidentified, deadline: ctx.budget });
    const audit = { breakdowns: [] as string[][] };
    ctx.audit.cohortQueried({ criteria: criteria as Record<string, unknown>, breakdowns: audit.breakdowns });

    const members = await cohort.members();
    const total = await cohort.totalCount();
    // An analyst's cohort under the threshold lists nobody: the page would give the count away.
    const visible = total === null ? [] : members;
    const pageIds = visible.slice(start, start + first);
    const found = await ctx.patients.linksById.loadMany(pageIds);
    const views = found.flatMap((r, i) => {
      if (r instanceof Error) throw r;
      const path = { prev: info.path, key: i, typename: undefined };
      for (const err of r.errors) ctx.partialErrors.add(err, pathOf(path));
      const f = r.value;
      if (!f) return [];
      return [
        lazyPatientView(
          f,
          async () => {
            const full = await ctx.patients.byId.load(f.id);
            for (const err of full.errors) ctx.partialErrors.add(err, pathOf(path));
            return full.value ?? f;
          },
          ctx.services.sourceRef,
        ),
      ];
    });
    const conn = connectionFrom(views, start, visible.length);
    // Getters: the connection builds edges and cursors only when the query reads them.
    return {
      cohort,
      audit,
      totalCount: total,
      nodes: conn.nodes,
      get edges() {
        return conn.edges;
      },
      get pageInfo() {
        return conn.pageInfo;
      },
    };
  }

  @FieldResolver(() => [CohortCell], {
    description:
      'Distinct patients per combination of the dimensions (cells without patients are left out). For analysts, cells under `analytics.suppressionThreshold` come back `count: null, suppressed: true`, with complementary cells suppressed so no hidden count follows from the totals.',
  })
  async breakdown(
    @Root() result: CohortResult,
    @Arg('by', () => [CohortDimension], { description: 'Dimensions to group by, in key order (one to three, each once).' }) by: CohortDimension[],
    @Ctx() ctx: RequestContext,
  ): Promise<CohortCell[]> {
    if (by.length === 0 || by.length > 3 || new Set(by).size !== by.length) {
      throw new BadUserInputError('`by` takes one to three different dimensions', { argument: 'by' });
    }
    const refused = refusedCohortPart(ctx.principal, by);
    if (refused) throw new ForbiddenError(`Not authorised to break cohorts down by ${refused}`);
    result.audit.breakdowns.push([...by]);
    return result.cohort.breakdown(by);
  }

  @FieldResolver(() => CohortFreshness, { description: 'How current the population store behind this answer is.' })
  async freshness(@Ctx() ctx: RequestContext): Promise<CohortFreshness> {
    const f = await ctx.services.cohorts!.freshness();
    return {
      asOf: f.asOf.toISOString(),
      oldestFetchedAt: f.oldestFetchedAt?.toISOString() ?? null,
      sourcesNotSynced: f.sourcesNotSynced,
      sourcesSyncing: f.sourcesSyncing,
      typesNotCurrent: f.typesNotCurrent.map((t) => ({ source: t.sourceId, resourceType: t.resourceType })),
    };
  }
}

