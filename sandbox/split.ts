import type { Coverage, ExplanationOfBenefit, Identifier } from '@medplum/fhirtypes';
import type { FhirResource, Patient } from '../datasources/fhir/fhir-types.js';
import { CLINICAL_TYPES } from '../datasources/fhir/fhir-types.js';
import { applyCrossHospitalVariations, type VariationKind } from './cross-hospital.js';
import { CROSS_HOSPITAL_RATES } from './demographic-variants.js';
import { loadFixtures, resolveFixturesDir, type FixturePatient } from './fixtures.js';
import { hashDigits, hashHex, hashUnit } from './hash.js';

/** The two simulated EHRs. */
export const EHR_IDS = ['mercy', 'stjude'] as const;
export type EhrId = (typeof EHR_IDS)[number];

/** Fixed facts about each simulated EHR. */
export const EHR_INFO: Readonly<Record<EhrId, { name: string; mrnSystem: string }>> = {
  mercy: { name: 'Mercy Hospital', mrnSystem: 'http://mercy.example/fhir/mrn' },
  stjude: { name: 'St. Jude Medical Center', mrnSystem: 'http://stjude.example/fhir/mrn' },
};

export const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';
const SYNTHEA_ID_SYSTEM = 'https://github.com/synthetichealth/synthea';

/** Clinical types split between the EHRs (Coverage is derived, see {@link SplitOptions}): the ones chartgraph reads. */
export const SPLIT_CLINICAL_TYPES = CLINICAL_TYPES;
const CLINICAL = new Set<string>(SPLIT_CLINICAL_TYPES);
/** Reference data every EHR holds its own copy of, so that references resolve. */
const SHARED_TYPES = new Set(['Organization', 'Practitioner']);

/** Options for {@link splitFixtures}. */
export interface SplitOptions {
  /** Fixture folder (see `resolveFixturesDir`). */
  fixturesDir?: string;
  /** Only the first N fixture patients (by file name). */
  maxPatients?: number;
  /** At least this many patients, made from the fixtures when there are fewer (see `loadFixtures`). */
  minPatients?: number;
  /**
   * Synthea puts coverage only inside ExplanationOfBenefit (contained). When true (default)
   * and a bundle holds no Coverage, one Coverage per patient is derived from its latest
   * insured claim, so that the EHRs serve Coverage as real ones do.
   */
  deriveCoverage?: boolean;
  /** Patients only, no clinical resources or Coverage (identity evaluations at scale). */
  patientsOnly?: boolean;
}

/** What one EHR holds for one fixture patient. */
export interface TruthEhrRecord {
  /** The Patient id in this EHR. */
  patientId: string;
  /** The MRN value under this EHR's MRN system. */
  mrn: string;
  /** Whether this EHR's Patient carries the SSN identifier. */
  hasSsn: boolean;
  /** Given name differs from the fixture (nickname or formal form). */
  nickname: boolean;
  /** Address differs from the fixture (the patient moved). */
  movedAddress: boolean;
  /** Every way this record differs from the person's first-hospital record (none in Mercy). */
  variations: VariationKind[];
  /** Resources of this patient in this EHR, by type (Patient included). */
  counts: Record<string, number>;
}

/** Ground truth about one fixture patient, for tests and benchmarks. */
export interface TruthPatient {
  fixtureFile: string;
  fixturePatientId: string;
  /** The fixture's SSN, when it has one. */
  ssn?: string;
  /** Which EHRs hold this patient. */
  ehrIds: EhrId[];
  ehrs: Partial<Record<EhrId, TruthEhrRecord>>;
  /** Clinical resources of this patient held by both EHRs (the same item twice). */
  sharedItems: number;
  /**
   * A regular person, or a hard negative made to resemble another person (`of`, that
   * person's `fixturePatientId`): a twin, a household member, a look-alike of the same name.
   */
  kind: 'regular' | 'twin' | 'household' | 'lookalike';
  of?: string;
}

/** Ground truth of a split. */
export interface SplitTruth {
  patients: TruthPatient[];
  /** Per EHR: fixture resource id -> that EHR's id (only for resources the EHR holds). */
  idMap: Record<EhrId, ReadonlyMap<string, string>>;
  /** Resources per EHR by type, over all patients (Organization and Practitioner included). */
  totals: Record<EhrId, Record<string, number>>;
}

