import type { Sandbox } from './index.js';

/** Values the demo's GraphiQL tabs start with, taken from the running sandbox's own data. */
export interface DemoExamples {
  /** A Mercy MRN of a patient both EHRs know. */
  value: string;
  /** That patient's family name (for searchPatients). */
  name: string;
}

/**
 * Picks a patient held by both EHRs and reads its family name from an EHR that needs no
 * token, so that the preloaded MRN and name always exist in the demo's data, whatever the
 * fixtures are.
 */
export async function demoExamples(sandbox: Sandbox): Promise<DemoExamples | undefined> {
  const patient = sandbox.truth.patients.find((p) => p.ehrs.mercy && p.ehrs.stjude);
  const mrn = patient?.ehrs.mercy?.mrn;
  if (!patient || !mrn) return undefined;
  const open = sandbox.ehrs.find((e) => !e.profile.requireAuth && patient.ehrs[e.id as keyof typeof patient.ehrs]);
  if (!open) return undefined;
  const record = patient.ehrs[open.id as keyof typeof patient.ehrs]!;
  const res = await fetch(`${open.baseUrl}/Patient/${encodeURIComponent(record.patientId)}`, { headers: { accept: 'application/fhir+json' } });
  if (!res.ok) return undefined;
  const resource = (await res.json()) as { name?: { use?: string; family?: string }[] };
  const family = (resource.name?.find((n) => n.use === 'official') ?? resource.name?.[0])?.family;
  return family ? { value: mrn, name: family } : undefined;
}
