import { normalizeQuantity } from '../../units/normalize-quantity.js';

/** A quantity as a FHIR resource sends it, with the code of what was measured. */
export interface QuantityInput {
  /** The observation's code (LOINC where it has one). */
  code: string;
  value: number;
  unit?: string;
  /** `Quantity.code` when `Quantity.system` is UCUM. */
  ucumCode?: string;
}

/**
 * The value cohorts store and compare: in the LOINC code's canonical UCUM unit where a
 * conversion is known (units/normalize-quantity.ts, the same function the graph's
 * `normalized` uses), otherwise as sent, with its UCUM code or unit text. Criteria go
 * through this function too, so a criterion in mmol/L matches a glucose sent in mg/dL.
 */
export function normalizeFactQuantity(q: QuantityInput): { value: number; unit: string | null } {
  const normalized = normalizeQuantity({ code: q.code, value: q.value, unit: q.unit, ucumCode: q.ucumCode });
  if (normalized) return normalized;
  return { value: q.value, unit: q.ucumCode?.trim() || q.unit?.trim() || null };
}