/** All resources of one EHR. Treat as read-only: the split is shared by every caller. */
export interface EhrDataset {
  ehrId: EhrId;
  resources: FhirResource[];
}

/** The result of {@link splitFixtures}. */
export interface SplitResult {
  fixturesDir: string;
  ehrs: Record<EhrId, EhrDataset>;
  truth: SplitTruth;
}

type Placement = EhrId | 'both';

/** Deterministic per-EHR resource id: a short hash with an EHR-specific prefix. */
export function ehrResourceId(ehrId: EhrId, resourceType: string, fixtureId: string): string {
  const h = hashHex(ehrId, resourceType, fixtureId);
  return ehrId === 'mercy' ? `m${h.slice(0, 15)}` : `sj-${h.slice(0, 13)}`;
}

function placeByHash(key: string): EhrId {
  return hashUnit('side', key) < 0.55 ? 'mercy' : 'stjude';
}

/** ~10% of items are recorded by both hospitals, so the gateway has duplicates to merge. */
function isSharedItem(key: string): boolean {
  return hashUnit('both', key) < 0.1;
}

const memo = new Map<string, SplitResult>();

/**
 * Splits every fixture patient across the two EHRs. Deterministic (hashes of ids only),
 * computed once per process per options.
 */
export function splitFixtures(opts: SplitOptions = {}): SplitResult {
  const fixturesDir = resolveFixturesDir(opts.fixturesDir);
  const deriveCoverage = opts.deriveCoverage ?? true;
  const patientsOnly = opts.patientsOnly ?? false;
  const key = JSON.stringify([fixturesDir, opts.maxPatients ?? null, opts.minPatients ?? null, deriveCoverage, patientsOnly]);
  const hit = memo.get(key);
  if (hit) return hit;
  const fixtures = loadFixtures({ dir: fixturesDir, maxPatients: opts.maxPatients, minPatients: opts.minPatients, patientsOnly });
  const result = computeSplit(fixturesDir, fixtures, deriveCoverage && !patientsOnly, patientsOnly);
  memo.set(key, result);
  return result;
}

interface PatientPlan {
  fixture: FixturePatient;
  onlyMercy: boolean;
  resources: FhirResource[];
  placement: Map<string, Placement>;
}

