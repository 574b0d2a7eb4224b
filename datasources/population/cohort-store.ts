import { RequestDeadlineError } from '../../errors/errors.js';
import type { DatabaseKind } from '../cache/database.js';
import { Prisma, type PrismaClient } from '../cache/generated/client.js';
import { PAYER_LABEL_SYSTEM } from './fact-extraction.js';

/** A FHIR token: `system|code`, `|code` (no system) or `code` (any system). */
export interface CodeToken {
  /** Undefined: any system; '' : codings without a system. */
  system?: string;
  code: string;
}

/** One observation criterion, with its bounds already in the stored (normalised) unit. */
export interface ObservationFilter {
  code: CodeToken;
  min?: number;
  max?: number;
  /** Compare only values in this unit (the normalised unit of the criterion). */
  unit?: string;
  since?: Date;
  /** LATEST: the patient's most recent value of the code (since `since`) must qualify; ANY: one value must. */
  match: 'LATEST' | 'ANY';
}

/** A cohort in the store's terms: every field optional, AND between fields, OR within a list. */
export interface CohortFilter {
  conditions?: CodeToken[];
  observations?: ObservationFilter[];
  medications?: CodeToken[];
  encounterSince?: Date;
  gender?: string;
  /** Born on or before this date (`YYYY-MM-DD`): at least ageMin years old. */
  bornOnOrBefore?: string;
  /** Born after this date: at most ageMax years old. */
  bornAfter?: string;
  payers?: string[];
  sources?: string[];
}

/** Breakdown dimensions the store can group by. */
export type CohortDimensionKey = 'GENDER' | 'AGE_GROUP' | 'SOURCE' | 'PAYER' | 'YEAR_OF_LAST_ENCOUNTER';

/** One group of a breakdown: its keys in dimension order and how many distinct patients it holds. */
export interface CohortGroup {
  keys: string[];
  count: number;
}

/**
 * The patient's single value of gender or birth date: the most recently updated source
 * record that has one wins. `within` restricts it to some unified ids (a breakdown reads
 * only its cohort's).
 */
const demographic = (column: 'gender' | 'birth_date', within?: Prisma.Sql) => Prisma.sql`
  SELECT DISTINCT ON (l.unified_id) l.unified_id, sp.${Prisma.raw(column)} AS v
  FROM patient_link l JOIN source_patient sp ON sp.source_id = l.source_id AND sp.source_patient_id = l.source_patient_id
  WHERE sp.${Prisma.raw(column)} IS NOT NULL ${within ? Prisma.sql`AND l.unified_id IN (${within})` : Prisma.empty}
  ORDER BY l.unified_id, sp.last_updated DESC NULLS LAST, l.source_id, l.source_patient_id`;

function tokenMatch(tokens: readonly CodeToken[]): Prisma.Sql {
  return Prisma.join(
    tokens.map((t) => (t.system === undefined ? Prisma.sql`f.code = ${t.code}` : Prisma.sql`(f.code = ${t.code} AND f.system = ${t.system})`)),
    ' OR ',
  );
}

/** Unified ids that have a fact of this type matching `where` (over `f`, the fact, and `l`, its link). */
function withFact(resourceType: string, where: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`SELECT l.unified_id FROM clinical_fact f
    JOIN patient_link l ON l.source_id = f.source_id AND l.source_patient_id = f.source_patient_id
    WHERE f.resource_type = ${resourceType} AND (${where})`;
}

