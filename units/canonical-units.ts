/**
 * The canonical UCUM unit chartgraph normalises each LOINC code to, and for substances
 * reported both as mass and as amount of substance the molecular weight (g/mol) that
 * UCUM needs to go between the two. The conversion factors themselves come from the UCUM
 * library; this table only says where to go.
 *
 * Why these units: the LOINC code's own property decides (a `MCnc` code such as 2345-7
 * is a mass concentration, so mg/dL, the unit of LOINC's example answer and of US labs;
 * a `SCnc` code such as 14749-6 is a substance concentration, so mmol/L or umol/L). A
 * source that sends the mass code with a molar unit (common: one LOINC code used for
 * the hospital's local test whatever unit the analyser reports) is still converted to
 * the code's own unit, using the molecular weight below.
 *
 * Molecular weights are of the analyte as laboratories report it: glucose C6H12O6;
 * creatinine C4H7N3O; cholesterol C27H46O; triglycerides as triolein (the convention
 * behind the usual 0.01129 factor); urea nitrogen as N2, since BUN reports the nitrogen
 * of urea (two atoms per molecule); calcium, uric acid, bilirubin as the molecules.
 */
export interface CanonicalUnit {
  /** UCUM code values of this LOINC code are normalised to. */
  unit: string;
  /** g/mol, for mass <-> moles conversions; absent where the analyte has none. */
  molecularWeight?: number;
  /** Absolute ionic charge, for equivalents (mEq/L) <-> moles. */
  charge?: number;
  /**
   * Only values already in `unit` are normalised: other units of the same dimension are a
   * different scale, not a different unit (HbA1c in IFCC mmol/mol is not NGSP % / 10).
   */
  sameUnitOnly?: boolean;
}

const GLUCOSE = 180.156;
const CREATININE = 113.12;
const CHOLESTEROL = 386.65;
const TRIGLYCERIDE = 885.7;
const UREA_NITROGEN = 28.014;
const CALCIUM = 40.078;
const URIC_ACID = 168.11;
const BILIRUBIN = 584.66;

