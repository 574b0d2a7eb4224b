import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, FhirResource, Patient } from '../datasources/fhir/fhir-types.js';
import { makePopulation, type PersonRelation } from './population.js';

/** One Synthea patient: its Patient resource and every resource of its bundle. */
export interface FixturePatient {
  /** Bundle file name, e.g. `Buster_Hoeger_ad2e...json`. */
  file: string;
  /** The Patient's id in the bundle (a UUID). */
  patientId: string;
  patient: Patient;
  /** Every resource of the bundle, the Patient included, in bundle order. */
  resources: FhirResource[];
  /**
   * For a person made as a hard negative: who they resemble (a twin, a spouse sharing the
   * household, a look-alike of the same name), by that person's `patientId`. Absent for
   * everyone else.
   */
  relation?: PersonRelation;
}

/** Options for {@link loadFixtures}. */
export interface LoadFixturesOptions {
  /** Folder of bundles; default from {@link resolveFixturesDir}. */
  dir?: string;
  /** Load only the first N bundles (by file name). */
  maxPatients?: number;
  /**
   * At least this many patients: when the folder holds fewer, distinct people are made
   * from the bundles (benchmarks of 50-patient dashboards over the 30 shared fixtures).
   */
  minPatients?: number;
  /**
   * Made people carry their Patient resource only (identity evaluations of 10,000 people,
   * which need no charts). The loaded bundles are returned whole all the same.
   */
  patientsOnly?: boolean;
}

/** Repository root: the parent of `sandbox/` in source, of `dist/sandbox/` when compiled. */
export function repoRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const parent = path.dirname(here);
  return path.basename(parent) === 'dist' ? path.dirname(parent) : parent;
}

/** The subset of bundles shipped with the repository (with its NOTICE). */
export function shippedFixturesDir(): string {
  return path.join(repoRoot(), 'sandbox', 'fixtures', 'synthea-r4');
}

/**
 * Where fixture bundles are read from: `explicit`, else `CHARTGRAPH_FIXTURES`, else the
 * shared folder beside the repository (`../shared/fixtures/synthea-r4`) when it exists,
 * else the shipped subset.
 */
export function resolveFixturesDir(explicit?: string): string {
  if (explicit) return path.resolve(explicit);
  const fromEnv = process.env.CHARTGRAPH_FIXTURES;
  if (fromEnv) return path.resolve(fromEnv);
  const shared = path.resolve(repoRoot(), '..', 'shared', 'fixtures', 'synthea-r4');
  if (existsSync(shared) && listBundleFiles(shared).length > 0) return shared;
  return shippedFixturesDir();
}

function listBundleFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

const parsed = new Map<string, FixturePatient>();

function loadBundleFile(dir: string, file: string): FixturePatient {
  const full = path.join(dir, file);
  const cached = parsed.get(full);
  if (cached) return cached;
  const bundle = JSON.parse(readFileSync(full, 'utf8')) as Bundle;
  const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is FhirResource => !!r);
  const patient = resources.find((r): r is Patient => r.resourceType === 'Patient');
  // File names are not patient data, but keep the message to the file name all the same.
  if (!patient?.id) throw new Error(`fixture bundle ${file} holds no Patient with an id`);
  const fixture: FixturePatient = { file, patientId: patient.id, patient, resources };
  parsed.set(full, fixture);
  return fixture;
}

/**
 * Loads Synthea patient bundles, sorted by file name. Parsed bundles are kept for the
 * life of the process (they are never mutated), so loading twice costs nothing. With
 * `minPatients` above the number of bundles, distinct people are made from them (see
 * `population.ts`): the loaded bundles come first, unchanged.
 */
export function loadFixtures(opts: LoadFixturesOptions = {}): FixturePatient[] {
  const dir = resolveFixturesDir(opts.dir);
  let files = listBundleFiles(dir);
  if (opts.maxPatients !== undefined) files = files.slice(0, Math.max(0, opts.maxPatients));
  const loaded = files.map((f) => loadBundleFile(dir, f));
  const out = [...loaded];
  const target = opts.minPatients ?? 0;
  if (loaded.length === 0 || out.length >= target) return out;
  out.push(...makePopulation(loaded, target, opts.patientsOnly ?? false));
  return out;
}
