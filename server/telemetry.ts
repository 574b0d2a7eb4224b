import { AsyncLocalStorage } from 'node:async_hooks';
import type { ApolloServerPlugin } from '@apollo/server';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ChartgraphConfig } from '../config/config.schema.js';
import type { UpstreamCall } from '../datasources/fhir/fhir-types.js';
import type { CacheLookup } from '../datasources/loaders.js';
import type { RequestContext } from '../resolvers/context.js';

// Spans are made from the gateway's own hooks (one per GraphQL operation, one per upstream
// call, one per cache lookup) rather than by wrapping HTTP clients: a raw HTTP span would
// carry the request URL, and FHIR search URLs hold patient ids. Every attribute here is a
// source id, a resource type, a count, a status or a code; never an id, a name or a URL.

const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Tracing of one gateway process; absent when `telemetry.otlp` is not configured. */
export interface Telemetry {
  /** Runs one HTTP request's GraphQL handling inside its operation span. */
  runRequest<T>(requestId: string, fn: () => T | Promise<T>): Promise<T>;
  /** Names the operation span and records its outcome (an Apollo plugin). */
  plugin(): ApolloServerPlugin<RequestContext>;
  /** One span per upstream call, under the request's operation span. */
  upstreamCall(call: UpstreamCall): void;
  /** One span per search-cache lookup batch. */
  cacheLookup(lookup: CacheLookup): void;
  /** Exports what is pending and stops. */
  shutdown(): Promise<void>;
}

/** Options of {@link createTelemetry}. */
export interface TelemetryOptions {
  /** Spans go here instead of OTLP, each as it ends (tests pass an in-memory exporter). */
  exporter?: SpanExporter;
}

/** The tracer for the config (or the test's exporter), or undefined when tracing is off. */
export function createTelemetry(config: ChartgraphConfig['telemetry'], opts: TelemetryOptions = {}): Telemetry | undefined {
  const otlp = config?.otlp;
  if (!otlp && !opts.exporter) return undefined;
  const processor = opts.exporter
    ? new SimpleSpanProcessor(opts.exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter({ url: otlp!.endpoint, headers: { ...otlp!.headers } }));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config?.serviceName ?? 'chartgraph' }),
    spanProcessors: [processor],
  });
  const tracer: Tracer = provider.getTracer('chartgraph');
  const current = new AsyncLocalStorage<Span>();
  const parent = () => {
    const span = current.getStore();
    return span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT;
  };
  const ended = (ms: number) => {
    const end = Date.now();
    return { start: end - Math.max(0, ms), end };
  };

  return {
    async runRequest(requestId, fn) {
      const span = tracer.startSpan('graphql', { kind: SpanKind.SERVER, attributes: { 'chartgraph.request_id': requestId } });
      try {
        return await current.run(span, fn);
      } finally {
        span.end();
      }
    },
    plugin() {
      return {
        async requestDidStart() {
          const span = current.getStore();
          return {
            async didResolveOperation({ operation, operationName }) {
              if (!span) return;
              const type = operation?.operation ?? 'query';
              const name = operationName && OPERATION_NAME.test(operationName) ? operationName : undefined;
              span.updateName(name ? `${type} ${name}` : type);
              span.setAttribute('graphql.operation.type', type);
              if (name) span.setAttribute('graphql.operation.name', name);
            },
            async willSendResponse({ response }) {
              if (!span) return;
              const single = response.body.kind === 'single' ? response.body.singleResult : undefined;
              const codes = [...new Set((single?.errors ?? []).map((e) => String(e.extensions?.code ?? 'UNKNOWN')))].sort();
              const anyData = !!single?.data && Object.values(single.data).some((v) => v !== null);
              span.setAttribute('chartgraph.outcome', codes.length === 0 ? 'success' : anyData ? 'partial' : 'error');
              if (codes.length > 0) span.setAttribute('chartgraph.error_codes', codes);
              if (codes.length > 0 && !anyData) span.setStatus({ code: SpanStatusCode.ERROR });
            },
          };
        },
      };
    },
    upstreamCall(call) {
      const t = ended(call.ms);
      const attributes: Attributes = {
        'chartgraph.source': call.sourceId,
        'fhir.interaction': call.interaction,
        'chartgraph.outcome': call.outcome,
        'chartgraph.pages': call.pages,
        'chartgraph.retries': call.retries ?? 0,
        'chartgraph.cache_hit': false,
        'chartgraph.shared': call.shared ?? false,
      };
      if (call.resourceType) attributes['fhir.resource_type'] = call.resourceType;
      if (call.patients !== undefined) attributes['chartgraph.patients'] = call.patients;
      if (call.status !== undefined) attributes['http.response.status_code'] = call.status;
      const name = call.interaction === 'token' ? 'upstream token' : `upstream ${call.interaction} ${call.resourceType}`;
      const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, startTime: t.start, attributes }, parent());
      if (call.outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: call.outcome });
      span.end(t.end);
    },
    cacheLookup(lookup) {
      const t = ended(lookup.ms);
      const span = tracer.startSpan(
        `cache ${lookup.resourceType}`,
        {
          kind: SpanKind.INTERNAL,
          startTime: t.start,
          attributes: {
            'chartgraph.source': lookup.sourceId,
            'fhir.resource_type': lookup.resourceType,
            'chartgraph.cache_hit': lookup.misses === 0 && lookup.hits > 0,
            'chartgraph.cache.hits': lookup.hits,
            'chartgraph.cache.misses': lookup.misses,
          },
        },
        parent(),
      );
      span.end(t.end);
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
}
