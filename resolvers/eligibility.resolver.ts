import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, Info, Query, Resolver, Root } from 'type-graphql';
import { eligibilitySources, type EligibilitySourceConfig } from '../config/config.schema.js';
import { dayIn } from '../datasources/payer/eligibility-cache.js';
import type { EligibilityCheck } from '../datasources/payer/eligibility-service.js';
import type { EligibilityInquiry } from '../datasources/payer/eligibility-types.js';
import { coverageInForce, inquiryFromCoverage, normaliseServiceTypes, x12Gender } from '../datasources/payer/payer-match.js';
import { BadUserInputError, UpstreamError } from '../errors/errors.js';
import { EligibilityInput, EligibilityResult, EligibilityStatus } from '../schema/eligibility.types.js';
import { Patient } from '../schema/patient.type.js';
import { DateScalar } from '../schema/scalars.js';
import type { RequestContext } from './context.js';
import { loadPatientCoverages, type LoadedCoverage } from './coverage-load.js';
import { pathOf } from './partial-errors.js';
import type { PatientView } from './patient-view.js';

const STC = /^[A-Z0-9]{1,3}$/;
const MAX_SERVICE_TYPES = 20;
const FULL_DATE = /^\d{4}-\d{2}-\d{2}$/;

function checkServiceTypes(codes: readonly string[] | null | undefined): string[] {
  const list = normaliseServiceTypes(codes);
  if (list.length > MAX_SERVICE_TYPES) throw new BadUserInputError(`At most ${MAX_SERVICE_TYPES} service type codes per check`);
  const bad = list.find((c) => !STC.test(c));
  if (bad !== undefined) throw new BadUserInputError('Service type codes are X12 codes of 1 to 3 letters or digits (30, 98, UC, ...)');
  return list;
}

function checkDate(date: string | null | undefined, what: string): string | undefined {
  if (date == null) return undefined;
  if (!FULL_DATE.test(date)) throw new BadUserInputError(`${what} must be a full date (YYYY-MM-DD)`);
  return date;
}

function payerById(ctx: RequestContext, payerId: string): EligibilitySourceConfig {
  const payer = eligibilitySources(ctx.services.config).find((s) => s.id === payerId);
  if (!payer || !ctx.eligibility.forPayer(payerId)) throw new BadUserInputError('`payerId` names no configured payer eligibility source', { argument: 'payerId' });
  return payer;
}

/** The schema form of an eligibility answer. */
export function toEligibilityResult(ctx: RequestContext, check: EligibilityCheck, coverageId: string | null): EligibilityResult {
  const a = check.answer;
  const status =
    a.rejections.length > 0
      ? EligibilityStatus.REJECTED
      : a.active === true
        ? EligibilityStatus.ACTIVE
        : a.active === false
          ? EligibilityStatus.INACTIVE
          : EligibilityStatus.UNKNOWN;
  return {
    payer: ctx.services.sourceRef(check.payerId),
    status,
    active: a.active,
    rejection: a.rejections[0] ?? null,
    rejections: a.rejections,
    payerName: a.payerName,
    memberId: a.memberId,
    planName: a.planName,
    planNumber: a.planNumber,
    groupNumber: a.groupNumber,
    groupName: a.groupName,
    insuranceTypeCode: a.insuranceTypeCode,
    coverageLevelCode: a.coverageLevelCode,
    coverageStart: a.coverageStart,
    coverageEnd: a.coverageEnd,
    dateOfService: check.inquiry.dateOfService,
    serviceTypes: a.serviceTypes,
    planStatus: a.planStatus,
    benefits: a.benefits,
    warnings: a.warnings,
    fetchedAt: check.fetchedAt.toISOString(),
    stale: check.stale,
    coverageId,
  };
}

/**
 * The coverage to check: one with a configured payer (the asked-for one, if any), in force on
 * the day, primary first. Coverages come sorted by `loadPatientCoverages`.
 */
