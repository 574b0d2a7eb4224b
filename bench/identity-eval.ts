import type { PrismaClient } from '../datasources/cache/generated/client.js';
import { VARIATION_KINDS } from '../sandbox/cross-hospital.js';
import type { SplitTruth, TruthPatient } from '../sandbox/split.js';

/** One row of `patient_link`: a source record and the unified patient it belongs to. */
export interface LinkRow {
  sourceId: string;
  sourcePatientId: string;
  unifiedId: string;
}

/** Split people that carry one variation kind (or none, or a single hospital). */
export interface VariationMisses {
  kind: string;
  /** People held by both hospitals whose records carry this kind. */
  people: number;
  /** Of those, how many are split. */
  split: number;
}

/** What an identity evaluation found; plain data, for tests and the bench. */
export interface IdentityEvaluation {
  /** People in the truth (fixture patients, made people included). */
  people: number;
  /** People held by more than one source. */
  sharedPeople: number;
  /** Source records of the truth, and how many of them have a link. */
  records: number;
  linkedRecords: number;
  unlinkedRecords: number;
  /** Distinct unified ids over the truth's linked records. */
  unifiedPatients: number;
  /**
   * People whose records do not all share one unified id (an unlinked record counts as
   * apart from every other), over all people.
   */
  splitPeople: number;
  splitRate: number;
  /** Unified ids holding the records of more than one person, and the people involved. */
  falseMerges: number;
  falselyMergedPeople: number;
  /** Cross-source record pairs: same person (true), same unified id (predicted), both. */
  truePairs: number;
  predictedPairs: number;
  truePositivePairs: number;
  /** null when no pair was predicted (or none exists, for recall). */
  precision: number | null;
  recall: number | null;
  /** Per variation kind: people carrying it and how many of them are split. */
  splitByVariation: VariationMisses[];
  /** Per kind of wrongly merged pair of people: twin, household, lookalike, shared-anchor, unrelated. */
  falseMergesByKind: Array<{ kind: string; pairs: number }>;
  /** `fixturePatientId` of every split person (ids, no demographics). */
  splitPeopleIds: string[];
}

/** Reads every link. A merged-away unified patient has no links left, so this is the whole partition. */
export async function readPatientLinks(prisma: PrismaClient): Promise<LinkRow[]> {
  return prisma.patientLink.findMany({ select: { sourceId: true, sourcePatientId: true, unifiedId: true } });
}

const NONE = 'none';
const ONE_HOSPITAL = 'held by one hospital';

/**
 * Scores a partition of source records into unified patients (the link table) against
 * the sandbox's truth: people split, false merges, pairwise precision and recall over
 * cross-source record pairs, and every miss by variation kind (split people) or by kind
 * of hard negative (false merges). Links of records the truth does not know are ignored.
 */
export function evaluateLinks(truth: Pick<SplitTruth, 'patients'>, links: readonly LinkRow[]): IdentityEvaluation {
  const unifiedOf = new Map(links.map((l) => [recordKey(l.sourceId, l.sourcePatientId), l.unifiedId] as const));
  const byId = new Map(truth.patients.map((p) => [p.fixturePatientId, p] as const));

  let records = 0;
  let linkedRecords = 0;
  let truePairs = 0;
  const splitPeopleIds: string[] = [];
  // unified id -> person -> source -> records of that person there
  const groups = new Map<string, Map<string, Map<string, number>>>();
  const variationPeople = new Map<string, { people: number; split: number }>();
  const tally = (kind: string, split: boolean) => {
    const v = variationPeople.get(kind) ?? { people: 0, split: 0 };
    v.people++;
    if (split) v.split++;
    variationPeople.set(kind, v);
  };

  for (const person of truth.patients) {
    const held = recordsOf(person);
    records += held.length;
    const unified = new Set<string>();
    let unlinked = false;
    for (const r of held) {
      const u = unifiedOf.get(recordKey(r.sourceId, r.patientId));
      if (u === undefined) {
        unlinked = true;
        continue;
      }
      linkedRecords++;
      unified.add(u);
      const people = groups.get(u) ?? new Map<string, Map<string, number>>();
      const sources = people.get(person.fixturePatientId) ?? new Map<string, number>();
      sources.set(r.sourceId, (sources.get(r.sourceId) ?? 0) + 1);
      people.set(person.fixturePatientId, sources);
      groups.set(u, people);
    }
    truePairs += crossSourcePairs(countBySource(held.map((r) => r.sourceId)));
    const split = unlinked || unified.size > 1;
    if (split) splitPeopleIds.push(person.fixturePatientId);
    const sources = new Set(held.map((r) => r.sourceId));
    if (sources.size < 2) {
      tally(ONE_HOSPITAL, split);
      continue;
    }
    const kinds = new Set(held.flatMap((r) => r.variations));
    if (kinds.size === 0) tally(NONE, split);
    for (const k of kinds) tally(k, split);
  }

  let predictedPairs = 0;
  let truePositivePairs = 0;
  let falseMerges = 0;
  const mergedPeople = new Set<string>();
  const mergeKinds = new Map<string, number>();
  for (const people of groups.values()) {
    const all = new Map<string, number>();
    for (const sources of people.values()) {
      truePositivePairs += crossSourcePairs(sources);
      for (const [s, n] of sources) all.set(s, (all.get(s) ?? 0) + n);
    }
    predictedPairs += crossSourcePairs(all);
    if (people.size < 2) continue;
    falseMerges++;
    const ids = [...people.keys()];
    for (const id of ids) mergedPeople.add(id);
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const kind = hardNegativeKind(byId.get(ids[i]!)!, byId.get(ids[j]!)!);
        mergeKinds.set(kind, (mergeKinds.get(kind) ?? 0) + 1);
      }
    }
  }

  const order = [NONE, ...VARIATION_KINDS, ONE_HOSPITAL];
  return {
    people: truth.patients.length,
    sharedPeople: truth.patients.filter((p) => new Set(recordsOf(p).map((r) => r.sourceId)).size > 1).length,
    records,
    linkedRecords,
    unlinkedRecords: records - linkedRecords,
    unifiedPatients: groups.size,
    splitPeople: splitPeopleIds.length,
    splitRate: truth.patients.length ? splitPeopleIds.length / truth.patients.length : 0,
    falseMerges,
    falselyMergedPeople: mergedPeople.size,
    truePairs,
    predictedPairs,
    truePositivePairs,
    precision: predictedPairs ? truePositivePairs / predictedPairs : null,
    recall: truePairs ? truePositivePairs / truePairs : null,
    splitByVariation: order.filter((k) => variationPeople.has(k)).map((kind) => ({ kind, ...variationPeople.get(kind)! })),
    falseMergesByKind: [...mergeKinds].map(([kind, pairs]) => ({ kind, pairs })).sort((a, b) => b.pairs - a.pairs || a.kind.localeCompare(b.kind)),
    splitPeopleIds,
  };
}