function computeSplit(fixturesDir: string, fixtures: FixturePatient[], deriveCoverage: boolean, patientsOnly: boolean): SplitResult {
  // Fixture id (urn:uuid) -> resource type, over all bundles, to resolve references.
  const typeOf = new Map<string, string>();
  const plans: PatientPlan[] = [];
  for (const fixture of fixtures) {
    const resources = patientsOnly ? [fixture.patient] : [...fixture.resources];
    if (deriveCoverage && !resources.some((r) => r.resourceType === 'Coverage')) {
      const cov = deriveCoverageResource(fixture);
      if (cov) resources.push(cov);
    }
    for (const r of resources) if (r.id) typeOf.set(r.id, r.resourceType);
    plans.push({
      fixture,
      onlyMercy: hashUnit('only-mercy', fixture.patientId) < CROSS_HOSPITAL_RATES.onlyFirstHospital.rate,
      resources,
      placement: planPlacement(resources),
    });
  }

  const idMap: Record<EhrId, Map<string, string>> = { mercy: new Map(), stjude: new Map() };
  const out: Record<EhrId, FhirResource[]> = { mercy: [], stjude: [] };
  const totals: Record<EhrId, Record<string, number>> = { mercy: {}, stjude: {} };

  // First decide which EHR holds what, so that references can be resolved or dropped.
  for (const plan of plans) {
    for (const r of plan.resources) {
      if (!r.id) continue;
      for (const ehr of holders(plan, r)) idMap[ehr].set(r.id, ehrResourceId(ehr, r.resourceType, r.id));
    }
  }

  const mrnsSeen: Record<EhrId, Set<string>> = { mercy: new Set(), stjude: new Set() };
  const truthPatients: TruthPatient[] = [];
  const sharedDone: Record<EhrId, Set<string>> = { mercy: new Set(), stjude: new Set() };

  for (const plan of plans) {
    const { fixture } = plan;
    const ssn = fixture.patient.identifier?.find((i) => i.system === SSN_SYSTEM)?.value;
    const truth: TruthPatient = {
      fixtureFile: fixture.file,
      fixturePatientId: fixture.patientId,
      ...(ssn && { ssn }),
      ehrIds: plan.onlyMercy ? ['mercy'] : ['mercy', 'stjude'],
      ehrs: {},
      sharedItems: 0,
      kind: fixture.relation?.kind ?? 'regular',
      ...(fixture.relation && { of: fixture.relation.of }),
    };
    for (const ehr of truth.ehrIds) {
      const counts: Record<string, number> = {};
      const mrn = uniqueMrn(ehr, fixture.patientId, mrnsSeen[ehr]);
      let record: TruthEhrRecord | undefined;
      for (const r of plan.resources) {
        if (!r.id || !holders(plan, r).includes(ehr)) continue;
        if (SHARED_TYPES.has(r.resourceType)) {
          // Practitioners and organisations repeat across bundles: one copy per EHR.
          if (sharedDone[ehr].has(r.id)) continue;
          sharedDone[ehr].add(r.id);
        }
        const copy = rewriteResource(r, ehr, idMap[ehr], typeOf);
        if (copy.resourceType === 'Patient') {
          const variations = applyPatientVariant(copy as Patient, ehr, fixture.patientId, mrn);
          record = {
            patientId: copy.id!,
            mrn,
            hasSsn: (copy as Patient).identifier?.some((i) => i.system === SSN_SYSTEM) ?? false,
            nickname: variations.includes('nickname'),
            movedAddress: variations.includes('moved'),
            variations,
            counts,
          };
        }
        out[ehr].push(copy);
        totals[ehr][r.resourceType] = (totals[ehr][r.resourceType] ?? 0) + 1;
        if (!SHARED_TYPES.has(r.resourceType)) counts[r.resourceType] = (counts[r.resourceType] ?? 0) + 1;
      }
      if (record) truth.ehrs[ehr] = record;
    }
    truth.sharedItems = plan.resources.filter((r) => CLINICAL.has(r.resourceType) && holders(plan, r).length === 2).length;
    truthPatients.push(truth);
  }

  return {
    fixturesDir,
    ehrs: { mercy: { ehrId: 'mercy', resources: out.mercy }, stjude: { ehrId: 'stjude', resources: out.stjude } },
    truth: { patients: truthPatients, idMap, totals },
  };
}

function holders(plan: PatientPlan, r: FhirResource): EhrId[] {
  if (plan.onlyMercy) return r.resourceType === 'Patient' || CLINICAL.has(r.resourceType) || SHARED_TYPES.has(r.resourceType) ? ['mercy'] : [];
  if (r.resourceType === 'Patient' || SHARED_TYPES.has(r.resourceType)) return ['mercy', 'stjude'];
  const p = plan.placement.get(r.id!);
  if (!p) return [];
  return p === 'both' ? ['mercy', 'stjude'] : [p];
}

/**
 * Items follow their encounter (what happened at a visit is charted where the visit was),
 * except ~10% that both hospitals record.
 */
function planPlacement(resources: FhirResource[]): Map<string, Placement> {
  const placement = new Map<string, Placement>();
  for (const r of resources) {
    if (r.resourceType !== 'Encounter' || !r.id) continue;
    placement.set(r.id, isSharedItem(r.id) ? 'both' : placeByHash(r.id));
  }
  for (const r of resources) {
    if (!r.id || r.resourceType === 'Encounter' || !CLINICAL.has(r.resourceType)) continue;
    if (isSharedItem(r.id)) {
      placement.set(r.id, 'both');
      continue;
    }
    const encRef = (r as { encounter?: { reference?: string } }).encounter?.reference;
    const enc = encRef ? placement.get(stripUrn(encRef)) : undefined;
    placement.set(r.id, enc && enc !== 'both' ? enc : placeByHash(r.id));
  }
  return placement;
}

function stripUrn(ref: string): string {
  return ref.startsWith('urn:uuid:') ? ref.slice(9) : ref;
}

const LAST_UPDATED_BASE = Date.UTC(2025, 0, 1);

/** A deep copy with this EHR's ids, references and meta. Unresolvable references are dropped. */
function rewriteResource(r: FhirResource, ehr: EhrId, ids: ReadonlyMap<string, string>, typeOf: ReadonlyMap<string, string>): FhirResource {
  const copy = rewriteValue(r, ids, typeOf) as FhirResource;
  copy.id = ids.get(r.id!)!;
  const lastUpdated = new Date(LAST_UPDATED_BASE + Math.floor(hashUnit('lu', ehr, r.id!) * 300 * 86_400) * 1000).toISOString();
  copy.meta = {
    ...(r.meta ?? {}),
    versionId: String(1 + Math.floor(hashUnit('ver', ehr, r.id!) * 3)),
    lastUpdated,
  };
  return copy;
}

