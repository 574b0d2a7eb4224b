/**
 * What the document limits cost, in one process, each beside a trivial query measured in
 * the same run:
 *   - parse and validation of a large allowed query (a 50-patient dashboard with every list,
 *     under every limit), with the same rules the gateway runs (graphql's, graphql-armor's,
 *     ours), plus the field-count pre-check it passes first;
 *   - the rejection of 1,100 copies of one field by that pre-check, before parsing;
 *   - for scale, what parse and validation of that same document would cost unguarded.
 *
 *   npm run build && node dist/bench/limits.js [--iterations 2000]
 *
 * No HTTP, no upstreams: Apollo keeps validated documents by hash, so an attacker varies the
 * text and pays parse and validation every time; this measures exactly that work.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { parse, specifiedRules, validate, type GraphQLSchema, type ValidationRule } from 'graphql';
import { LIMIT_DEFAULTS } from '../config/config.schema.js';
import { checkDocumentSize, measureDocument } from '../server/plugins/document-size.js';
import { armorProtection, noSubscriptionOverHttpRule } from '../server/plugins/limits.js';
import { buildGatewaySchema } from '../server/schema.js';

/** One measured operation: median and p95 per call, in microseconds. */
export interface LimitsMeasure {
  name: string;
  fields: number;
  medianUs: number;
  p95Us: number;
}

export interface LimitsBenchResult {
  trivial: LimitsMeasure;
  large: LimitsMeasure;
  rejected: LimitsMeasure;
  unguarded: LimitsMeasure;
  /** large / trivial, rejected / trivial, unguarded / trivial (medians). */
  ratios: { large: number; rejected: number; unguarded: number };
}

const LIMITS = { maxDepth: 12, maxAliases: 30, maxTokens: 10_000, ...LIMIT_DEFAULTS };

const TRIVIAL = '{ sources { id } }';

const LIST_FIELDS = 'totalCount nodes { id code { text coding { system code display } } provenance { source { id name } sourceResourceId fetchedAt stale } } pageInfo { hasNextPage endCursor }';
/** A dashboard as large as the limits allow in spirit: eight lists and demographics for 50 patients. */
export const LARGE_QUERY = `query Dashboard($ids: [ID!]!) {
  patients(ids: $ids) {
    id name { text family given prefix } birthDate gender birthYear ageGroup
    identifiers { system value type { text } } addresses { line city state postalCode } telecom { system value use }
    sourceRecords { source { id name } sourcePatientId matchMethod matchScore }
    conditions(first: 20) { ${LIST_FIELDS} }
    labs: observations(category: "laboratory", first: 20) { totalCount nodes { id code { coding { system code } } valueQuantity { value unit } effective provenance { source { id } stale } } }
    vitals: observations(category: "vital-signs", first: 20) { totalCount nodes { id code { coding { system code } } valueQuantity { value unit } effective provenance { source { id } stale } } }
    medicationRequests(first: 20) { totalCount nodes { id medication { text coding { system code } } status authoredOn provenance { source { id } } } }
    allergies(first: 20) { totalCount nodes { id code { text } criticality provenance { source { id } } } }
    immunizations(first: 20) { totalCount nodes { id vaccineCode { text } occurrence provenance { source { id } } } }
    procedures(first: 20) { totalCount nodes { id code { text } performed { start end } provenance { source { id } } } }
    encounters(first: 20) { totalCount nodes { id class type { text } period { start end } provenance { source { id } } } }
    diagnosticReports(first: 20) { totalCount nodes { id code { text } effective resultCount provenance { source { id } } } }
    coverage { memberId payors { display } period { start end } provenance { source { id } } }
  }
}`;

/** The review's attack: 1,100 copies of one field (about 28 KB once padded with a selection). */
export const FIELD_FLOOD = `{ sources { ${'status '.repeat(1100)} } }`;

function time(iterations: number, fn: () => void): { medianUs: number; p95Us: number } {
  for (let i = 0; i < Math.min(50, iterations); i++) fn(); // warm the JIT
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    fn();
    samples.push((performance.now() - t0) * 1000);
  }
  samples.sort((a, b) => a - b);
  return { medianUs: samples[Math.floor(samples.length / 2)]!, p95Us: samples[Math.floor(samples.length * 0.95)]! };
}

/** Runs the measures; `iterations` per query (the unguarded flood runs a tenth as often: it is slow). */
export async function runLimitsBench(opts: { iterations?: number; schema?: GraphQLSchema } = {}): Promise<LimitsBenchResult> {
  const iterations = opts.iterations ?? 2000;
  const schema = opts.schema ?? (await buildGatewaySchema({ security: true }));
  const armor = armorProtection(LIMITS, { hideSuggestions: false });
  const rules: ValidationRule[] = [...specifiedRules, ...armor.validationRules, noSubscriptionOverHttpRule];
  const accept = (query: string) => () => {
    checkDocumentSize(query, LIMITS);
    const errors = validate(schema, parse(query, { maxTokens: LIMITS.maxTokens }), rules);
    if (errors.length > 0) throw new Error(`bench query is invalid: ${errors[0]!.message}`);
  };
  const reject = () => {
    try {
      checkDocumentSize(FIELD_FLOOD, LIMITS);
    } catch {
      return;
    }
    throw new Error('the field flood was not refused');
  };
  const unguarded = () => void validate(schema, parse(FIELD_FLOOD, { maxTokens: LIMITS.maxTokens }), rules);
  const measure = (name: string, query: string, fn: () => void, n = iterations): LimitsMeasure => ({
    name,
    fields: measureDocument(query, LIMITS.maxTokens).fields,
    ...time(n, fn),
  });
  const trivial = measure('trivial query: parse + validation', TRIVIAL, accept(TRIVIAL));
  const large = measure('large allowed query: field check + parse + validation', LARGE_QUERY, accept(LARGE_QUERY));
  const rejected = measure('1,100 copies of one field: refused by the field check', FIELD_FLOOD, reject);
  const flood = measure('the same 1,100 fields parsed and validated, unguarded', FIELD_FLOOD, unguarded, Math.max(5, Math.round(iterations / 100)));
  return {
    trivial,
    large,
    rejected,
    unguarded: flood,
    ratios: { large: large.medianUs / trivial.medianUs, rejected: rejected.medianUs / trivial.medianUs, unguarded: flood.medianUs / trivial.medianUs },
  };
}

/** The result as lines for a terminal. */
export function formatLimitsBench(r: LimitsBenchResult): string {
  const line = (m: LimitsMeasure, ratio?: number) =>
    `  ${m.name.padEnd(58)} ${String(m.fields).padStart(5)} fields  median ${m.medianUs.toFixed(1).padStart(9)} µs  p95 ${m.p95Us.toFixed(1).padStart(9)} µs${ratio === undefined ? '' : `  ${ratio.toFixed(1)}x trivial`}`;
  return ['document limits (in-process, same run):', line(r.trivial), line(r.large, r.ratios.large), line(r.rejected, r.ratios.rejected), line(r.unguarded, r.ratios.unguarded)].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { iterations: { type: 'string', default: '2000' } } });
  console.log(formatLimitsBench(await runLimitsBench({ iterations: Number(values.iterations) })));
}
