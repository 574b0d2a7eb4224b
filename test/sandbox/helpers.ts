import type { Bundle, FhirResource } from '../../datasources/fhir/fhir-types.js';

/** A fetched FHIR answer. */
export interface FhirAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** GETs (or sends `init`) and parses the JSON body. */
export async function fetchJson<T = Record<string, unknown>>(url: string, init?: RequestInit): Promise<FhirAnswer<T>> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Fetches a searchset and every following page through `next` links, as given. */
export async function fetchAllPages(url: string, init?: RequestInit): Promise<{ pages: Bundle[]; resources: FhirResource[] }> {
  const pages: Bundle[] = [];
  let next: string | undefined = url;
  while (next) {
    const a: FhirAnswer<Bundle> = await fetchJson<Bundle>(next, init);
    if (a.status !== 200) throw new Error(`HTTP ${a.status} for ${next}`);
    pages.push(a.body);
    next = a.body.link?.find((l) => l.relation === 'next')?.url;
    if (pages.length > 1000) throw new Error('too many pages');
  }
  return { pages, resources: pages.flatMap((p) => (p.entry ?? []).map((e) => e.resource!)) };
}

/** Ids of a searchset's entries. */
export function entryIds(b: Bundle): string[] {
  return (b.entry ?? []).map((e) => e.resource!.id!);
}