function observationMatch(o: ObservationFilter): Prisma.Sql {
  const scope = [Prisma.sql`f.resource_type = 'Observation'`, Prisma.sql`(${tokenMatch([o.code])})`];
  if (o.since) scope.push(Prisma.sql`f.date >= ${o.since}::timestamptz`);
  if (o.unit !== undefined) scope.push(Prisma.sql`f.unit = ${o.unit}`);
  const bounds: Prisma.Sql[] = [];
  if (o.min !== undefined) bounds.push(Prisma.sql`x.value >= ${o.min}::float8`);
  if (o.max !== undefined) bounds.push(Prisma.sql`x.value <= ${o.max}::float8`);
  const scoped = Prisma.join(scope, ' AND ');
  if (o.match === 'ANY') {
    return Prisma.sql`SELECT x.unified_id FROM (SELECT l.unified_id, f.value FROM clinical_fact f
        JOIN patient_link l ON l.source_id = f.source_id AND l.source_patient_id = f.source_patient_id
        WHERE ${scoped}) x
      WHERE ${bounds.length > 0 ? Prisma.join(bounds, ' AND ') : Prisma.sql`TRUE`}`;
  }
  // Latest across every linked source: two hospitals' values compete by date.
  return Prisma.sql`SELECT x.unified_id FROM (SELECT DISTINCT ON (l.unified_id) l.unified_id, f.value FROM clinical_fact f
      JOIN patient_link l ON l.source_id = f.source_id AND l.source_patient_id = f.source_patient_id
      WHERE ${scoped}
      ORDER BY l.unified_id, f.date DESC NULLS LAST, f.source_id, f.resource_id) x
    WHERE ${bounds.length > 0 ? Prisma.join(bounds, ' AND ') : Prisma.sql`TRUE`}`;
}

/**
 * The SELECT of the cohort's unified ids (column `unified_id`, alias `p`): each criterion is
 * one set of unified ids, computed once and intersected (hashed by the planner), so no
 * criterion is re-run per patient. Only patients with at least one link count.
 */
export function cohortSql(filter: CohortFilter): Prisma.Sql {
  const sets: Prisma.Sql[] = [];
  if (filter.conditions?.length) sets.push(withFact('Condition', tokenMatch(filter.conditions)));
  if (filter.medications?.length) sets.push(withFact('MedicationRequest', tokenMatch(filter.medications)));
  if (filter.observations?.length) sets.push(Prisma.join(filter.observations.map((o) => Prisma.sql`(${observationMatch(o)})`), ' UNION '));
  if (filter.encounterSince) sets.push(withFact('Encounter', Prisma.sql`f.date >= ${filter.encounterSince}::timestamptz`));
  if (filter.payers?.length) {
    sets.push(withFact('Coverage', Prisma.sql`f.code IN (${Prisma.join(filter.payers)}) AND (f.status IS NULL OR f.status = 'active')`));
  }
  if (filter.sources?.length) sets.push(Prisma.sql`SELECT unified_id FROM patient_link WHERE source_id IN (${Prisma.join(filter.sources)})`);
  if (filter.gender) sets.push(Prisma.sql`SELECT unified_id FROM (${demographic('gender')}) g WHERE g.v = ${filter.gender}`);
  if (filter.bornOnOrBefore || filter.bornAfter) {
    const born: Prisma.Sql[] = [];
    if (filter.bornOnOrBefore) born.push(Prisma.sql`b.v <= ${filter.bornOnOrBefore}`);
    if (filter.bornAfter) born.push(Prisma.sql`b.v > ${filter.bornAfter}`);
    sets.push(Prisma.sql`SELECT unified_id FROM (${demographic('birth_date')}) b WHERE ${Prisma.join(born, ' AND ')}`);
  }
  if (sets.length === 0) return Prisma.sql`SELECT DISTINCT unified_id FROM patient_link p`;
  if (sets.length === 1) return Prisma.sql`SELECT DISTINCT unified_id FROM (${sets[0]!}) p`;
  return Prisma.sql`SELECT unified_id FROM (${Prisma.join(sets.map((q) => Prisma.sql`(${q})`), ' INTERSECT ')}) p`;
}