function chooseCoverage(coverages: LoadedCoverage[], payerId: string | undefined, day: string): LoadedCoverage | undefined {
  const candidates = coverages.filter((c) => c.payer && (!payerId || c.payer.id === payerId) && c.view.memberId);
  return candidates.find((c) => coverageInForce(c.resource, day)) ?? candidates[0];
}

@Resolver(() => Patient)
export class EligibilityResolver {
  @FieldResolver(() => EligibilityResult, {
    nullable: true,
    description:
      'Real-time eligibility with the payer of the patient’s coverage (member id and payer from the EHR Coverage, names and birth date from the demographics). Null when no coverage on file names a configured payer, or when the payer could not answer in time and nothing is cached (partial error). Payer rejections are results with `status: REJECTED`, not errors. Cached until the end of the day; served stale when the payer fails.',
  })
  async eligibility(
    @Root() patient: PatientView,
    @Arg('serviceTypeCodes', () => [String], { nullable: true, description: 'X12 service type codes to ask about; default ["30"] (health benefit plan coverage).' })
    serviceTypeCodes: string[] | null | undefined,
    @Arg('payerId', () => String, { nullable: true, description: 'Check only coverage with this payer eligibility source (a source id).' })
    payerId: string | null | undefined,
    @Arg('dateOfService', () => DateScalar, { nullable: true, description: 'Date of service (YYYY-MM-DD); default today in the payer’s time zone.' })
    dateOfService: string | null | undefined,
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<EligibilityResult | null> {
    const stcs = checkServiceTypes(serviceTypeCodes);
    const dos = checkDate(dateOfService, 'dateOfService');
    if (payerId != null) payerById(ctx, payerId);
    const coverages = await loadPatientCoverages(ctx, patient, info);
    const chosen = chooseCoverage(coverages, payerId ?? undefined, dos ?? dayIn(new Date(), 'UTC'));
    if (!chosen?.payer) return null;
    const payer = chosen.payer;
    const { name, birthDate, gender } = await patient.details;
    const inquiry = inquiryFromCoverage(
      chosen.resource,
      { given: name?.given[0], family: name?.family, birthDate, gender },
      stcs,
      dos ?? dayIn(new Date(), payer.cache.timeZone),
    );
    const loader = ctx.eligibility.forPayer(payer.id);
    if (!inquiry || !loader) return null;
    try {
      return toEligibilityResult(ctx, await loader.load(inquiry), chosen.view.id);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      ctx.partialErrors.add(err, pathOf(info.path));
      return null;
    }
  }

  @Query(() => EligibilityResult, {
    name: 'eligibility',
    nullable: true,
    description:
      'An ad-hoc real-time eligibility check by member details, for a member not (yet) in any EHR. Payer rejections are results with `status: REJECTED`; a payer that cannot be reached is an UPSTREAM_* error.',
  })
  async adHocEligibility(
    @Arg('input', () => EligibilityInput, { description: 'The payer, the member and what to ask.' }) input: EligibilityInput,
    @Ctx() ctx: RequestContext,
  ): Promise<EligibilityResult | null> {
    const payer = payerById(ctx, input.payerId);
    const memberId = input.memberId.trim();
    if (!/^[A-Za-z0-9-]{1,80}$/.test(memberId)) throw new BadUserInputError('memberId must be 1 to 80 letters, digits or dashes');
    const birthDate = checkDate(input.birthDate, 'birthDate');
    const gender = x12Gender(input.gender);
    const inquiry: EligibilityInquiry = {
      memberId,
      ...(input.firstName?.trim() && { firstName: input.firstName.trim() }),
      ...(input.lastName?.trim() && { lastName: input.lastName.trim() }),
      ...(birthDate && { dateOfBirth: birthDate }),
      ...(gender && { gender }),
      ...(input.dependent && { dependent: true }),
      serviceTypeCodes: checkServiceTypes(input.serviceTypeCodes),
      dateOfService: checkDate(input.dateOfService, 'dateOfService') ?? dayIn(new Date(), payer.cache.timeZone),
    };
    ctx.audit?.lookedUp('eligibility');
    const check = await ctx.eligibility.forPayer(payer.id)!.load(inquiry);
    return toEligibilityResult(ctx, check, null);
  }
}
