import { UpstreamInvalidResponseError, UpstreamWarning, type InvalidResponseReason, type OutcomeSummary } from '../../errors/errors.js';
import { askedPatientIds, attributedPatientId } from './attribution.js';
import type { Bundle, FhirResource, SearchParams } from './fhir-types.js';
import { malformation } from './resource-validation.js';
import { summariseOutcome } from './upstream-http.js';

/**
 * One thing wrong with an upstream answer. `patientId` scopes it to the one asked patient
 * whose item was set aside; without it, it concerns every patient the search covered (an
 * item naming no asked patient, a cut-short paging, a warning).
 */
export interface ResponseProblem {
  reason: InvalidResponseReason | 'warning';
  count: number;
  patientId?: string;
  /** For warnings: severity and code of each issue (never the text). */
  outcome?: OutcomeSummary[];
  /** For logs: which element failed (`Observation.code`), the type found, ...; never a value. */
  detail?: string;
}

// What each answer list set aside, keyed by the list itself so that the client's
// `search()` keeps returning a plain resource list (callers that do not care change nothing).
const problemsByList = new WeakMap<readonly FhirResource[], readonly ResponseProblem[]>();

/** What was set aside from (or cut short in) this answer list; empty when none. */
export function problemsOf(list: readonly FhirResource[]): readonly ResponseProblem[] {
  return problemsByList.get(list) ?? [];
}

/** Hands problems on to a list derived from an answer (one patient's share of an OR search). */
export function attachProblems(list: readonly FhirResource[], problems: readonly ResponseProblem[]): void {
  if (problems.length > 0) problemsByList.set(list, problems);
}

/** The problems of an OR-search answer that concern one of its patients. */
export function problemsForPatient(problems: readonly ResponseProblem[], patientId: string): ResponseProblem[] {
  return problems.filter((p) => p.patientId === undefined || p.patientId === patientId);
}

/**
 * The client-facing errors for a list of problems: one per reason (counts summed), and one
 * {@link UpstreamWarning} for the warnings.
 */
export function problemErrors(sourceId: string, problems: readonly ResponseProblem[]): (UpstreamInvalidResponseError | UpstreamWarning)[] {
  const counts = new Map<InvalidResponseReason, number>();
  const warnings: OutcomeSummary[] = [];
  for (const p of problems) {
    if (p.reason === 'warning') warnings.push(...(p.outcome ?? []));
    else counts.set(p.reason, (counts.get(p.reason) ?? 0) + p.count);
  }
  const errors: (UpstreamInvalidResponseError | UpstreamWarning)[] = [...counts].map(([reason, count]) => new UpstreamInvalidResponseError(sourceId, reason, count));
  if (problems.some((p) => p.reason === 'warning')) errors.push(new UpstreamWarning(sourceId, warnings));
  return errors;
}

/** Violations by reason with their counts (warnings are not violations), for metrics and logs. */
export function violationCounts(problems: readonly ResponseProblem[]): { reason: InvalidResponseReason; count: number; detail?: string }[] {
  const out = new Map<InvalidResponseReason, { reason: InvalidResponseReason; count: number; detail?: string }>();
  for (const p of problems) {
    if (p.reason === 'warning') continue;
    const seen = out.get(p.reason);
    if (seen) seen.count += p.count;
    else out.set(p.reason, { reason: p.reason, count: p.count, ...(p.detail && { detail: p.detail }) });
  }
  return [...out.values()];
}

/** Options of {@link SearchsetCheck}. */
export interface SearchsetCheckOptions {
  /** Structural validation of each item ({@link malformation}); default true. Type and patient checks always run. */
  structure?: boolean;
}

/**
 * Reads the pages of one search and keeps only what may be shown: items of the searched
 * type, well formed, each referencing a patient the search asked for (when it named
 * any). Follows `next` links only on the source's own origin, never to a page already
 * read, and at most `maxPages` pages; a violation stops the paging and keeps what came
 * before. Everything set aside is recorded as a {@link ResponseProblem}.
 */
export class SearchsetCheck {
  readonly results: FhirResource[] = [];
  readonly problems: ResponseProblem[] = [];
  private readonly asked: ReadonlySet<string> | undefined;
  private readonly seen = new Set<string>();
  private readonly origin: string;

  constructor(
    private readonly resourceType: string,
    params: SearchParams,
    private readonly base: string,
    private readonly opts: SearchsetCheckOptions = {},
  ) {
    this.asked = askedPatientIds(resourceType, params);
    this.origin = new URL(base).origin;
  }

  /** Notes a page URL as read (the first page too, so a `next` back to it is a loop). */
  visit(url: URL): void {
    this.seen.add(url.href);
  }

  /** Takes the entries of one page. */
  takePage(bundle: Bundle): void {
    for (const entry of bundle.entry ?? []) {
      const mode = entry.search?.mode;
      const resource = entry.resource as FhirResource | undefined;
      if (mode === 'outcome') {
        if (resource?.resourceType === 'OperationOutcome') this.problems.push({ reason: 'warning', count: 1, outcome: summariseOutcome(resource) });
        continue;
      }
      if (mode !== undefined && mode !== 'match') continue;
      this.take(resource);
    }
  }

  private take(resource: FhirResource | undefined): void {
    if (typeof resource !== 'object' || resource === null || typeof resource.resourceType !== 'string') {
      this.problems.push({ reason: 'malformed', count: 1, detail: 'entry.resource' });
      return;
    }
    const owner = attributedPatientId(resource, this.base);
    const asked = owner !== undefined && (this.asked === undefined || this.asked.has(owner));
    const scope = asked && this.asked !== undefined ? { patientId: owner } : {};
    if (resource.resourceType !== this.resourceType) {
      this.problems.push({ reason: 'wrong-type', count: 1, detail: resource.resourceType, ...scope });
      return;
    }
    if (this.asked !== undefined && !asked) {
      this.problems.push({ reason: 'wrong-patient', count: 1 });
      return;
    }
    if (this.opts.structure ?? true) {
      const failed = malformation(resource);
      if (failed) {
        this.problems.push({ reason: 'malformed', count: 1, detail: failed, ...scope });
        return;
      }
    }
    this.results.push(resource);
  }

  /**
   * The next page to read, or undefined when there is none or paging must stop (the
   * violation is recorded). `pages` is how many were read so far.
   */
  nextUrl(bundle: Bundle, pages: number, maxPages: number): URL | undefined {
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    if (!next) return undefined;
    if (pages >= maxPages) return this.stop('page-limit');
    let url: URL;
    try {
      url = new URL(next, `${this.base}/`);
    } catch {
      return this.stop('paging-off-origin', 'not a URL');
    }
    // The access token goes with the next request: never to another origin.
    if (url.origin !== this.origin) return this.stop('paging-off-origin');
    if (this.seen.has(url.href)) return this.stop('paging-loop');
    return url;
  }

  private stop(reason: InvalidResponseReason, detail?: string): undefined {
    this.problems.push({ reason, count: 1, ...(detail && { detail }) });
    return undefined;
  }

  /** The kept items, with the problems attached (see {@link problemsOf}). */
  finish(): FhirResource[] {
    attachProblems(this.results, this.problems);
    return this.results;
  }
}
