import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Info, Mutation, Query, Resolver, Root } from 'type-graphql';
import { recordAudit } from '../datasources/cache/audit-log.js';
import type { PossibleMatchRow } from '../datasources/cache/possible-matches.js';
import type { MergeRow } from '../datasources/cache/patient-index.js';
import type { Prisma } from '../datasources/cache/generated/client.js';
import { BadUserInputError, NotFoundError } from '../errors/errors.js';
import type { ConnectionShape } from '../schema/connection.types.js';
import {
  MatchReviewDecision,
  PatientMerge,
  PatientMergeConnection,
  PossibleMatch,
  PossibleMatchConnection,
  PossibleMatchStatus,
  SourceRecordInput,
} from '../schema/identity.types.js';
import { Patient } from '../schema/patient.type.js';
import type { RequestContext } from './context.js';
import { connectionFrom, PageArgs, pageWindow } from './pagination.js';
import { pathOf } from './partial-errors.js';
import { buildPatientView, type PatientView } from './patient-view.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@ArgsType()
class PossibleMatchesArgs extends PageArgs {
  @Field(() => PossibleMatchStatus, { nullable: true, defaultValue: PossibleMatchStatus.OPEN, description: 'Only matches in this state (default OPEN); null for all.' })
  status?: PossibleMatchStatus | null;
}

@ArgsType()
class PatientMergesArgs extends PageArgs {
  @Field(() => ID, { nullable: true, description: 'Only merges this unified patient took part in (as survivor or merged); all when null.' })
  patientId?: string | null;
}

/** A possible match as the resolvers hand it on. */
type PossibleMatchView = Omit<PossibleMatch, 'patient'>;

/**
 * Master patient index administration: possible matches to review, manual link and
 * unlink. Admin only (permissions/identity.ts); every change writes an audit event in the
 * same transaction as the change.
 */
@Resolver(() => PossibleMatch)
export class IdentityAdminResolver {
  @Query(() => PossibleMatchConnection, { description: 'Pairs the matcher kept for review instead of linking, oldest first. Admin only.' })
  async possibleMatches(@Args(() => PossibleMatchesArgs) args: PossibleMatchesArgs, @Ctx() ctx: RequestContext): Promise<ConnectionShape<PossibleMatchView>> {
    const { start, first } = pageWindow(args);
    const { rows, total } = await ctx.services.index.possibleMatches.list(args.status ?? null, start, first);
    return connectionFrom(
      rows.map((row) => toView(row, ctx)),
      start,
      total,
    );
  }

  @FieldResolver(() => Patient, { nullable: true, description: 'The patient the candidate may belong to (null when it has no records left).' })
  async patient(@Root() match: PossibleMatchView, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo): Promise<PatientView | null> {
    const found = await ctx.patients.byId.load(match.patientId);
    for (const err of found.errors) ctx.partialErrors.add(err, pathOf(info.path));
    return found.value ? buildPatientView(found.value, ctx.services.sourceRef) : null;
  }

