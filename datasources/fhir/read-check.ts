import { UpstreamInvalidResponseError, type InvalidResponseReason } from '../../errors/errors.js';
import type { FhirResource } from './fhir-types.js';
import { malformation } from './resource-validation.js';

/**
 * Checks the answer of `GET [base]/[type]/[id]`: it must be that type, carry the id that
 * was asked (a server answering another patient's record is a safety failure, not a
 * detail) and, with `structure`, be well formed. Throws an
 * {@link UpstreamInvalidResponseError} otherwise.
 */
export function checkReadAnswer(sourceId: string, resourceType: string, id: string, resource: FhirResource, opts: { structure?: boolean } = {}): void {
  if (resource.resourceType !== resourceType) throw new UpstreamInvalidResponseError(sourceId, 'wrong-type', 1);
  if (resource.id !== id) throw new UpstreamInvalidResponseError(sourceId, 'read-id-mismatch', 1);
  if ((opts.structure ?? true) && malformation(resource) !== undefined) throw new UpstreamInvalidResponseError(sourceId, 'malformed', 1);
}

/** The violation an error stands for, as an upstream call reports it; empty for other errors. */
export function violationsOf(err: unknown): { reason: InvalidResponseReason; count: number }[] {
  return err instanceof UpstreamInvalidResponseError ? [{ reason: err.violation, count: err.count }] : [];
}
