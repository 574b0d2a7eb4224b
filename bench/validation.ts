/**
 * What validating upstream answers costs (attribution, asked type, structure of the mapped
 * elements, paging checks): the same searchset pages of a dashboard's resources read three
 * ways in one process, rounds alternating so that drift hits all alike:
 *   - baseline: keep the `match` entries, nothing checked (what the client did before);
 *   - checks without structure: type and patient attribution only;
 *   - full: type, attribution and structural validation (the default).
 * Beside them, JSON.parse of the same pages: the cost every answer already pays.
 *
 *   npx tsx bench/validation.ts [--patients 1000] [--rounds 7]
 *
 * `npm run bench` runs it at 1,000 patients and adds its row to bench/RESULTS.md.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { Bundle, FhirResource, SearchParams } from '../datasources/fhir/fhir-types.js';
import { patientIdOf, patientSearchParam } from '../datasources/fhir/patient-params.js';
import { SearchsetCheck } from '../datasources/fhir/searchset-check.js';
import { splitFixtures } from '../sandbox/split.js';

const TYPES = ['Condition', 'Observation', 'MedicationRequest', 'Encounter', 'Immunization', 'Procedure', 'AllergyIntolerance', 'DiagnosticReport', 'Coverage'];
const BASE = 'http://mercy.example/fhir/R4';
/** Patients per OR search and entries per page, as a gateway sends and a server pages them. */
const CHUNK = 50;
const PAGE = 100;

interface Search {
  type: string;
  params: SearchParams;
  pages: string[];
}

/** The searchset pages an EHR answers a dashboard of these patients with: per type, per chunk of ids, pages of PAGE. */
function dashboardSearches(resources: readonly FhirResource[], patientIds: readonly string[]): Search[] {
  const byTypeAndPatient = new Map<string, FhirResource[]>();
  for (const r of resources) {
    const owner = patientIdOf(r);
    if (owner === undefined) continue;
    const key = `${r.resourceType}\u0000${owner}`;
    let list = byTypeAndPatient.get(key);
    if (!list) byTypeAndPatient.set(key, (list = []));
    list.push(r);
  }
  const searches: Search[] = [];
  for (const type of TYPES) {
    for (let i = 0; i < patientIds.length; i += CHUNK) {
      const ids = patientIds.slice(i, i + CHUNK);
      const items = ids.flatMap((id) => byTypeAndPatient.get(`${type}\u0000${id}`) ?? []);
      const pages: string[] = [];
      for (let p = 0; p === 0 || p < items.length; p += PAGE) {
        const entry = items.slice(p, p + PAGE).map((resource) => ({ fullUrl: `${BASE}/${type}/${resource.id}`, resource, search: { mode: 'match' } }));
        const link = p + PAGE < items.length ? [{ relation: 'next', url: `${BASE}/${type}?_getpages=${i}-${p + PAGE}` }] : [];
        pages.push(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', link, entry }));
      }
      searches.push({ type, params: [[patientSearchParam(type), ids.join(',')]], pages });
    }
  }
  return searches;
}

type Mode = 'baseline' | 'attribution' | 'full';

/** Reads every search's pages (already parsed) as the client does in `mode`; returns items kept. */
function readAll(searches: readonly Search[], parsed: readonly Bundle[][], mode: Mode): number {
  let kept = 0;
  searches.forEach((s, i) => {
    if (mode === 'baseline') {
      for (const bundle of parsed[i]!) {
        for (const entry of bundle.entry ?? []) {
          const m = entry.search?.mode;
          if (entry.resource && (m === undefined || m === 'match')) kept++;
        }
      }
      return;
    }
    const check = new SearchsetCheck(s.type, s.params, BASE, { structure: mode === 'full' });
    check.visit(new URL(`${BASE}/${s.type}?first`));
    parsed[i]!.forEach((bundle, p) => {
      check.takePage(bundle);
      check.nextUrl(bundle, p + 1, Number.POSITIVE_INFINITY);
    });
    kept += check.finish().length;
  });
  return kept;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The measured costs, in ms per dashboard, and their ratios to the baseline. */
export interface ValidationBench {
  patients: number;
  resources: number;
  pages: number;
  parseMs: number;
  baselineMs: number;
  attributionMs: number;
  fullMs: number;
}

/** Runs the measurement (see the file comment). */
export function runValidationBench(opts: { patients: number; rounds: number }): ValidationBench {
  const split = splitFixtures({ minPatients: opts.patients });
  const mercy = split.ehrs.mercy.resources;
  const patientIds = mercy.filter((r) => r.resourceType === 'Patient').slice(0, opts.patients).map((r) => r.id!);
  const searches = dashboardSearches(mercy, patientIds);
  const parse = () => searches.map((s) => s.pages.map((p) => JSON.parse(p) as Bundle));
  const parsed = parse();
  const times: Record<Mode | 'parse', number[]> = { parse: [], baseline: [], attribution: [], full: [] };
  const expected = readAll(searches, parsed, 'baseline');
  for (let round = 0; round < opts.rounds + 1; round++) {
    const t0 = performance.now();
    parse();
    const t1 = performance.now();
    const counts: number[] = [];
    const lap: Partial<Record<Mode, number>> = {};
    for (const mode of ['baseline', 'attribution', 'full'] as const) {
      const start = performance.now();
      counts.push(readAll(searches, parsed, mode));
      lap[mode] = performance.now() - start;
    }
    // Every mode keeps every item: the sandbox's data is valid, so only the checking is measured.
    if (counts.some((c) => c !== expected)) throw new Error(`validation set aside sandbox items: ${counts.join(', ')} of ${expected}`);
    if (round === 0) continue; // warm-up
    times.parse.push(t1 - t0);
    for (const mode of ['baseline', 'attribution', 'full'] as const) times[mode].push(lap[mode]!);
  }
  return {
    patients: patientIds.length,
    resources: expected,
    pages: searches.reduce((n, s) => n + s.pages.length, 0),
    parseMs: median(times.parse),
    baselineMs: median(times.baseline),
    attributionMs: median(times.attribution),
    fullMs: median(times.full),
  };
}

/** One line for RESULTS.md. */
export function describeValidationBench(b: ValidationBench): string {
  const over = (x: number) => `${(x - b.baselineMs).toFixed(1)} ms`;
  return (
    `validation of a ${b.patients}-patient dashboard's answers (${b.resources} resources, ${b.pages} pages, one EHR): ` +
    `full ${b.fullMs.toFixed(1)} ms (+${over(b.fullMs)} over no checks, ${(b.fullMs / b.parseMs * 100).toFixed(0)}% of JSON.parse of the same pages, ${b.parseMs.toFixed(1)} ms); ` +
    `type + attribution only ${b.attributionMs.toFixed(1)} ms; no checks ${b.baselineMs.toFixed(1)} ms`
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { patients: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '7' } } });
  const result = runValidationBench({ patients: Number(values.patients), rounds: Number(values.rounds) });
  console.log(JSON.stringify(result, null, 2));
  console.log(describeValidationBench(result));
}