  @Mutation(() => Patient, {
    nullable: true,
    description: 'Links source records into a patient by hand (method `manual`), moving them out of any other patient. Admin only; audited as `link`.',
  })
  async linkPatients(
    @Arg('patientId', () => ID, { description: 'Unified id of the patient that keeps the records.' }) patientId: string,
    @Arg('records', () => [SourceRecordInput], { description: 'Source records to link into it.' }) records: SourceRecordInput[],
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<PatientView | null> {
    if (!UUID.test(patientId)) throw new BadUserInputError('`patientId` is not a chartgraph patient id', { argument: 'patientId' });
    if (records.length === 0) throw new BadUserInputError('give at least one record', { argument: 'records' });
    if (!(await ctx.services.index.exists(patientId))) throw new NotFoundError('No patient with this id');
    await checkRecordsExist(ctx, records);
    await ctx.services.index.moveRecords(patientId, records, async (tx, previous) => {
      await closeMatchesFor(tx, patientId, records, ctx.principal.sub);
      await audit(ctx, tx, 'link', [patientId, ...previous], { records: records.map(plain) });
    });
    return this.reload(ctx, info, patientId);
  }

  @Mutation(() => Patient, {
    nullable: true,
    description:
      'Takes a source record out of its patient into a new patient of its own (method `manual`); the matcher will not link the two again. Returns the new patient. Admin only; audited as `unlink`.',
  })
  async unlinkSourceRecord(
    @Arg('sourceId', () => String, { description: 'Source id of the record.' }) sourceId: string,
    @Arg('sourcePatientId', () => String, { description: 'The patient’s resource id in that source.' }) sourcePatientId: string,
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<PatientView | null> {
    const record = { sourceId, sourcePatientId };
    const moved = await ctx.services.index.detachRecord(record, async (tx, { from, to }) => {
      // A rejected pair on file keeps the matcher from linking the record back automatically.
      await tx.possibleMatch.upsert({
        where: { unifiedId_candidateSourceId_candidateSourcePatientId: { unifiedId: from, candidateSourceId: sourceId, candidateSourcePatientId: sourcePatientId } },
        create: {
          id: crypto.randomUUID(),
          unifiedId: from,
          candidateSourceId: sourceId,
          candidateSourcePatientId: sourcePatientId,
          score: 0,
          evidence: { method: 'manual', held: null, fields: [] },
          status: 'rejected',
          reviewedAt: new Date(),
          reviewedBy: ctx.principal.sub,
        },
        update: { status: 'rejected', reviewedAt: new Date(), reviewedBy: ctx.principal.sub },
      });
      await audit(ctx, tx, 'unlink', [from, to], { records: [record] });
    });
    if (!moved) throw new NotFoundError('That source record is not linked to any patient');
    ctx.patients.byId.clear(moved.from);
    return this.reload(ctx, info, moved.to);
  }

  @Mutation(() => PossibleMatch, { description: 'Decides a possible match: LINK links the candidate into the patient (method `manual`), REJECT keeps them apart for good. Admin only; audited as `review-match`.' })
  async reviewPossibleMatch(
    @Arg('id', () => ID, { description: 'Possible match id.' }) id: string,
    @Arg('decision', () => MatchReviewDecision, { description: 'LINK or REJECT.' }) decision: MatchReviewDecision,
    @Ctx() ctx: RequestContext,
  ): Promise<PossibleMatchView> {
    const { index } = ctx.services;
    const match = UUID.test(id) ? await index.possibleMatches.get(id) : null;
    if (!match) throw new NotFoundError('No possible match with this id');
    if (match.status !== 'open') throw new BadUserInputError(`This possible match was already reviewed (${match.status})`, { argument: 'id' });
    const record = { sourceId: match.candidateSourceId, sourcePatientId: match.candidateSourcePatientId };
    const closeOrFail = async (tx: Prisma.TransactionClient, status: 'linked' | 'rejected') => {
      // Another admin may have decided between our read and this write: the compare-and-set
      // fails and the transaction rolls back.
      if (!(await index.possibleMatches.close(id, status, ctx.principal.sub, tx))) {
        throw new BadUserInputError('This possible match was already reviewed', { argument: 'id' });
      }
    };
    if (decision === MatchReviewDecision.LINK) {
      await index.moveRecords(match.unifiedId, [record], async (tx, previous) => {
        await closeOrFail(tx, 'linked');
        await audit(ctx, tx, 'review-match', [match.unifiedId, ...previous], { decision, possibleMatchId: id, records: [record] });
      });
      ctx.patients.byId.clear(match.unifiedId);
    } else {
      await index.prisma.$transaction(async (tx) => {
        await closeOrFail(tx, 'rejected');
        await audit(ctx, tx, 'review-match', [match.unifiedId], { decision, possibleMatchId: id, records: [record] });
      });
    }
    return toView((await index.possibleMatches.get(id))!, ctx);
  }

  @Query(() => PatientMergeConnection, { description: 'Merges of unified patients, newest first. Admin only.' })
  async patientMerges(@Args(() => PatientMergesArgs) args: PatientMergesArgs, @Ctx() ctx: RequestContext): Promise<ConnectionShape<PatientMerge>> {
    if (args.patientId && !UUID.test(args.patientId)) throw new BadUserInputError('`patientId` is not a chartgraph patient id', { argument: 'patientId' });
    const { start, first } = pageWindow(args);
    const { rows, total } = await ctx.services.index.merges(args.patientId ? [args.patientId] : null, start, first);
    return connectionFrom(
      rows.map((row) => toMergeView(row, ctx)),
      start,
      total,
    );
  }

  @Mutation(() => Patient, {
    nullable: true,
    description:
      'Merges two unified patients into one by hand: the older survives and holds every record, the other id resolves to it. Refused when both hold a record of the same source. Admin only; audited as `merge`; `undoPatientMerge` reverts it.',
  })
  async mergePatients(
    @Arg('patientId', () => ID, { description: 'One unified patient.' }) patientId: string,
    @Arg('otherPatientId', () => ID, { description: 'The other unified patient.' }) otherPatientId: string,
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<PatientView | null> {
    for (const [argument, id] of [['patientId', patientId], ['otherPatientId', otherPatientId]] as const) {
      if (!UUID.test(id)) throw new BadUserInputError(`\`${argument}\` is not a chartgraph patient id`, { argument });
      if (!(await ctx.services.index.exists(id))) throw new NotFoundError('No patient with this id');
    }
    if (patientId.toLowerCase() === otherPatientId.toLowerCase()) throw new BadUserInputError('`otherPatientId` is the same patient as `patientId`', { argument: 'otherPatientId' });
    const outcome = await ctx.services.index.mergePatients(patientId, otherPatientId, { method: 'manual', by: ctx.principal.sub }, (tx, merge) =>
      audit(ctx, tx, 'merge', [merge.survivorId, merge.mergedId], { mergeId: merge.id, method: 'manual' }),
    );
    if (!outcome.merged && outcome.reason === 'same-source') {
      throw new BadUserInputError('Both patients hold a record of the same source; unlink one first', { argument: 'otherPatientId' });
    }
    return this.reload(ctx, info, outcome.merged ? outcome.merge.survivorId : outcome.reason === 'same-patient' ? outcome.survivorId : patientId);
  }

  @Mutation(() => PatientMerge, {
    description:
      'Undoes a merge: the records it moved go back to the merged id, which stops resolving to the survivor; the matcher will not merge the two again. Admin only; audited as `unmerge`.',
  })
  async undoPatientMerge(@Arg('mergeId', () => ID, { description: 'Merge id (from `patientMerges`).' }) mergeId: string, @Ctx() ctx: RequestContext): Promise<PatientMerge> {
    const undone = await ctx.services.index.undoMerge(mergeId, ctx.principal.sub, (tx, merge) =>
      audit(ctx, tx, 'unmerge', [merge.survivorId, merge.mergedId], { mergeId: merge.id }),
    );
    if (!undone) throw new NotFoundError('No merge with this id that still holds');
    ctx.patients.byId.clearAll();
    ctx.patients.linksById.clearAll();
    return toMergeView(undone, ctx);
  }

  private async reload(ctx: RequestContext, info: GraphQLResolveInfo, id: string): Promise<PatientView | null> {
    ctx.patients.byId.clear(id);
    const found = await ctx.patients.byId.load(id);
    for (const err of found.errors) ctx.partialErrors.add(err, pathOf(info.path));
    return found.value ? buildPatientView(found.value, ctx.services.sourceRef) : null;
  }
}

function plain(r: SourceRecordInput) {
  return { sourceId: r.sourceId, sourcePatientId: r.sourcePatientId };
}

/** Every record must be a configured source's existing patient: a typo must not create a dangling link. */
async function checkRecordsExist(ctx: RequestContext, records: readonly SourceRecordInput[]): Promise<void> {
  for (const [i, r] of records.entries()) {
    if (!ctx.services.clients.has(r.sourceId)) throw new BadUserInputError(`records[${i}].sourceId is not a configured FHIR source`, { argument: 'records' });
    const found = await ctx.loaders.patientById(r.sourceId).load(r.sourcePatientId);
    if (!found) throw new BadUserInputError(`records[${i}] names no patient in that source`, { argument: 'records' });
  }
}

async function closeMatchesFor(tx: Prisma.TransactionClient, unifiedId: string, records: readonly SourceRecordInput[], by: string): Promise<void> {
  await tx.possibleMatch.updateMany({
    where: {
      unifiedId,
      status: 'open',
      OR: records.map((r) => ({ candidateSourceId: r.sourceId, candidateSourcePatientId: r.sourcePatientId })),
    },
    data: { status: 'linked', reviewedAt: new Date(), reviewedBy: by },
  });
}

async function audit(ctx: RequestContext, tx: Prisma.TransactionClient, action: string, patientIds: string[], detail: Prisma.InputJsonValue): Promise<void> {
  await recordAudit(tx, {
    requestId: ctx.requestId,
    subject: ctx.principal.sub,
    role: ctx.principal.role,
    action,
    patientIds,
    outcome: 'success',
    detail,
  });
}

function toMergeView(row: MergeRow, ctx: RequestContext): PatientMerge {
  return {
    id: row.id,
    survivorId: row.survivorId,
    mergedId: row.mergedId,
    records: row.records.map((r) => ({ source: ctx.services.sourceRef(r.sourceId), sourcePatientId: r.sourcePatientId })),
    method: row.method,
    score: row.score,
    mergedBy: row.mergedBy,
    at: row.at.toISOString(),
    undoneAt: row.undoneAt?.toISOString() ?? null,
    undoneBy: row.undoneBy,
  };
}

function toView(row: PossibleMatchRow, ctx: RequestContext): PossibleMatchView {
  const evidence = (row.evidence ?? {}) as { held?: string | null; fields?: { field: string; outcome: string; weight: number }[] };
  return {
    id: row.id,
    patientId: row.unifiedId,
    candidate: { source: ctx.services.sourceRef(row.candidateSourceId), sourcePatientId: row.candidateSourcePatientId },
    score: row.score,
    held: evidence.held ?? null,
    evidence: evidence.fields ?? [],
    status: row.status as PossibleMatchStatus,
    createdAt: row.createdAt.toISOString(),
    reviewedAt: row.reviewedAt?.toISOString() ?? null,
    reviewedBy: row.reviewedBy,
  };
}


