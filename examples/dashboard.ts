/**
 * A tiny dashboard client: typed documents from operations/generated (run `npm run codegen`
 * after changing operations/*.graphql) sent with plain fetch.
 *
 * Against the demo (`npm start`, which prints dev tokens):
 *
 *   CHARTGRAPH_TOKEN=<clinician token> npx tsx examples/dashboard.ts [MRN ...]
 *
 * MRNs are Mercy Hospital MRNs of the demo sandbox (default: three of its patients).
 * CHARTGRAPH_URL overrides the endpoint (default http://127.0.0.1:4000/graphql).
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { DashboardDocument, PatientByIdentifierDocument, SourcesDocument } from '../operations/generated/graphql.js';

const endpoint = process.env.CHARTGRAPH_URL ?? 'http://127.0.0.1:4000/graphql';
const token = process.env.CHARTGRAPH_TOKEN;
const MRN_SYSTEM = 'http://mercy.example/fhir/mrn';
const DEFAULT_MRNS = ['M5745750', 'M0691474', 'M6193043'];

interface Explain {
  calls: number;
  pages: number;
  cache: { hits: number; misses: number };
}

/** One GraphQL request; the document's types give the variables and the answer their shape. */
async function request<TResult, TVariables>(
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
): Promise<{ data: TResult; explain?: Explain }> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables, extensions: { explain: true } }),
  });
  const body = (await res.json()) as { data?: TResult; errors?: { message: string; extensions?: { code?: string } }[]; extensions?: { explain?: Explain } };
  if (body.errors?.length) {
    // Partial answers (one source down) still carry data; show the errors and go on.
    for (const e of body.errors) console.error(`! ${e.extensions?.code ?? 'ERROR'}: ${e.message}`);
  }
  if (!body.data) throw new Error(`no data (HTTP ${res.status})`);
  return { data: body.data, explain: body.extensions?.explain };
}

async function main(): Promise<void> {
  if (!token) {
    console.error('Set CHARTGRAPH_TOKEN to a clinician token (`npm start` prints one; or `npx chartgraph token --role clinician`).');
    process.exitCode = 2;
    return;
  }
  const mrns = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_MRNS;

  const { data: sources } = await request(SourcesDocument, {});
  console.log(`Sources: ${sources.sources.map((s) => `${s.id} (${s.status})`).join(', ')}`);

  const ids: string[] = [];
  for (const value of mrns) {
    const { data } = await request(PatientByIdentifierDocument, { system: MRN_SYSTEM, value, first: 1 });
    if (data.patientByIdentifier) ids.push(data.patientByIdentifier.id);
    else console.error(`no patient with MRN ${value}`);
  }

  const { data, explain } = await request(DashboardDocument, { ids, first: 3 });
  for (const patient of data.patients) {
    if (!patient) continue;
    const latest = patient.observations.nodes[0];
    const value = latest?.valueQuantity ? `${latest.valueQuantity.value} ${latest.valueQuantity.unit ?? ''}`.trim() : '';
    console.log(
      [
        patient.name?.text ?? '(no name)',
        patient.birthDate ?? '',
        `${patient.conditions.totalCount} active conditions`,
        `${patient.observations.totalCount} observations`,
        latest ? `latest: ${latest.code?.text ?? '?'} ${value}` : '',
      ].join(' | '),
    );
  }
  if (explain) {
    console.log(`Upstream: ${explain.calls} calls, ${explain.pages} pages; cache ${explain.cache.hits} hits, ${explain.cache.misses} misses`);
  }
}

await main();
