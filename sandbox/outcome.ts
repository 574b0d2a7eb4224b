import type { OperationOutcome } from '../datasources/fhir/fhir-types.js';

/** A one-issue OperationOutcome, as FHIR servers answer errors. Never put patient data in `diagnostics`. */
export function operationOutcome(code: string, diagnostics: string, severity: 'error' | 'fatal' | 'warning' | 'information' = 'error'): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code: code as 'invalid', diagnostics }] };
}
