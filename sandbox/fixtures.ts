import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, FhirResource, Patient } from '../datasources/fhir/fhir-types.js';

/** One Synthea patient: its Patient resource and every resource of its bundle. */
export interface FixturePatient {
  /** Bundle file name, e.g. `Buster_Hoeger_ad2e...json`. */
  file: string;
  /** The Patient's id in the bundle (a UUID). */
  patientId: string;
  patient: Patient;
  /** Every resource of the bundle, the Patient included, in bundle order. */
  resources: FhirResource[];
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
 * life of the process (they are never mutated), so loading twice costs nothing.
 */
export function loadFixtures(opts: LoadFixturesOptions = {}): FixturePatient[] {
  const dir = resolveFixturesDir(opts.dir);
  let files = listBundleFiles(dir);
  if (opts.maxPatients !== undefined) files = files.slice(0, Math.max(0, opts.maxPatients));
  const loaded = files.map((f) => loadBundleFile(dir, f));
  const out = [...loaded];
  for (let i = 0; loaded.length > 0 && out.length < (opts.minPatients ?? 0); i++) {
    out.push(makeVariant(loaded[i % loaded.length]!, Math.floor(i / loaded.length) + 1));
  }
  return out;
}

const UUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;

/**
 * `text` with every occurrence of a resource id followed by `suffix`. Synthea ids are UUIDs:
 * one pass over the text finds them all (a search per id over the whole text was quadratic:
 * a minute for 1,000 patients). Ids of other shapes are replaced one by one.
 */
function suffixIds(text: string, resources: readonly FhirResource[], suffix: string): string {
  const ids = new Set<string>();
  const others: string[] = [];
  for (const r of resources) {
    if (!r.id) continue;
    if (/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(r.id)) ids.add(r.id);
    else others.push(r.id);
  }
  let out = text.replace(UUID, (m) => (ids.has(m) ? `${m}${suffix}` : m));
  for (const id of others) out = out.split(id).join(`${id}${suffix}`);
  return out;
}

/**
 * Another person made from a bundle: every resource id (and so every reference) gets a
 * suffix, and the SSN, given name and birth year change, so no matcher could take the
 * two for one person.
 */
function makeVariant(source: FixturePatient, n: number): FixturePatient {
  const resources = JSON.parse(suffixIds(JSON.stringify(source.resources), source.resources, `-v${n}`)) as FhirResource[];
  const patient = resources.find((r): r is Patient => r.resourceType === 'Patient')!;
  for (const id of patient.identifier ?? []) {
    if (id.system === 'http://hl7.org/fhir/sid/us-ssn' && id.value) id.value = `9${String(n).padStart(2, '0')}${id.value.slice(3)}`;
  }
  for (const name of patient.name ?? []) name.given = (name.given ?? []).map((g, i) => (i === 0 ? `${g}${'x'.repeat(n)}` : g));
  if (patient.birthDate) patient.birthDate = `${Number(patient.birthDate.slice(0, 4)) - n}${patient.birthDate.slice(4)}`;
  return { file: `${source.file.replace(/\.json$/, '')}-v${n}.json`, patientId: patient.id!, patient, resources };
}
