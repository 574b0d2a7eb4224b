import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EHR_INFO } from '../../sandbox/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// St. Jude reports glucose and cholesterol in mmol/L and body weight in pounds, Mercy in
// mg/dL and kg: the same result from both compares equal after normalisation, so it is
// one item with both provenances, and `normalized` is in the code's canonical unit.

const VARIANTS = { '2339-0': 'mmol/L', '2093-3': 'mmol/L', '29463-7': '[lb_av]' };
const CANONICAL: Record<string, string> = { '2339-0': 'mg/dL', '2093-3': 'mg/dL', '29463-7': 'kg' };

let t: TestGateway;
let ids: string[];

beforeAll(async () => {
  t = await startTestGateway({ sandbox: { profiles: { stjude: { misbehave: { unitVariants: VARIANTS } } } } });
  const both = t.sandbox.truth.patients.filter((p) => p.ehrs.mercy && p.ehrs.stjude);
  // One request for every lookup.
  const q = both.map((p, i) => `p${i}: patientByIdentifier(system: "${EHR_INFO.mercy.mrnSystem}", value: "${p.ehrs.mercy!.mrn}") { id }`);
  const res = await t.query(`{ ${q.join('\n')} }`);
  expect(res.errors).toBeUndefined();
  ids = both.map((_, i) => res.data[`p${i}`].id as string);
}, 180_000);
afterAll(async () => t?.close());

describe('a lab value in two units at the two EHRs', () => {
  it('is one item after normalisation, its normalized value in the canonical unit, and the source units kept', async () => {
    const res = await t.query(
      `query($ids: [ID!]!) { patients(ids: $ids) { observations(first: 1000) { nodes {
        code { coding { system code } }
        valueQuantity { value unit code normalized { value unit } }
        provenance { source { id } sourceResourceId } } } } }`,
      { ids },
    );
    expect(res.errors).toBeUndefined();
    const nodes = res.data.patients.flatMap((p: any) => p.observations.nodes);
    const loincOf = (n: any) => n.code.coding.find((c: any) => c.system === 'http://loinc.org')?.code as string;
    const varied = nodes.filter((n: any) => VARIANTS[loincOf(n) as keyof typeof VARIANTS]);
    const shared = varied.filter((n: any) => new Set(n.provenance.map((p: any) => p.source.id)).size === 2);
    expect(shared.length).toBeGreaterThan(0);
    for (const n of varied) expect(n.valueQuantity.normalized.unit).toBe(CANONICAL[loincOf(n)]);
    for (const n of shared) {
      // What St. Jude itself sent for the same item: another unit, another number.
      const stjudeId = n.provenance.find((p: any) => p.source.id === 'stjude').sourceResourceId;
      const raw = await (await fetch(`${t.sandbox.ehr('stjude').baseUrl}/Observation?_id=${stjudeId}`)).json();
      const q = raw.entry[0].resource.valueQuantity;
      expect(q.code).toBe(VARIANTS[loincOf(n) as keyof typeof VARIANTS]);
      expect(q.value).not.toBe(n.valueQuantity.normalized.value);
      // Mercy's value is already canonical (the item shows it first); St. Jude's converts back to the same number.
      expect(n.valueQuantity.code).toBe(CANONICAL[loincOf(n)]);
      expect(n.valueQuantity.normalized.value).toBe(Number(n.valueQuantity.value.toPrecision(6)));
    }
    // St. Jude-only items of those codes are converted to the canonical unit too.
    const stjudeOnly = varied.filter((n: any) => n.provenance.every((p: any) => p.source.id === 'stjude'));
    for (const n of stjudeOnly) {
      expect(n.valueQuantity.code).toBe(VARIANTS[loincOf(n) as keyof typeof VARIANTS]);
      expect(n.valueQuantity.normalized.value).not.toBe(n.valueQuantity.value);
    }
  });
});