/** LOINC code -> canonical unit. Codes not listed have no normalised value. */
export const CANONICAL_UNITS: Readonly<Record<string, CanonicalUnit>> = {
  // Glucose: mass-concentration codes in mg/dL, substance-concentration codes in mmol/L.
  '2339-0': { unit: 'mg/dL', molecularWeight: GLUCOSE }, // Glucose [Mass/volume] in Blood
  '2345-7': { unit: 'mg/dL', molecularWeight: GLUCOSE }, // Glucose [Mass/volume] in Serum or Plasma
  '1558-6': { unit: 'mg/dL', molecularWeight: GLUCOSE }, // Fasting glucose [Mass/volume] in Serum or Plasma
  '15074-8': { unit: 'mmol/L', molecularWeight: GLUCOSE }, // Glucose [Moles/volume] in Blood
  '14749-6': { unit: 'mmol/L', molecularWeight: GLUCOSE }, // Glucose [Moles/volume] in Serum or Plasma
  // Creatinine.
  '2160-0': { unit: 'mg/dL', molecularWeight: CREATININE }, // Creatinine [Mass/volume] in Serum or Plasma
  '38483-4': { unit: 'mg/dL', molecularWeight: CREATININE }, // Creatinine [Mass/volume] in Blood
  '14682-9': { unit: 'umol/L', molecularWeight: CREATININE }, // Creatinine [Moles/volume] in Serum or Plasma
  // Lipids.
  '2093-3': { unit: 'mg/dL', molecularWeight: CHOLESTEROL }, // Cholesterol [Mass/volume] in Serum or Plasma
  '2085-9': { unit: 'mg/dL', molecularWeight: CHOLESTEROL }, // HDL Cholesterol
  '18262-6': { unit: 'mg/dL', molecularWeight: CHOLESTEROL }, // LDL Cholesterol (direct)
  '13457-7': { unit: 'mg/dL', molecularWeight: CHOLESTEROL }, // LDL Cholesterol (calculated)
  '14647-2': { unit: 'mmol/L', molecularWeight: CHOLESTEROL }, // Cholesterol [Moles/volume] in Serum or Plasma
  '2571-8': { unit: 'mg/dL', molecularWeight: TRIGLYCERIDE }, // Triglyceride [Mass/volume] in Serum or Plasma
  '14927-8': { unit: 'mmol/L', molecularWeight: TRIGLYCERIDE }, // Triglyceride [Moles/volume] in Serum or Plasma
  // Chemistry.
  '6299-2': { unit: 'mg/dL', molecularWeight: UREA_NITROGEN }, // Urea nitrogen [Mass/volume] in Blood
  '3094-0': { unit: 'mg/dL', molecularWeight: UREA_NITROGEN }, // Urea nitrogen [Mass/volume] in Serum or Plasma
  '49765-1': { unit: 'mg/dL', molecularWeight: CALCIUM, charge: 2 }, // Calcium [Mass/volume] in Blood
  '17861-6': { unit: 'mg/dL', molecularWeight: CALCIUM, charge: 2 }, // Calcium [Mass/volume] in Serum or Plasma
  '3084-1': { unit: 'mg/dL', molecularWeight: URIC_ACID }, // Urate [Mass/volume] in Serum or Plasma
  '1975-2': { unit: 'mg/dL', molecularWeight: BILIRUBIN }, // Bilirubin.total [Mass/volume] in Serum or Plasma
  // Electrolytes: amount of substance; mEq/L arrives too and converts by the ion's charge.
  '2947-0': { unit: 'mmol/L', charge: 1 }, // Sodium [Moles/volume] in Blood
  '2951-2': { unit: 'mmol/L', charge: 1 }, // Sodium [Moles/volume] in Serum or Plasma
  '6298-4': { unit: 'mmol/L', charge: 1 }, // Potassium [Moles/volume] in Blood
  '2823-3': { unit: 'mmol/L', charge: 1 }, // Potassium [Moles/volume] in Serum or Plasma
  '2069-3': { unit: 'mmol/L', charge: 1 }, // Chloride [Moles/volume] in Blood
  '2075-0': { unit: 'mmol/L', charge: 1 }, // Chloride [Moles/volume] in Serum or Plasma
  '20565-8': { unit: 'mmol/L', charge: 1 }, // Carbon dioxide, total [Moles/volume] in Blood
  '2028-9': { unit: 'mmol/L', charge: 1 }, // Carbon dioxide, total [Moles/volume] in Serum or Plasma
  // Haematology: g/dL is what LOINC's mass-concentration examples and most labs use.
  '718-7': { unit: 'g/dL' }, // Hemoglobin [Mass/volume] in Blood
  '786-4': { unit: 'g/dL' }, // MCHC
  '4548-4': { unit: '%', sameUnitOnly: true }, // Hemoglobin A1c/Hemoglobin.total in Blood (NGSP %; IFCC mmol/mol has its own code, 59261-8)
  '4544-3': { unit: '%' }, // Hematocrit [Volume Fraction] of Blood
  '6690-2': { unit: '10*3/uL' }, // Leukocytes [#/volume] in Blood
  '777-3': { unit: '10*3/uL' }, // Platelets [#/volume] in Blood
  '789-8': { unit: '10*6/uL' }, // Erythrocytes [#/volume] in Blood
  '33914-3': { unit: 'mL/min/{1.73_m2}' }, // eGFR (MDRD)
  '14959-1': { unit: 'mg/g' }, // Microalbumin/Creatinine [Mass Ratio] in Urine
  // Vital signs: the units of the FHIR vital-signs profile.
  '8302-2': { unit: 'cm' }, // Body height
  '29463-7': { unit: 'kg' }, // Body weight
  '39156-5': { unit: 'kg/m2' }, // Body mass index
  '8480-6': { unit: 'mm[Hg]' }, // Systolic blood pressure
  '8462-4': { unit: 'mm[Hg]' }, // Diastolic blood pressure
  '8867-4': { unit: '/min' }, // Heart rate
  '9279-1': { unit: '/min' }, // Respiratory rate
  '8310-5': { unit: 'Cel' }, // Body temperature
  '8331-1': { unit: 'Cel' }, // Oral temperature
  '9843-4': { unit: 'cm' }, // Head occipital-frontal circumference
  '59408-5': { unit: '%' }, // Oxygen saturation by pulse oximetry
  '2708-6': { unit: '%' }, // Oxygen saturation in Arterial blood
};

/**
 * Spellings that sources put in `Quantity.unit` (the human-readable unit) that are not
 * UCUM codes, mapped to the UCUM code they mean. Only used when no UCUM `code` came.
 */
export const UNIT_SPELLINGS: Readonly<Record<string, string>> = {
  mmHg: 'mm[Hg]',
  'mm Hg': 'mm[Hg]',
  '°C': 'Cel',
  degC: 'Cel',
  '°F': '[degF]',
  degF: '[degF]',
  bpm: '/min',
  'beats/min': '/min',
  'breaths/min': '/min',
  lb: '[lb_av]',
  lbs: '[lb_av]',
  in: '[in_i]',
  'mEq/L': 'meq/L',
};
