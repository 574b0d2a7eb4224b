import ucum from '@lhncbc/ucum-lhc';
import { CANONICAL_UNITS, UNIT_SPELLINGS, type CanonicalUnit } from './canonical-units.js';

/** What {@link normalizeQuantity} reads: a FHIR Quantity and the LOINC code of what it measures. */
export interface QuantityInput {
  /** LOINC code of the observation (or component) the value belongs to. */
  code?: string;
  value: number;
  /** The unit as the source shows it (`Quantity.unit`). */
  unit?: string;
  /** The UCUM code (`Quantity.code` when `Quantity.system` is UCUM or absent). */
  ucumCode?: string;
}

/** A value in its LOINC code's canonical UCUM unit. */
export interface NormalizedQuantity {
  value: number;
  unit: string;
}

const utils = ucum.UcumLhcUtils.getInstance();

/** Significant digits of a normalised value: beyond any lab's precision, short of float noise. */
const SIGNIFICANT_DIGITS = 6;

type Converter = (value: number) => number | undefined;

// Asking the library costs ~20 us a value; a dashboard maps tens of thousands. Converters
// are worked out once per (from, to, substance) and reused. Units come from upstreams, so
// the memo is bounded: when full it starts again rather than growing without end.
const MAX_CONVERTERS = 2_000;
const converters = new Map<string, Converter | null>();

/**
 * The value of a Quantity in the one canonical UCUM unit of its LOINC code
 * (see `CANONICAL_UNITS`), converted by the UCUM library, including mass <-> moles
 * (glucose mg/dL <-> mmol/L) and equivalents <-> moles where the code's analyte has a
 * molecular weight or charge. Undefined when the code has no canonical unit, the value
 * is not a finite number, the unit is missing or not UCUM, or the units are not
 * commensurable. Values are rounded to six significant digits (beyond any lab's
 * precision), converted or not, so that one result sent in two units compares equal.
 */
export function normalizeQuantity(input: QuantityInput): NormalizedQuantity | undefined {
  if (input.code === undefined || !Number.isFinite(input.value)) return undefined;
  const target = CANONICAL_UNITS[input.code];
  if (!target) return undefined;
  const from = sourceUnit(input);
  if (from === undefined) return undefined;
  let value: number | undefined = input.value;
  if (from !== target.unit) {
    if (target.sameUnitOnly) return undefined;
    value = converterFor(from, target)?.(input.value);
    if (value === undefined || !Number.isFinite(value)) return undefined;
  }
  // Rounded whether converted or not: the same result sent in two units must compare equal.
  return { value: Number(value.toPrecision(SIGNIFICANT_DIGITS)), unit: target.unit };
}

/** The UCUM code to convert from: the Quantity's code, else its unit text when that is (or spells) a UCUM code. */
function sourceUnit(input: QuantityInput): string | undefined {
  const code = input.ucumCode?.trim();
  const raw = code || input.unit?.trim();
  if (!raw) return undefined;
  // Micro signs are not UCUM (`u` is), but sources write them.
  const unit = raw.replace(/[\u00b5\u03bc]/g, 'u');
  return code ? unit : (UNIT_SPELLINGS[unit] ?? unit);
}

function converterFor(from: string, target: CanonicalUnit): Converter | null {
  const key = `${from}\u0000${target.unit}\u0000${target.molecularWeight ?? ''}\u0000${target.charge ?? ''}`;
  let converter = converters.get(key);
  if (converter === undefined) {
    converter = buildConverter(from, target);
    if (converters.size >= MAX_CONVERTERS) converters.clear();
    converters.set(key, converter);
  }
  return converter;
}

/**
 * A converter for one unit pair. Where the library's conversion is proportional (every
 * pair except special units such as Cel and [degF]), its factor for 1 is reused; the
 * proportionality is checked on the library's own answers, not assumed.
 */
function buildConverter(from: string, target: CanonicalUnit): Converter | null {
  const ask = (value: number): number | undefined => {
    const result = utils.convertUnitTo(from, value, target.unit, {
      molecularWeight: target.molecularWeight ?? null,
      charge: target.charge ?? null,
    });
    return result.status === 'succeeded' && typeof result.toVal === 'number' ? result.toVal : undefined;
  };
  const one = ask(1);
  if (one === undefined) return null;
  const zero = ask(0);
  const ten = ask(10);
  const proportional = zero === 0 && ten !== undefined && Math.abs(ten - 10 * one) <= 1e-9 * Math.abs(ten);
  return proportional ? (value) => value * one : ask;
}
