// Names of the X12 005010X279A1 (270/271) codes the mapping reads. Payers send codes outside
// these lists; callers keep such codes as they came and use the name only when known.

/** EB01 Eligibility or Benefit Information codes. */
export const BENEFIT_CODES: Readonly<Record<string, string>> = {
  '1': 'Active Coverage',
  '2': 'Active - Full Risk Capitation',
  '3': 'Active - Services Capitated',
  '4': 'Active - Services Capitated to Primary Care Physician',
  '5': 'Active - Pending Investigation',
  '6': 'Inactive',
  '7': 'Inactive - Pending Eligibility Update',
  '8': 'Inactive - Pending Investigation',
  A: 'Co-Insurance',
  B: 'Co-Payment',
  C: 'Deductible',
  CB: 'Coverage Basis',
  D: 'Benefit Description',
  E: 'Exclusions',
  F: 'Limitations',
  G: 'Out of Pocket (Stop Loss)',
  H: 'Unlimited',
  I: 'Non-Covered',
  J: 'Cost Containment',
  K: 'Reserve',
  L: 'Primary Care Provider',
  M: 'Pre-existing Condition',
  MC: 'Managed Care Coordinator',
  N: 'Services Restricted to Following Provider',
  O: 'Not Deemed a Medical Necessity',
  P: 'Benefit Disclaimer',
  Q: 'Second Surgical Opinion Required',
  R: 'Other or Additional Payor',
  S: 'Prior Year(s) History',
  T: 'Card(s) Reported Lost/Stolen',
  U: 'Contact Following Entity for Eligibility or Benefit Information',
  V: 'Cannot Process',
  W: 'Other Source of Data',
  X: 'Health Care Facility',
  Y: 'Spend Down',
};

/** EB01 codes meaning the member is covered. */
export const ACTIVE_CODES: ReadonlySet<string> = new Set(['1', '2', '3', '4', '5']);
/** EB01 codes meaning the member is not covered. */
export const INACTIVE_CODES: ReadonlySet<string> = new Set(['6', '7', '8']);

/** EB02 Coverage Level codes. */
export const COVERAGE_LEVELS: Readonly<Record<string, string>> = {
  CHD: 'Children Only',
  DEP: 'Dependents Only',
  ECH: 'Employee and Children',
  EMP: 'Employee Only',
  ESP: 'Employee and Spouse',
  FAM: 'Family',
  IND: 'Individual',
  SPC: 'Spouse and Children',
  SPO: 'Spouse Only',
};

/** EB06 Time Period Qualifier codes. */
export const TIME_QUALIFIERS: Readonly<Record<string, string>> = {
  '6': 'Hour',
  '7': 'Day',
  '13': '24 Hours',
  '21': 'Years',
  '22': 'Service Year',
  '23': 'Calendar Year',
  '24': 'Year to Date',
  '25': 'Contract',
  '26': 'Episode',
  '27': 'Visit',
  '28': 'Outlier',
  '29': 'Remaining',
  '30': 'Exceeded',
  '31': 'Not Exceeded',
  '32': 'Lifetime',
  '33': 'Lifetime Remaining',
  '34': 'Month',
  '35': 'Week',
  '36': 'Admission',
};

/** EB06 codes that state what is left of an amount rather than its total. */
export const REMAINING_QUALIFIERS: ReadonlySet<string> = new Set(['29', '33']);

/** EB12 In Plan Network Indicator codes. */
export const NETWORK_INDICATORS: Readonly<Record<string, string>> = {
  Y: 'In network',
  N: 'Out of network',
  W: 'Not applicable (in and out of network)',
  U: 'Unknown',
};

/** EB03 Service Type Codes most often asked for (the full list has about 200). */
export const SERVICE_TYPES: Readonly<Record<string, string>> = {
  '1': 'Medical Care',
  '2': 'Surgical',
  '4': 'Diagnostic X-Ray',
  '5': 'Diagnostic Lab',
  '12': 'Durable Medical Equipment Purchase',
  '30': 'Health Benefit Plan Coverage',
  '33': 'Chiropractic',
  '35': 'Dental Care',
  '42': 'Home Health Care',
  '47': 'Hospital',
  '48': 'Hospital - Inpatient',
  '50': 'Hospital - Outpatient',
  '86': 'Emergency Services',
  '88': 'Pharmacy',
  '98': 'Professional (Physician) Visit - Office',
  A4: 'Psychiatric',
  AL: 'Vision (Optometry)',
  BZ: 'Physician Visit - Office: Well',
  MH: 'Mental Health',
  PT: 'Physical Therapy',
  UC: 'Urgent Care',
};

/** AAA03 Reject Reason codes of the 271. */
export const REJECT_REASONS: Readonly<Record<string, string>> = {
  '04': 'Authorized Quantity Exceeded',
  '15': 'Required Application Data Missing',
  '33': 'Input Errors',
  '41': 'Authorization/Access Restrictions',
  '42': 'Unable to Respond at Current Time',
  '43': 'Invalid/Missing Provider Identification',
  '45': 'Invalid/Missing Provider Specialty',
  '47': 'Invalid/Missing Provider State',
  '48': 'Invalid/Missing Referring Provider Identification Number',
  '49': 'Provider is Not Primary Care Physician',
  '51': 'Provider Not on File',
  '52': 'Service Dates Not Within Provider Plan Enrollment',
  '56': 'Inappropriate Date',
  '57': 'Invalid/Missing Date(s) of Service',
  '58': 'Invalid/Missing Date-of-Birth',
  '60': 'Date of Birth Follows Date(s) of Service',
  '61': 'Date of Death Precedes Date(s) of Service',
  '62': 'Date of Service Not Within Allowable Inquiry Period',
  '63': 'Date of Service in Future',
  '64': 'Invalid/Missing Patient ID',
  '65': 'Invalid/Missing Patient Name',
  '66': 'Invalid/Missing Patient Gender Code',
  '67': 'Patient Not Found',
  '68': 'Duplicate Patient ID Number',
  '71': 'Patient Birth Date Does Not Match That for the Patient on the Database',
  '72': 'Invalid/Missing Subscriber/Insured ID',
  '73': 'Invalid/Missing Subscriber/Insured Name',
  '74': 'Invalid/Missing Subscriber/Insured Gender Code',
  '75': 'Subscriber/Insured Not Found',
  '76': 'Duplicate Subscriber/Insured ID Number',
  '78': 'Subscriber/Insured Not in Group/Plan Identified',
  '79': 'Invalid Participant Identification',
  '80': 'No Response received - Transaction Terminated',
};

/** AAA03 codes that say "try again later", not "this inquiry is wrong". */
export const TRANSIENT_REJECTS: ReadonlySet<string> = new Set(['42', '80']);

/** AAA04 Follow-up Action codes. */
export const FOLLOWUP_ACTIONS: Readonly<Record<string, string>> = {
  C: 'Please Correct and Resubmit',
  N: 'Resubmission Not Allowed',
  P: 'Please Resubmit Original Transaction',
  R: 'Resubmission Allowed',
  S: 'Do Not Resubmit; Inquiry Initiated to a Third Party',
  W: 'Please Wait 30 Days and Resubmit',
  X: 'Please Wait 10 Days and Resubmit',
  Y: 'Do Not Resubmit; We Will Hand Deliver',
};

/** The name of a code from a table, or undefined for a code the table does not know. */
export function codeName(table: Readonly<Record<string, string>>, code: string | undefined | null): string | undefined {
  return code ? table[code] : undefined;
}
