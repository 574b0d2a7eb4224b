import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { decideMatch, DEFAULT_MATCH_SETTINGS } from '../../identity/match-decision.js';
import { toMatchRecord } from '../../identity/match-record.js';
import { areNicknames, nameVariants } from '../../identity/nicknames.js';
import { foldName } from '../../identity/normalize.js';
import { jaroWinkler } from '../../identity/string-similarity.js';
import { loadFixtures } from '../../sandbox/fixtures.js';
import { hashUnit } from '../../sandbox/hash.js';

// A labelled evaluation set for the demographic matcher, built from the fixture patients
// with the variations real registries see. Each pair is (fixture record, variant) with a
// label: same person or not. The figures are printed; rerun with
//   npx vitest run test/unit/identity-evaluation.test.ts
// Thresholds: config `identity.autoLinkThreshold` / `possibleMatchThreshold` (defaults used here).

const SSN = 'http://hl7.org/fhir/sid/us-ssn';

interface LabelledPair {
  kind: string;
  same: boolean;
  a: Patient;
  b: Patient;
}

const clone = (p: Patient): Patient => JSON.parse(JSON.stringify(p)) as Patient;
const official = (p: Patient) => p.name!.find((n) => n.use === 'official') ?? p.name![0]!;
const pick = <T>(items: readonly T[], ...key: string[]): T => items[Math.floor(hashUnit(...key) * items.length)]!;

/** The record as a hospital holds it: no Synthea cross-hospital id, no passport or licence (not matched on). */
function hospitalCopy(p: Patient, keepSsn: boolean): Patient {
  const c = clone(p);
  c.identifier = (c.identifier ?? []).filter((i) => i.system === SSN && keepSsn);
  return c;
}

function typo(word: string, key: string): string {
  // Swap two adjacent letters in the middle, or double one: the commonest keying slips.
  const i = 1 + Math.floor(hashUnit('typo-at', key) * Math.max(1, word.length - 2));
  if (hashUnit('typo-kind', key) < 0.5 && i + 1 < word.length) return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
  return word.slice(0, i) + word[i] + word.slice(i);
}

const MOVES = [
  { line: ['77 Tremont St'], city: 'Boston', postalCode: '02118' },
  { line: ['12 Highland St'], city: 'Worcester', postalCode: '01609' },
  { line: ['400 Main St'], city: 'Springfield', postalCode: '01103' },
];

function moved(p: Patient, key: string): void {
  const dest = pick(MOVES, 'move', key);
  const old = p.address?.[0];
  p.address = [{ use: 'home', ...dest, state: old?.state ?? 'MA', country: old?.country ?? 'US' }];
}

function newPhone(p: Patient, key: string): void {
  p.telecom = [{ system: 'phone', value: `555-${String(Math.floor(hashUnit('phone', key) * 1e7)).padStart(7, '0').replace(/^(\d{3})/, '$1-')}`, use: 'mobile' }];
}

