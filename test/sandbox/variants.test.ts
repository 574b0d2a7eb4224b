import { describe, expect, it } from 'vitest';
import { loadFixtures } from '../../sandbox/fixtures.js';
import { splitFixtures } from '../../sandbox/split.js';

describe('fixture variants for benchmarks', () => {
  it('makes distinct people from the bundles when more patients are asked for than there are', () => {
    const base = loadFixtures({ maxPatients: 3 });
    const grown = loadFixtures({ maxPatients: 3, minPatients: 7 });
    expect(grown).toHaveLength(7);
    expect(grown.slice(0, 3)).toEqual(base);
    const ids = new Set(grown.flatMap((p) => p.resources.map((r) => `${r.resourceType}/${r.id}`)));
    expect(ids.size).toBe(grown.reduce((n, p) => n + p.resources.length, 0)); // no id repeats
    const ssn = (p: (typeof grown)[number]) => p.patient.identifier?.find((i) => i.system === 'http://hl7.org/fhir/sid/us-ssn')?.value;
    expect(new Set(grown.map(ssn)).size).toBe(7);
    expect(grown[3]!.patient.birthDate).not.toBe(base[0]!.patient.birthDate);
    // References follow the new ids.
    const variant = grown[3]!;
    const refs = JSON.stringify(variant.resources.filter((r) => r.resourceType !== 'Patient'));
    expect(refs).toContain(variant.patientId);
    expect(refs).not.toContain(`"urn:uuid:${base[0]!.patientId}"`);
  });

  it('splits variants across the EHRs like any patient', () => {
    const split = splitFixtures({ maxPatients: 3, minPatients: 6 });
    expect(split.truth.patients).toHaveLength(6);
  });
});