function recordsOf(p: TruthPatient): Array<{ sourceId: string; patientId: string; variations: readonly string[] }> {
  return Object.entries(p.ehrs).flatMap(([sourceId, r]) => (r ? [{ sourceId, patientId: r.patientId, variations: r.variations ?? [] }] : []));
}

function recordKey(sourceId: string, sourcePatientId: string): string {
  return `${sourceId}\u0000${sourcePatientId}`;
}

function countBySource(sourceIds: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of sourceIds) m.set(s, (m.get(s) ?? 0) + 1);
  return m;
}

/** Pairs of records from two different sources among these counts per source. */
function crossSourcePairs(bySource: ReadonlyMap<string, number>): number {
  let total = 0;
  let pairs = 0;
  for (const n of bySource.values()) {
    pairs += total * n;
    total += n;
  }
  return pairs;
}

function hardNegativeKind(a: TruthPatient, b: TruthPatient): string {
  if (a.of === b.fixturePatientId) return a.kind;
  if (b.of === a.fixturePatientId) return b.kind;
  if (a.of && a.of === b.of) return 'shared-anchor';
  return 'unrelated';
}

const pct = (x: number | null, digits = 2) => (x === null ? 'n/a' : `${(x * 100).toFixed(digits)}%`);
const ratio = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));

/** The evaluation as Markdown: the headline figures beside their targets, then the misses by kind. */
export function formatEvaluation(e: IdentityEvaluation, title = 'Identity evaluation'): string {
  const lines = [
    `### ${title}`,
    '',
    '| measure | value | target |',
    '|---|---|---|',
    `| people (held by both sources) | ${e.people} (${e.sharedPeople}) | |`,
    `| source records (unlinked) | ${e.records} (${e.unlinkedRecords}) | |`,
    `| unified patients | ${e.unifiedPatients} | ${e.people} |`,
    `| people split | ${e.splitPeople} (${pct(e.splitRate)}) | <= 1% |`,
    `| false merges (people in them) | ${e.falseMerges} (${e.falselyMergedPeople}) | 0 |`,
    `| pairwise precision | ${ratio(e.precision)} (${e.truePositivePairs} of ${e.predictedPairs} linked pairs) | >= 0.99 |`,
    `| pairwise recall | ${ratio(e.recall)} (${e.truePositivePairs} of ${e.truePairs} true pairs) | >= 0.98 |`,
    '',
    '| variation kind | people | split | split share |',
    '|---|---|---|---|',
    ...e.splitByVariation.map((v) => `| ${v.kind} | ${v.people} | ${v.split} | ${pct(v.people ? v.split / v.people : null, 1)} |`),
  ];
  if (e.falseMergesByKind.length) {
    lines.push('', '| falsely merged pair | pairs |', '|---|---|', ...e.falseMergesByKind.map((k) => `| ${k.kind} | ${k.pairs} |`));
  }
  return lines.join('\n');
}