function rewriteValue(v: unknown, ids: ReadonlyMap<string, string>, typeOf: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(v)) {
    const arr = v.map((x) => rewriteValue(x, ids, typeOf)).filter((x) => x !== undefined);
    return arr.length ? arr : undefined;
  }
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'reference' && typeof x === 'string' && x.startsWith('urn:uuid:')) {
      const target = x.slice(9);
      const id = ids.get(target);
      if (id) out[k] = `${typeOf.get(target)}/${id}`;
      // Not held by this EHR: keep only the display, as an EHR would for an outside item.
      continue;
    }
    const y = rewriteValue(x, ids, typeOf);
    if (y !== undefined) out[k] = y;
  }
  return Object.keys(out).length ? out : undefined;
}

function uniqueMrn(ehr: EhrId, patientId: string, seen: Set<string>): string {
  for (let i = 0; ; i++) {
    const mrn = ehr === 'mercy' ? `M${hashDigits(7, 'mrn', ehr, patientId, String(i))}` : `SJ${hashDigits(8, 'mrn', ehr, patientId, String(i))}`;
    if (!seen.has(mrn)) {
      seen.add(mrn);
      return mrn;
    }
  }
}

/**
 * Replaces the MRN and drops Synthea's cross-hospital id; in St. Jude, applies the
 * demographic differences of `cross-hospital.ts`. Mutates `p`; returns the variations.
 */
function applyPatientVariant(p: Patient, ehr: EhrId, fixturePatientId: string, mrn: string): VariationKind[] {
  const identifiers: Identifier[] = [];
  for (const id of p.identifier ?? []) {
    if (id.system === SYNTHEA_ID_SYSTEM) continue; // a cross-hospital key no real EHR shares
    if (id.type?.coding?.some((c) => c.code === 'MR')) {
      identifiers.push({ ...id, system: EHR_INFO[ehr].mrnSystem, value: mrn });
      continue;
    }
    identifiers.push(id);
  }
  p.identifier = identifiers;
  return ehr === 'stjude' ? applyCrossHospitalVariations(p, fixturePatientId) : [];
}

/** One Coverage from the patient's latest insured claim (Synthea keeps coverage inside EOBs). */
function deriveCoverageResource(fixture: FixturePatient): Coverage | undefined {
  let latest: { kind: string; start: string } | undefined;
  let first: string | undefined;
  for (const r of fixture.resources) {
    if (r.resourceType !== 'ExplanationOfBenefit') continue;
    const eob = r as ExplanationOfBenefit;
    const kind = eob.insurance?.[0]?.coverage?.display;
    const start = eob.billablePeriod?.start;
    if (!kind || kind === 'no_insurance' || !start) continue;
    if (!latest || start > latest.start) latest = { kind, start };
  }
  if (!latest) return undefined;
  for (const r of fixture.resources) {
    const eob = r as ExplanationOfBenefit;
    if (r.resourceType === 'ExplanationOfBenefit' && eob.insurance?.[0]?.coverage?.display === latest.kind) {
      const s = eob.billablePeriod?.start;
      if (s && (!first || s < first)) first = s;
    }
  }
  const medicaid = latest.kind === 'medicaid';
  return {
    resourceType: 'Coverage',
    id: `coverage-${hashHex('coverage', fixture.patientId, latest.kind).slice(0, 24)}`,
    status: 'active',
    type: {
      coding: [
        medicaid
          ? { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'SUBSIDIZ', display: 'subsidized health program' }
          : { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIP', display: 'health insurance plan policy' },
      ],
      text: latest.kind,
    },
    subscriberId: `W${hashDigits(9, 'member', fixture.patientId)}`,
    beneficiary: { reference: `urn:uuid:${fixture.patientId}` },
    relationship: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/subscriber-relationship', code: 'self' }] },
    ...(first && { period: { start: first.slice(0, 10) } }),
    payor: [{ display: medicaid ? 'Medicaid' : 'Acme Health Plan' }],
  };
}
