import type { Bundle } from './fhir-types.js';
import type { FhirClient, SearchOptions } from './fhir-client.js';
import { patientSearchParam } from './patient-params.js';
import { escapeSearchValue } from './search-params.js';

/** After this many probes that could not tell (both patients had nothing), stop asking. */
const MAX_INCONCLUSIVE = 3;

interface ProbeState {
  running?: Promise<void>;
  inconclusive: number;
}

// One probe per (client, capability) at a time: a dashboard asks for five resource types at
// once, and they should share one answer, not probe five times.
const states = new WeakMap<FhirClient, Map<string, ProbeState>>();

function stateOf(client: FhirClient, key: string): ProbeState {
  let byKey = states.get(client);
  if (!byKey) states.set(client, (byKey = new Map()));
  let state = byKey.get(key);
  if (!state) byKey.set(key, (state = { inconclusive: 0 }));
  return state;
}

function totalOf(bundle: Bundle | undefined): number | undefined {
  return typeof bundle?.total === 'number' && Number.isInteger(bundle.total) && bundle.total >= 0 ? bundle.total : undefined;
}

/**
 * Finds out whether the source accepts comma-OR patient lists when its /metadata does not
 * say, on two patients the caller already knows: `[type]?patient=a,b&_summary=count` against
 * the two single counts. The OR count equal to the sum (and the sum above 0) is a yes; a
 * refusal (4xx) or a different count (a server reading `a,b` as one id finds nothing) is a
 * no; both patients having nothing, or the source failing, tells nothing, and a later
 * dashboard asks again (at most {@link MAX_INCONCLUSIVE} times). Costs three count-only
 * searches, once per source per process; the answer is kept by the client.
 */
export async function probeOrSearch(client: FhirClient, resourceType: string, patientIds: readonly string[], opts: SearchOptions = {}): Promise<void> {
  if (patientIds.length < 2 || !(await client.mayProbe('patientOrSearch'))) return;
  const state = stateOf(client, 'patientOrSearch');
  if (state.inconclusive >= MAX_INCONCLUSIVE) return;
  state.running ??= (async () => {
    const param = patientSearchParam(resourceType);
    const [a, b] = [escapeSearchValue(patientIds[0]!), escapeSearchValue(patientIds[1]!)];
    const count = (value: string) => client.probeSearch(resourceType, [[param, value], ['_summary', 'count']], opts);
    try {
      const [both, one, two] = await Promise.all([count(`${a},${b}`), count(a), count(b)]);
      if (both.status >= 400 && both.status < 500) {
        client.learn({ patientOrSearch: false });
        return;
      }
      const [tBoth, tOne, tTwo] = [totalOf(both.bundle), totalOf(one.bundle), totalOf(two.bundle)];
      if (tBoth === undefined || tOne === undefined || tTwo === undefined || tOne + tTwo === 0) {
        state.inconclusive++;
        return;
      }
      client.learn({ patientOrSearch: tBoth === tOne + tTwo });
    } catch {
      state.inconclusive++;
    } finally {
      state.running = undefined;
    }
  })();
  await state.running;
}

/** What a probe batch's answer says: a `batch-response` is a yes; a 4xx, or any other 2xx answer, a no. */
function learnBatchFromAnswer(client: FhirClient, status: number, bundle: Bundle | undefined): void {
  if (bundle?.type === 'batch-response') client.learn({ batch: true });
  else if ((status >= 400 && status < 500) || (status >= 200 && status < 300)) client.learn({ batch: false });
}

/**
 * Finds out whether the source accepts FHIR `batch` when its /metadata does not list the
 * interaction: one Bundle with one count-only search of a known patient, POSTed to the base.
 * Once per source per process (a failing source leaves it to a later dashboard).
 */
export async function probeBatch(client: FhirClient, resourceType: string, patientId: string, opts: SearchOptions = {}): Promise<void> {
  if (!(await client.mayProbe('batch'))) return;
  const state = stateOf(client, 'batch');
  if (state.inconclusive >= MAX_INCONCLUSIVE) return;
  state.running ??= (async () => {
    const param = patientSearchParam(resourceType);
    const query = new URLSearchParams([[param, escapeSearchValue(patientId)], ['_summary', 'count']]).toString();
    try {
      const { status, bundle } = await client.probeBatch([`${resourceType}?${query}`], opts);
      learnBatchFromAnswer(client, status, bundle);
      if (status >= 500) state.inconclusive++;
    } catch {
      state.inconclusive++;
    } finally {
      state.running = undefined;
    }
  })();
  await state.running;
}
