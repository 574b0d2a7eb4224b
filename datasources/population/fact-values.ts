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
 * The value cohorts store and compare: the canonical unit of the code where a conversion is
 * known. Criteria go through the same function, so a criterion in mmol/mol matches a value
 * sent in %.
 */
export function normalizeFactQuantity(q: QuantityInput): { value: number; unit: string | null } {
  return { value: q.value, unit: q.ucumCode ?? q.unit ?? null };
}
