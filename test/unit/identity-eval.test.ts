import { describe, expect, it } from 'vitest';
import { evaluateLinks, formatEvaluation, type LinkRow } from '../../bench/identity-eval.js';
import type { VariationKind } from '../../sandbox/cross-hospital.js';
import type { TruthEhrRecord, TruthPatient } from '../../sandbox/split.js';

// The population evaluation's arithmetic, on hand-made truth and link tables.

const record = (patientId: string, variations: VariationKind[] = []): TruthEhrRecord => ({
  patientId,
  mrn: `MRN-${patientId}`,
  hasSsn: !variations.includes('ssn-missing'),
  nickname: variations.includes('nickname'),
  movedAddress: variations.includes('moved'),
  variations,
  counts: { Patient: 1 },
});

function person(id: string, stjude: VariationKind[] | null, kind: TruthPatient['kind'] = 'regular', of?: string): TruthPatient {
  return {
    fixtureFile: `${id}.json`,
    fixturePatientId: id,
    ehrIds: stjude ? ['mercy', 'stjude'] : ['mercy'],
    ehrs: { mercy: record(`m${id}`), ...(stjude && { stjude: record(`s${id}`, stjude) }) },
    sharedItems: 0,
    kind,
    ...(of && { of }),
  };
}

const link = (sourceId: string, sourcePatientId: string, unifiedId: string): LinkRow => ({ sourceId, sourcePatientId, unifiedId });

describe('identity evaluation harness', () => {
  const truth = {
    patients: [
      person('A', ['ssn-missing']),
      person('B', ['nickname', 'moved']),
      person('C', null),
      person('D', [], 'twin', 'A'),
      person('E', ['ssn-missing'], 'lookalike', 'B'),
    ],
  };

  it('counts split people, false merges, pairwise precision and recall, and misses by kind', () => {
    const links = [
      link('mercy', 'mA', 'U1'),
      link('stjude', 'sA', 'U1'),
      link('mercy', 'mB', 'U2'),
      link('stjude', 'sB', 'U3'),
      // C's only record is not linked at all.
      link('mercy', 'mD', 'U1'), // the twin merged into A
      link('stjude', 'sD', 'U4'),
      link('mercy', 'mE', 'U5'),
      link('stjude', 'sE', 'U5'),
      link('mercy', 'not-in-truth', 'U6'),
    ];
    const e = evaluateLinks(truth, links);
    expect(e).toEqual({
      people: 5,
      sharedPeople: 4,
      records: 9,
      linkedRecords: 8,
      unlinkedRecords: 1,
      unifiedPatients: 5,
      splitPeople: 3,
      splitRate: 0.6,
      falseMerges: 1,
      falselyMergedPeople: 2,
      truePairs: 4,
      predictedPairs: 3,
      truePositivePairs: 2,
      precision: 2 / 3,
      recall: 0.5,
      splitByVariation: [
        { kind: 'none', people: 1, split: 1 },
        { kind: 'ssn-missing', people: 2, split: 0 },
        { kind: 'nickname', people: 1, split: 1 },
        { kind: 'moved', people: 1, split: 1 },
        { kind: 'held by one hospital', people: 1, split: 1 },
      ],
      falseMergesByKind: [{ kind: 'twin', pairs: 1 }],
      splitPeopleIds: ['B', 'C', 'D'],
    });
  });

  it('names the kind of every wrongly merged pair', () => {
    const family = { patients: [person('A', []), person('D', [], 'twin', 'A'), person('F', [], 'household', 'A'), person('G', [])] };
    const all = ['A', 'D', 'F', 'G'].flatMap((id) => [link('mercy', `m${id}`, 'U'), link('stjude', `s${id}`, 'U')]);
    const e = evaluateLinks(family, all);
    expect(e.falseMerges).toBe(1);
    expect(e.falselyMergedPeople).toBe(4);
    expect(e.falseMergesByKind).toEqual([
      { kind: 'unrelated', pairs: 3 },
      { kind: 'household', pairs: 1 },
      { kind: 'shared-anchor', pairs: 1 },
      { kind: 'twin', pairs: 1 },
    ]);
    expect([e.truePairs, e.predictedPairs, e.truePositivePairs]).toEqual([4, 16, 4]);
    expect([e.precision, e.recall, e.splitPeople]).toEqual([0.25, 1, 0]);
  });

  it('reports no precision when nothing is linked, and every person split', () => {
    const e = evaluateLinks(truth, []);
    expect([e.precision, e.recall, e.splitPeople, e.unlinkedRecords, e.unifiedPatients, e.falseMerges]).toEqual([null, 0, 5, 9, 0, 0]);
  });

  it('formats the figures beside their targets as Markdown', () => {
    const text = formatEvaluation(evaluateLinks(truth, [link('mercy', 'mA', 'U1'), link('stjude', 'sA', 'U1')]), 'Test run');
    const lines = text.split('\n');
    expect(lines[0]).toBe('### Test run');
    expect(lines).toContain('| people (held by both sources) | 5 (4) | |');
    expect(lines).toContain('| people split | 4 (80.00%) | <= 1% |');
    expect(lines).toContain('| false merges (people in them) | 0 (0) | 0 |');
    expect(lines).toContain('| pairwise precision | 1.0000 (1 of 1 linked pairs) | >= 0.99 |');
    expect(lines).toContain('| pairwise recall | 0.2500 (1 of 4 true pairs) | >= 0.98 |');
    expect(lines).toContain('| ssn-missing | 2 | 1 | 50.0% |');
    expect(text).not.toContain('falsely merged pair');
  });
});