/** Age in whole years from a `YYYY[-MM[-DD]]` text on `today` (partial dates from their first day), in SQL. */
function ageGroupSql(column: Prisma.Sql, today: Date): Prisma.Sql {
  const year = today.getUTCFullYear();
  const monthDay = today.toISOString().slice(5, 10);
  const age = Prisma.sql`GREATEST(0, ${year}::int - substr(${column}, 1, 4)::int - CASE WHEN substr(${column}, 6) > ${monthDay}::text THEN 1 ELSE 0 END)`;
  return Prisma.sql`CASE WHEN ${column} IS NULL OR ${column} !~ '^[0-9]{4}' THEN 'unknown'
    WHEN ${age} >= 90 THEN '90+'
    ELSE ((${age}) / 10 * 10)::text || '-' || ((${age}) / 10 * 10 + 9)::text END`;
}

/** The breakdown query: one row per combination of dimension values (`k0`, `k1`, ...) with its distinct patients (`n`). */
export function breakdownSql(filter: CohortFilter, by: readonly CohortDimensionKey[], today: Date): Prisma.Sql {
  const joins: Prisma.Sql[] = [];
  const keys: Prisma.Sql[] = [];
  by.forEach((dim, i) => {
    const alias = Prisma.raw(`d${i}`);
    switch (dim) {
      case 'GENDER':
        joins.push(Prisma.sql`LEFT JOIN (${demographic('gender', Prisma.sql`SELECT unified_id FROM m`)}) ${alias} ON ${alias}.unified_id = m.unified_id`);
        keys.push(Prisma.sql`COALESCE(${alias}.v, 'unknown')`);
        break;
      case 'AGE_GROUP':
        joins.push(Prisma.sql`LEFT JOIN (${demographic('birth_date', Prisma.sql`SELECT unified_id FROM m`)}) ${alias} ON ${alias}.unified_id = m.unified_id`);
        keys.push(ageGroupSql(Prisma.sql`${alias}.v`, today));
        break;
      case 'SOURCE':
        joins.push(Prisma.sql`JOIN (SELECT DISTINCT unified_id, source_id AS v FROM patient_link) ${alias} ON ${alias}.unified_id = m.unified_id`);
        keys.push(Prisma.sql`${alias}.v`);
        break;
      case 'PAYER':
        joins.push(Prisma.sql`LEFT JOIN (SELECT DISTINCT l.unified_id, f.code AS v FROM clinical_fact f
          JOIN patient_link l ON l.source_id = f.source_id AND l.source_patient_id = f.source_patient_id
          WHERE f.resource_type = 'Coverage' AND f.system = ${PAYER_LABEL_SYSTEM} AND (f.status IS NULL OR f.status = 'active')
            AND l.unified_id IN (SELECT unified_id FROM m)) ${alias}
          ON ${alias}.unified_id = m.unified_id`);
        keys.push(Prisma.sql`COALESCE(${alias}.v, 'none')`);
        break;
      case 'YEAR_OF_LAST_ENCOUNTER':
        joins.push(Prisma.sql`LEFT JOIN (SELECT l.unified_id, max(f.date) AS v FROM clinical_fact f
          JOIN patient_link l ON l.source_id = f.source_id AND l.source_patient_id = f.source_patient_id
          WHERE f.resource_type = 'Encounter' AND l.unified_id IN (SELECT unified_id FROM m) GROUP BY l.unified_id) ${alias} ON ${alias}.unified_id = m.unified_id`);
        keys.push(Prisma.sql`COALESCE(extract(year FROM ${alias}.v AT TIME ZONE 'UTC')::int::text, 'none')`);
        break;
    }
  });
  const columns = Prisma.join(keys.map((k, i) => Prisma.sql`${k} AS ${Prisma.raw(`k${i}`)}`));
  const groupBy = Prisma.raw(by.map((_, i) => `k${i}`).join(', '));
  return Prisma.sql`
    WITH m AS (${cohortSql(filter)})
    SELECT ${columns}, count(DISTINCT m.unified_id)::int AS n FROM m ${Prisma.join(joins, ' ')}
    GROUP BY ${groupBy} ORDER BY ${groupBy}`;
}

