import type { Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../datasources/cache/database.js';
import { PatientIndex } from '../../datasources/cache/patient-index.js';
import { DEFAULT_MATCH_SETTINGS } from '../../identity/match-decision.js';
import { populationLinker } from '../../identity/population-linker.js';
import { toSourcePatientRow } from '../../identity/source-patient-row.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabaseHandle } from '../helpers/databases.js';

// The sync's linker on hand-made records: what links, what merges, and what is only a
// possible match because linking it could join two people.

const person = (id: string, given: string, extra: Partial<Patient> = {}): Patient => ({
  resourceType: 'Patient',
  id,
  name: [{ use: 'official', family: 'Castellano', given: [given] }],
  gender: 'female',
  birthDate: '1979-05-21',
  address: [{ use: 'home', line: ['40 Harbor Rd'], postalCode: '02169' }],
  telecom: [{ system: 'phone', value: '617-555-0199' }],
  ...extra,
});

for (const kind of testDatabaseKinds()) {
  describe(`population linker (${kind})`, () => {
    let handle: TestDatabaseHandle;
    let db: Database;
    let index: PatientIndex;
    const audited: string[] = [];

    beforeAll(async () => {
      handle = await createTestDatabase(kind);
      db = await handle.open();
      index = new PatientIndex(db.prisma);
    });
    afterAll(async () => {
      await handle?.dispose();
    });

    const linker = () =>
      populationLinker({ index, settings: DEFAULT_MATCH_SETTINGS, auditMerge: async (_tx, merge) => void audited.push(merge.mergedId) });
    const put = async (sourceId: string, patients: Patient[]) => {
      const rows = patients.map((p) => toSourcePatientRow(sourceId, p));
      await index.sourcePatients.upsertMany(rows);
      return linker().link(sourceId, rows);
    };
    const unifiedOf = async (sourceId: string, id: string) => (await index.findLinks([{ sourceId, sourcePatientId: id }])).get(`${sourceId}/${id}`)?.unifiedId;

    it('links a record with a typo and no SSN to its one candidate, and keeps twins apart', async () => {
      await put('a', [person('a-maria', 'Maria'), person('a-twin', 'Lucia')]);
      await put('b', [person('b-maria', 'Mariah')]);
      expect(await unifiedOf('b', 'b-maria')).toBe(await unifiedOf('a', 'a-maria'));
      expect(await unifiedOf('a', 'a-twin')).not.toBe(await unifiedOf('a', 'a-maria'));
      const possible = await db.prisma.possibleMatch.findMany({ select: { unifiedId: true, candidateSourcePatientId: true } });
      // Mariah and Lucia share everything but the first name: kept for review, on Lucia's patient.
      expect(possible).toEqual([{ unifiedId: await unifiedOf('a', 'a-twin'), candidateSourcePatientId: 'b-maria' }]);
    });

    it('keeps two records of one batch that want the same candidate as possible matches, linking neither', async () => {
      await put('a', [person('a-rosa', 'Rosa', { birthDate: '1962-02-14', telecom: [{ system: 'phone', value: '617-555-0100' }] })]);
      await put('c', [
        person('c-rosa-1', 'Rosa', { birthDate: '1962-02-14', telecom: [{ system: 'phone', value: '617-555-0100' }] }),
        person('c-rosa-2', 'Rosa', { birthDate: '1962-02-14', telecom: [{ system: 'phone', value: '617-555-0100' }] }),
      ]);
      const rosa = await unifiedOf('a', 'a-rosa');
      expect(await unifiedOf('c', 'c-rosa-1')).not.toBe(rosa);
      expect(await unifiedOf('c', 'c-rosa-2')).not.toBe(rosa);
      expect(await db.prisma.possibleMatch.count({ where: { unifiedId: rosa } })).toBe(2);
    });

    it('merges two patients a record joins, unless one already holds a record of that source', async () => {
      // b-ana and c-ana were each linked alone; a-ana matches both: one person, one patient.
      const ana = (id: string) => person(id, 'Ana', { birthDate: '1990-10-02', telecom: [{ system: 'phone', value: '617-555-0111' }] });
      await index.linkRecords([{ sourceId: 'b', sourcePatientId: 'b-ana', method: 'origin' }]);
      await index.linkRecords([{ sourceId: 'c', sourcePatientId: 'c-ana', method: 'origin' }]);
      await index.sourcePatients.upsertMany([toSourcePatientRow('b', ana('b-ana')), toSourcePatientRow('c', ana('c-ana'))]);
      const [b, c] = [await unifiedOf('b', 'b-ana'), await unifiedOf('c', 'c-ana')];
      await put('a', [ana('a-ana')]);
      const merged = await unifiedOf('a', 'a-ana');
      expect(new Set([merged, await unifiedOf('b', 'b-ana'), await unifiedOf('c', 'c-ana')]).size).toBe(1);
      expect(merged).toBe(b);
      expect(audited).toEqual([c]);
      expect((await index.survivors([c!])).get(c!)).toBe(b);

      // A second Ana at source b would put two b records in one patient: only possible.
      await put('b', [ana('b-ana-dup')]);
      expect(await unifiedOf('b', 'b-ana-dup')).not.toBe(b);
      expect(await db.prisma.possibleMatch.count({ where: { unifiedId: b, candidateSourcePatientId: 'b-ana-dup' } })).toBe(1);
    });
  });
}
