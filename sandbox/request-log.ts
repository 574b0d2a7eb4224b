/** What the simulator did with one request. */
export type Interaction = 'capabilities' | 'smart-configuration' | 'search' | 'read' | 'create' | 'update' | 'token' | 'batch' | 'other';

/** One request received by a simulated upstream. */
export interface RecordedRequest {
  /** 1-based arrival order since the last reset. */
  seq: number;
  method: string;
  /** Path relative to the server's base (e.g. `/Observation`, `/Patient/m123`, `/metadata`). */
  path: string;
  interaction: Interaction;
  resourceType?: string;
  id?: string;
  /** Query (and, for POST `_search`, form body) parameters in order, decoded. */
  params: Array<[string, string]>;
  /** True for a request that followed a `next` link. */
  page?: boolean;
  /** Epoch ms at arrival. */
  time: number;
  /** HTTP status sent; 0 while unanswered or when the fault never answers (hang, reset, refused). */
  status: number;
  durationMs?: number;
  /** The fault applied, if any (`latency` is not listed). */
  fault?: 'status' | 'rate-limit' | 'hang' | 'reset' | 'down-503' | 'corrupt';
  /** Parameters the server did not apply (unknown to it). */
  ignoredParams?: string[];
  /** A `batch` Bundle's entries, as requested: resource type and either the search parameters or the id read. */
  batchEntries?: Array<{ resourceType?: string; params?: Array<[string, string]>; id?: string; status: number }>;
}

/** A filter for {@link RequestLog.count}. */
export interface RequestFilter {
  method?: string;
  interaction?: Interaction;
  resourceType?: string;
  status?: number;
  page?: boolean;
}

/** Every request a simulated upstream received, for tests and benchmarks. */
export class RequestLog {
  private list: RecordedRequest[] = [];
  private seq = 0;

  /** Recorded requests, oldest first (a copy). */
  get entries(): RecordedRequest[] {
    return [...this.list];
  }

  /** Appends a request and returns the stored record (which the server completes later). */
  add(r: Omit<RecordedRequest, 'seq'>): RecordedRequest {
    const rec = { ...r, seq: ++this.seq };
    this.list.push(rec);
    return rec;
  }

  /** Forgets every recorded request. */
  reset(): void {
    this.list = [];
    this.seq = 0;
  }

  /** Number of recorded requests matching every field of the filter. */
  count(filter: RequestFilter = {}): number {
    return this.list.filter((r) => matches(r, filter)).length;
  }

  /** Counts per resource type (requests without one, like `/metadata`, are left out). */
  countByResourceType(filter: RequestFilter = {}): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.list) if (r.resourceType && matches(r, filter)) out[r.resourceType] = (out[r.resourceType] ?? 0) + 1;
    return out;
  }
}

function matches(r: RecordedRequest, f: RequestFilter): boolean {
  return (
    (f.method === undefined || r.method === f.method) &&
    (f.interaction === undefined || r.interaction === f.interaction) &&
    (f.resourceType === undefined || r.resourceType === f.resourceType) &&
    (f.status === undefined || r.status === f.status) &&
    (f.page === undefined || !!r.page === f.page)
  );
}
