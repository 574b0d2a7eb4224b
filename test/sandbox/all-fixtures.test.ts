import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import { startSandbox, type Sandbox } from '../../sandbox/index.js';
import { fetchJson } from './helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ profiles: { mercy: { requireAuth: false } } });
});
afterAll(() => sb?.close());

describe('sandbox over every fixture patient', () => {
  it('serves, per patient, EHR and type, exactly the resources the split put there, quickly', async () => {
    for (const e of sb.ehrs) e.resetRequests();
    let checked = 0;
    for (const t of sb.truth.patients) {
      for (const id of t.ehrIds) {
        const rec = t.ehrs[id]!;
        const ehr = sb.ehr(id);
        const answers = await Promise.all(
          ['Condition', 'Observation', 'MedicationRequest', 'AllergyIntolerance', 'Immunization', 'Procedure', 'Encounter', 'DiagnosticReport', 'Coverage'].map(async (type) => {
            const a = await fetchJson<Bundle>(`${ehr.baseUrl}/${type}?patient=Patient/${rec.patientId}&_count=0`);
            return [type, a.body.total] as const;
          }),
        );
        for (const [type, total] of answers) expect([id, type, total]).toEqual([id, type, rec.counts[type] ?? 0]);
        checked++;
      }
    }
    expect(checked).toBe(sb.truth.patients.reduce((n, t) => n + t.ehrIds.length, 0));
    // Time spent inside the simulator per search (no latency configured): well under 5 ms.
    const durations = sb.ehrs.flatMap((e) => e.requests.entries.map((r) => r.durationMs!));
    const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
    expect(mean).toBeLessThan(5);
  });

  it('answers one patient\u2019s full Observation page in well under 5 ms inside the simulator', async () => {
    const t = [...sb.truth.patients].sort((a, b) => (b.ehrs.mercy!.counts.Observation ?? 0) - (a.ehrs.mercy!.counts.Observation ?? 0))[0];
    const ehr = sb.ehr('mercy');
    ehr.resetRequests();
    for (let i = 0; i < 20; i++) await fetchJson(`${ehr.baseUrl}/Observation?patient=${t.ehrs.mercy!.patientId}&_count=100`);
    const d = ehr.requests.entries.map((r) => r.durationMs!).sort((a, b) => a - b);
    expect(d[10]).toBeLessThan(5);
  });
});
