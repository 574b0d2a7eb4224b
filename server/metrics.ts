import type { ApolloServerPlugin } from '@apollo/server';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CacheLookup } from '../datasources/loaders.js';
import type { UpstreamCall } from '../datasources/fhir/fhir-types.js';
import type { HealthStatus } from '../datasources/source-health.js';

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** The configured source ids, for the status gauge. */
  sourceIds: readonly string[];
  /** The last-seen health of a source, read at scrape time. */
  sourceStatus: (sourceId: string) => HealthStatus;
  /** Also export Node's process metrics (CPU, memory, event loop); default true. */
  processMetrics?: boolean;
}

/** One gateway's Prometheus metrics. */
export interface GatewayMetrics {
  /** The registry `/metrics` serves (one per gateway, never prom-client's global one). */
  registry: Registry;
  /** Feed with every upstream call. */
  upstreamCall(call: UpstreamCall): void;
  /** Feed with every search-cache lookup. */
  cacheLookup(lookup: CacheLookup): void;
  /** Counts answers given from the response cache (`hit`) and answers kept in it (`stored`). */
  responseCache(outcome: 'hit' | 'stored'): void;
  /** Times GraphQL requests by operation name. */
  plugin(): ApolloServerPlugin<object>;
}

const STATUSES: readonly HealthStatus[] = ['UP', 'DEGRADED', 'DOWN', 'UNKNOWN'];
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Operation names come from clients: past this many distinct ones, the rest count as `other`. */
const MAX_OPERATION_NAMES = 200;

/**
 * Creates the metrics of one gateway on a registry of its own, so several gateways (tests)
 * can live in one process. Labels carry source ids, resource types and operation names,
 * never anything from a patient.
 */
export function createMetrics(opts: MetricsOptions): GatewayMetrics {
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'chartgraph_' });

  const requestDuration = new Histogram({
    name: 'chartgraph_graphql_request_duration_seconds',
    help: 'GraphQL request latency, by operation name (`anonymous` when unnamed, `other` past the name limit).',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const upstreamCalls = new Counter({
    name: 'chartgraph_upstream_calls_total',
    help: 'Logical upstream calls (a paged search counts once), by source, resource type, interaction and outcome.',
    labelNames: ['source', 'resource_type', 'interaction', 'outcome'] as const,
    registers: [registry],
  });
  const upstreamPages = new Counter({
    name: 'chartgraph_upstream_pages_total',
    help: 'HTTP exchanges with a Bundle or resource answer, by source and resource type.',
    labelNames: ['source', 'resource_type'] as const,
    registers: [registry],
  });
  const upstreamDuration = new Histogram({
    name: 'chartgraph_upstream_call_duration_seconds',
    help: 'Upstream call latency (all pages of a search), by source and resource type.',
    labelNames: ['source', 'resource_type', 'interaction'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const upstreamViolations = new Counter({
    name: 'chartgraph_upstream_invalid_responses_total',
    help: 'Items set aside and paging cut short in upstream answers (UPSTREAM_INVALID_RESPONSE), by source, resource type and reason.',
    labelNames: ['source', 'resource_type', 'reason'] as const,
    registers: [registry],
  });
  const cacheHits = new Counter({
    name: 'chartgraph_cache_hits_total',
    help: 'Patient searches served from the search cache, by source and resource type.',
    labelNames: ['source', 'resource_type'] as const,
    registers: [registry],
  });
  const cacheMisses = new Counter({
    name: 'chartgraph_cache_misses_total',
    help: 'Patient searches the search cache had nothing fresh for, by source and resource type.',
    labelNames: ['source', 'resource_type'] as const,
    registers: [registry],
  });
  const responseAnswers = new Counter({
    name: 'chartgraph_response_cache_total',
    help: 'Answers given again from the response cache (hit) and answers kept in it (stored).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'chartgraph_source_status',
    help: 'Last-seen health of each source: 1 for its current status, 0 for the others.',
    labelNames: ['source', 'status'] as const,
    registers: [registry],
    collect() {
      for (const source of opts.sourceIds) {
        const current = opts.sourceStatus(source);
        for (const status of STATUSES) this.set({ source, status }, status === current ? 1 : 0);
      }
    },
  });

  const operationNames = new Set<string>();
  const operationLabel = (name: string | undefined | null): string => {
    if (!name) return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (operationNames.has(name)) return name;
    if (operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    operationNames.add(name);
    return name;
  };

  return {
    registry,
    upstreamCall(call) {
      const resourceType = call.resourceType || 'token';
      upstreamCalls.inc({ source: call.sourceId, resource_type: resourceType, interaction: call.interaction, outcome: call.outcome });
      if (call.pages > 0) upstreamPages.inc({ source: call.sourceId, resource_type: resourceType }, call.pages);
      upstreamDuration.observe({ source: call.sourceId, resource_type: resourceType, interaction: call.interaction }, call.ms / 1000);
      for (const v of call.violations ?? []) upstreamViolations.inc({ source: call.sourceId, resource_type: resourceType, reason: v.reason }, v.count);
    },
    cacheLookup(lookup) {
      const labels = { source: lookup.sourceId, resource_type: lookup.resourceType };
      if (lookup.hits > 0) cacheHits.inc(labels, lookup.hits);
      if (lookup.misses > 0) cacheMisses.inc(labels, lookup.misses);
    },
    responseCache(outcome) {
      responseAnswers.inc({ outcome });
    },
    plugin() {
      return {
        async requestDidStart() {
          const started = performance.now();
          return {
            async willSendResponse({ operationName, response }) {
              const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
              requestDuration.observe(
                { operation: operationLabel(operationName), outcome: errors?.length ? 'error' : 'ok' },
                (performance.now() - started) / 1000,
              );
            },
          };
        },
      };
    },
  };
}