/** The members query: the cohort's unified ids in id order. */
export function membersSql(filter: CohortFilter): Prisma.Sql {
  return Prisma.sql`SELECT unified_id FROM (${cohortSql(filter)}) p ORDER BY unified_id`;
}

/** The request's deadline, as a cohort's SQL sees it. */
export interface CohortDeadline {
  /** Aborts when the request's deadline passes or its client goes away. */
  signal: AbortSignal;
  /** When the deadline passes (epoch ms). */
  deadlineAt: number;
}

/** PostgreSQL's SQLSTATE for a statement cancelled by `statement_timeout` (or a cancel request). */
const QUERY_CANCELED = '57014';

function isStatementTimeout(err: unknown): boolean {
  // Prisma's pg driver adapter reports the database's SQLSTATE here (a P2010 raw query error).
  const cause = (err as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } } | null)?.meta?.driverAdapterError?.cause;
  return cause?.originalCode === QUERY_CANCELED;
}

/**
 * The cohort store: cohorts over `clinical_fact` and the patient index, in SQL through
 * Prisma (every value a bound parameter), answered with the indexes on facts and links.
 *
 * Every statement runs under the request's deadline: none starts after it, and on
 * PostgreSQL each runs with `statement_timeout` set to what is left, so a heavy cohort
 * ends with the deadline instead of holding a connection. PGlite (one connection, run in
 * process) cannot cut a statement short: there the check between statements is the bound.
 */
export class CohortStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly kind: DatabaseKind = 'pglite',
  ) {}

  /** Every unified id of the cohort, in id order (the order of its pages). */
  async members(filter: CohortFilter, deadline?: CohortDeadline): Promise<string[]> {
    const rows = await this.query<{ unified_id: string }>(membersSql(filter), deadline);
    return rows.map((r) => r.unified_id);
  }

  /**
   * Distinct patients per combination of dimension values. A patient with records in two
   * sources (or two payers) counts in each of their cells; a missing value is `unknown`
   * (gender, age group) or `none` (payer, encounter year).
   */
  async breakdown(filter: CohortFilter, by: readonly CohortDimensionKey[], today: Date, deadline?: CohortDeadline): Promise<CohortGroup[]> {
    if (by.length === 0) return [];
    const rows = await this.query<Record<string, unknown>>(breakdownSql(filter, by, today), deadline);
    return rows.map((r) => ({ keys: by.map((_, i) => String(r[`k${i}`])), count: Number(r.n) }));
  }

  private async query<T>(sql: Prisma.Sql, deadline: CohortDeadline | undefined): Promise<T[]> {
    if (!deadline) return this.prisma.$queryRaw<T[]>(sql);
    const left = Math.floor(deadline.deadlineAt - Date.now());
    if (deadline.signal.aborted || left <= 0) throw new RequestDeadlineError('the cohort');
    if (this.kind !== 'postgresql') return this.prisma.$queryRaw<T[]>(sql);
    try {
      // SET LOCAL holds for this transaction only: the pooled connection goes back without it.
      return await this.prisma.$transaction(
        async (tx) => {
          await tx.$executeRawUnsafe(`SET LOCAL statement_timeout = ${left}`);
          return tx.$queryRaw<T[]>(sql);
        },
        // Prisma's own transaction deadline is a backstop behind the statement's.
        { maxWait: left, timeout: left + 1_000 },
      );
    } catch (err) {
      // P2028: no pooled connection came within `maxWait`, the time left: the deadline too.
      if (isStatementTimeout(err) || deadline.signal.aborted || Date.now() >= deadline.deadlineAt || (err as { code?: unknown })?.code === 'P2028') {
        throw new RequestDeadlineError('the cohort');
      }
      throw err;
    }
  }
}
