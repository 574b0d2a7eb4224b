import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load-config.js';
import { createTelemetry } from '../../server/telemetry.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// OpenTelemetry: a span per GraphQL operation, one per upstream call and one per cache
// lookup under it, with source, resource type, status, pages, retries and cache hit; never
// an id, a name, an MRN or a URL in any attribute. Off unless configured.

const exporter = new InMemorySpanExporter();
let t: TestGateway;
let unifiedId: string;
let mrn: string;

beforeAll(async () => {
  t = await startTestGateway({ cache: { defaultTtlSeconds: 600 }, gatewayOptions: { spanExporter: exporter } });
  const p = t.sandbox.truth.patients.find((x) => x.ehrs.mercy && x.ehrs.stjude)!;
  mrn = p.ehrs.mercy!.mrn;
  const found = await t.query(`query Find($v: String!) { patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: $v) { id } }`, { v: mrn });
  unifiedId = found.data.patientByIdentifier.id;
}, 60_000);
afterAll(async () => t?.close());

const CHART = `query Chart($id: ID!) { patient(id: $id) { id name { family } conditions { totalCount } } }`;

function children(of: ReadableSpan): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.parentSpanContext?.spanId === of.spanContext().spanId);
}

describe('traces', () => {
  it('one span per operation, with a span per upstream call under it', async () => {
    exporter.reset();
    t.resetCounts();
    const res = await t.query(CHART, { id: unifiedId });
    expect(res.errors).toBeUndefined();
    const ops = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    expect(ops.map((s) => s.name)).toEqual(['query Chart']);
    const op = ops[0]!;
    expect(op.attributes).toEqual({
      'chartgraph.request_id': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'graphql.operation.type': 'query',
      'graphql.operation.name': 'Chart',
      'chartgraph.outcome': 'success',
    });
    const upstream = children(op).filter((s) => s.kind === SpanKind.CLIENT);
    // Exactly the calls the gateway made, one span each.
    expect(upstream.map((s) => `${s.attributes['chartgraph.source']} ${s.name}`).sort()).toEqual(
      t.calls.map((c) => `${c.sourceId} upstream ${c.interaction} ${c.resourceType}`).sort(),
    );
    const condition = upstream.find((s) => s.name === 'upstream search Condition' && s.attributes['chartgraph.source'] === 'stjude')!;
    expect(condition.attributes).toEqual({
      'chartgraph.source': 'stjude',
      'fhir.interaction': 'search',
      'fhir.resource_type': 'Condition',
      'chartgraph.outcome': 'ok',
      'chartgraph.pages': 1,
      'chartgraph.retries': 0,
      'chartgraph.cache_hit': false,
      'chartgraph.shared': false,
      'chartgraph.patients': 1,
      'http.response.status_code': 200,
    });
    const lookups = children(op).filter((s) => s.name === 'cache Condition');
    expect(lookups.map((s) => [s.attributes['chartgraph.source'], s.attributes['chartgraph.cache_hit']]).sort()).toEqual([
      ['mercy', false],
      ['stjude', false],
    ]);
  });

  it('a repeat is answered from the cache: cache spans say hit, no upstream span for it', async () => {
    exporter.reset();
    await t.query(CHART, { id: unifiedId });
    const op = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)!;
    expect(children(op).filter((s) => s.name === 'upstream search Condition')).toEqual([]);
    expect(children(op).filter((s) => s.name === 'cache Condition').map((s) => s.attributes['chartgraph.cache_hit'])).toEqual([true, true]);
  });

  it('no attribute of any span holds patient data or a URL', async () => {
    exporter.reset();
    await t.query(`query Find($v: String!) { patientByIdentifier(system: "http://mercy.example/fhir/mrn", value: $v) { id name { family given } conditions { totalCount } } }`, { v: mrn });
    await t.query(CHART, { id: unifiedId });
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(3);
    const values = spans.flatMap((s) => [s.name, ...Object.values(s.attributes).flat().map(String)]);
    const patient = t.sandbox.truth.patients.find((p) => p.ehrs.mercy?.mrn === mrn)!;
    const secrets = [unifiedId, mrn, ...Object.values(patient.ehrs).flatMap((r) => [r!.patientId, r!.mrn]), ...(patient.ssn ? [patient.ssn] : [])];
    const names = (await t.query(`query($id: ID!) { patient(id: $id) { name { family given } } }`, { id: unifiedId })).data.patient.name;
    secrets.push(names.family, ...names.given);
    for (const v of values) {
      for (const secret of secrets) expect(v).not.toContain(secret);
      expect(v).not.toMatch(/https?:|\?|\//);
    }
  });
});

describe('telemetry config', () => {
  it('is off by default and on with an OTLP endpoint', () => {
    const base = { sources: [{ id: 'a', kind: 'fhir', name: 'A', baseUrl: 'http://127.0.0.1:1/fhir' }] };
    expect(createTelemetry(parseConfig(base).telemetry)).toBeUndefined();
    const on = createTelemetry(parseConfig({ ...base, telemetry: { otlp: { endpoint: 'http://127.0.0.1:4318/v1/traces' } } }).telemetry);
    expect(on).toBeDefined();
    void on!.shutdown();
  });
});