function buildEvaluationSet(): LabelledPair[] {
  const fixtures = loadFixtures();
  const pairs: LabelledPair[] = [];
  const givenPool = fixtures.map((f) => ({ given: official(f.patient).given![0]!, gender: f.patient.gender }));

  for (const f of fixtures) {
    const id = f.patientId;
    const base = hospitalCopy(f.patient, true);
    const given = official(base).given![0]!;
    const family = official(base).family!;
    const variant = (kind: string, same: boolean, change: (p: Patient) => void, keepSsn = false) => {
      const b = hospitalCopy(f.patient, keepSsn);
      change(b);
      pairs.push({ kind, same, a: base, b });
    };

    // Same person, recorded differently.
    const nick = nameVariants(foldName(given)!)[0];
    if (nick) variant('nickname', true, (p) => (official(p).given = [nick[0] + nick.slice(1).toLowerCase()]));
    variant('typo in family name', true, (p) => (official(p).family = typo(family, `${id}f`)));
    variant('typo in given name', true, (p) => (official(p).given = [typo(given, `${id}g`)]));
    const [y, m, d] = base.birthDate!.split('-');
    if (Number(d) <= 12 && d !== m) variant('day and month swapped', true, (p) => (p.birthDate = `${y}-${d}-${m}`));
    variant('hyphenated family name', true, (p) => (official(p).family = `${family}-${pick(['Garcia', 'Nguyen', 'Smith', 'Okafor'], 'hy', id)}`));
    variant('changed family name (marriage)', true, (p) => (official(p).family = pick(['Carter', 'Lindqvist', 'Moreau', 'Tanaka'], 'mar', id)));
    variant('missing SSN, moved address', true, (p) => moved(p, id));
    variant('missing SSN, moved, new phone', true, (p) => {
      moved(p, id);
      newPhone(p, id);
    });
    variant('nickname or typo, missing SSN, moved (the sandbox case)', true, (p) => {
      official(p).given = [nick ? nick[0] + nick.slice(1).toLowerCase() : typo(given, `${id}s`)];
      moved(p, id);
    });
    variant('same SSN, nothing else changed', true, () => undefined, true);
    variant('typos in both names', true, (p) => {
      official(p).family = typo(family, `${id}bf`);
      official(p).given = [typo(given, `${id}bg`)];
    });
    if (base.gender === 'female') {
      variant('changed family name and moved (marriage)', true, (p) => {
        official(p).family = pick(['Carter', 'Lindqvist', 'Moreau', 'Tanaka'], 'mar2', id);
        moved(p, `${id}mar`);
      });
    }

    // Different people who look alike.
    const twinGiven = givenPool.find(
      (g) => g.gender === base.gender && g.given !== given && !areNicknames(foldName(g.given)!, foldName(given)!) && jaroWinkler(foldName(g.given)!, foldName(given)!) < 0.85,
    )!.given;
    variant('twin: same family, address, phone, birth date; other given name', false, (p) => {
      official(p).given = [twinGiven];
      p.name = [official(p)];
    });
    variant('same name and birth year, other person', false, (p) => {
      const month = String(((Number(m) + 4) % 12) + 1).padStart(2, '0');
      const day = String(((Number(d) + 9) % 28) + 1).padStart(2, '0');
      p.birthDate = `${y}-${month}-${day}`;
      moved(p, `${id}other`);
      newPhone(p, `${id}other`);
    });
    variant('household member: same family, address, phone; other given name, birth date, gender', false, (p) => {
      official(p).given = [twinGiven];
      p.name = [official(p)];
      p.birthDate = `${Number(y) + 3}-${m}-${d}`;
      p.gender = p.gender === 'male' ? 'female' : 'male';
    });
    variant('parent and child of the same name (Sr. and Jr.) at one address', false, (p) => {
      p.birthDate = `${Number(y) + 26}-${m}-${d}`;
    });
    variant('twin with a different SSN', false, (p) => {
      official(p).given = [twinGiven];
      p.name = [official(p)];
      p.identifier = [{ system: SSN, value: '999-00-0001' }];
    }, false);
  }

  // Every pair of distinct fixture patients, without SSN so that only demographics decide.
  for (let i = 0; i < fixtures.length; i++) {
    for (let j = i + 1; j < fixtures.length; j++) {
      pairs.push({ kind: 'two fixture patients', same: false, a: hospitalCopy(fixtures[i]!.patient, false), b: hospitalCopy(fixtures[j]!.patient, false) });
    }
  }
  return pairs;
}

describe('identity evaluation set', () => {
  it('auto-links with precision >= 0.99 and recall >= 0.95, and never links a twin', () => {
    const pairs = buildEvaluationSet();
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let possible = 0;
    const perKind = new Map<string, { n: number; linked: number; possible: number }>();
    const falseLinks: string[] = [];
    for (const pair of pairs) {
      const d = decideMatch(toMatchRecord(pair.a), toMatchRecord(pair.b), DEFAULT_MATCH_SETTINGS);
      const k = perKind.get(pair.kind) ?? { n: 0, linked: 0, possible: 0 };
      k.n++;
      if (d.outcome === 'link') k.linked++;
      if (d.outcome === 'possible') k.possible++;
      perKind.set(pair.kind, k);
      if (d.outcome === 'possible') possible++;
      if (d.outcome === 'link' && pair.same) tp++;
      else if (d.outcome === 'link') {
        fp++;
        falseLinks.push(`${pair.kind} (${d.score})`);
      } else if (pair.same) fn++;
    }
    const precision = tp / (tp + fp);
    const recall = tp / (tp + fn);
    const positives = pairs.filter((p) => p.same).length;
    const lines = [
      `identity evaluation: ${pairs.length} pairs (${positives} same person, ${pairs.length - positives} different people)`,
      `  auto-link precision ${precision.toFixed(4)}  recall ${recall.toFixed(4)}  (TP ${tp}, FP ${fp}, FN ${fn}; ${possible} possible matches)`,
      ...[...perKind].map(([kind, k]) => `  ${kind}: ${k.n} pairs, ${k.linked} linked, ${k.possible} possible`),
    ];
    console.log(lines.join('\n'));
    expect(falseLinks).toEqual([]);
    expect(precision).toBeGreaterThanOrEqual(0.99);
    expect(recall).toBeGreaterThanOrEqual(0.95);
    expect(perKind.get('twin: same family, address, phone, birth date; other given name')!.linked).toBe(0);
  });
});
