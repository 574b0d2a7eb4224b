import type { FhirResource } from './fhir-types.js';

/*
 * How strict: every element chartgraph maps into the schema is checked for the shape the
 * mapping reads (a CodeableConcept is an object whose `coding` is a list of objects, a
 * date is a FHIR date, ...), and the elements FHIR R4 makes mandatory (1..1) among them
 * must be there (an Observation without `status` or `code`). Elements chartgraph does not
 * read are not looked at: a full StructureDefinition validation would refuse answers for
 * extensions and elements no chart shows, at many times the cost (see bench/validation.ts).
 */

// The FHIR R4 regular expressions for date, dateTime and instant.
const DATE = /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;
const DATE_TIME =
  /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,9})?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$/;
const INSTANT = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,9})?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$/;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

type Check = (value: unknown) => boolean;
type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str: Check = (v) => typeof v === 'string' && v.length > 0;
const bool: Check = (v) => typeof v === 'boolean';
const date: Check = (v) => typeof v === 'string' && DATE.test(v);
const dateTime: Check = (v) => typeof v === 'string' && DATE_TIME.test(v);
const instant: Check = (v) => typeof v === 'string' && INSTANT.test(v);
const coding: Check = (v) => isObject(v) && optional(v.system, str) && optional(v.code, str) && optional(v.display, str);
const concept: Check = (v) => isObject(v) && optional(v.text, str) && optional(v.coding, list(coding));
/** A concept that says something: a code or a text (FHIR's 1..1 `code` elements need one). */
const meaningfulConcept: Check = (v) =>
  concept(v) && (str((v as Json).text) || ((v as Json).coding as Json[] | undefined)?.some((c) => str(c.code)) === true);
const period: Check = (v) => isObject(v) && optional(v.start, dateTime) && optional(v.end, dateTime);
const quantity: Check = (v) => isObject(v) && optional(v.value, (x) => typeof x === 'number' && Number.isFinite(x)) && optional(v.unit, str) && optional(v.code, str);
const reference: Check = (v) => isObject(v) && optional(v.reference, str) && optional(v.display, str);

function optional(v: unknown, check: Check): boolean {
  return v === undefined || check(v);
}
function list(check: Check): Check {
  return (v) => Array.isArray(v) && v.every(check);
}
function obj(fields: Spec): Check {
  return (v) => isObject(v) && firstFailure(v, fields) === undefined;
}

/** Per element: its check, and whether FHIR R4 requires it. */
type Spec = Record<string, { check: Check; required?: boolean }>;
const req = (check: Check) => ({ check, required: true });
const opt = (check: Check) => ({ check });

const component = obj({ code: req(meaningfulConcept), valueQuantity: opt(quantity), valueCodeableConcept: opt(concept), valueString: opt(str) });

/** The elements the schema maps, per resource type. Also for each: at least one of `oneOf` (FHIR's [x] 1..1 choices). */
const SPECS: Record<string, { fields: Spec; oneOf?: string[] }> = {
  Patient: {
    fields: {
      birthDate: opt(date),
      gender: opt(str),
      name: opt(list(obj({ family: opt(str), given: opt(list(str)), text: opt(str), prefix: opt(list(str)) }))),
      identifier: opt(list(obj({ system: opt(str), value: opt(str), type: opt(concept) }))),
      deceasedDateTime: opt(dateTime),
    },
  },
  Observation: {
    fields: {
      status: req(str),
      code: req(meaningfulConcept),
      category: opt(list(concept)),
      effectiveDateTime: opt(dateTime),
      effectivePeriod: opt(period),
      effectiveInstant: opt(instant),
      issued: opt(instant),
      valueQuantity: opt(quantity),
      valueCodeableConcept: opt(concept),
      valueString: opt(str),
      interpretation: opt(list(concept)),
      component: opt(list(component)),
    },
  },
  Condition: {
    fields: {
      subject: req(reference),
      code: opt(concept),
      clinicalStatus: opt(concept),
      verificationStatus: opt(concept),
      category: opt(list(concept)),
      onsetDateTime: opt(dateTime),
      onsetPeriod: opt(period),
      abatementDateTime: opt(dateTime),
      abatementPeriod: opt(period),
      recordedDate: opt(dateTime),
    },
  },
  MedicationRequest: {
    fields: {
      status: req(str),
      intent: req(str),
      subject: req(reference),
      medicationCodeableConcept: opt(concept),
      medicationReference: opt(reference),
      authoredOn: opt(dateTime),
      dosageInstruction: opt(list(obj({ text: opt(str) }))),
      reasonCode: opt(list(concept)),
    },
    oneOf: ['medicationCodeableConcept', 'medicationReference'],
  },
  AllergyIntolerance: {
    fields: {
      patient: req(reference),
      code: opt(concept),
      clinicalStatus: opt(concept),
      verificationStatus: opt(concept),
      type: opt(str),
      category: opt(list(str)),
      criticality: opt(str),
      recordedDate: opt(dateTime),
      reaction: opt(list(obj({ manifestation: req(list(concept)) }))),
    },
  },
  Immunization: {
    fields: { status: req(str), vaccineCode: req(meaningfulConcept), patient: req(reference), occurrenceDateTime: opt(dateTime), occurrenceString: opt(str), primarySource: opt(bool) },
    oneOf: ['occurrenceDateTime', 'occurrenceString'],
  },
  Procedure: {
    fields: { status: req(str), subject: req(reference), code: opt(concept), performedDateTime: opt(dateTime), performedPeriod: opt(period), reasonCode: opt(list(concept)) },
  },
  Encounter: {
    fields: { status: req(str), class: req(coding), subject: opt(reference), type: opt(list(concept)), period: opt(period), reasonCode: opt(list(concept)), serviceProvider: opt(reference) },
  },
  DiagnosticReport: {
    fields: {
      status: req(str),
      code: req(meaningfulConcept),
      subject: opt(reference),
      category: opt(list(concept)),
      effectiveDateTime: opt(dateTime),
      effectivePeriod: opt(period),
      issued: opt(instant),
      result: opt(list(reference)),
      conclusion: opt(str),
    },
  },
  Coverage: {
    fields: { status: req(str), beneficiary: req(reference), payor: req(list(reference)), period: opt(period), type: opt(concept), subscriberId: opt(str) },
  },
};

function firstFailure(resource: Json, fields: Spec): string | undefined {
  for (const name in fields) {
    const { check, required } = fields[name]!;
    const value = resource[name];
    if (value === undefined || value === null) {
      if (required) return name;
    } else if (!check(value)) return name;
  }
  return undefined;
}

/**
 * Why a resource cannot be shown as its type, as `Type.element` (for logs; never a value),
 * or undefined when it is well formed enough for the schema. Needs a FHIR id (the item's
 * provenance names it), the elements FHIR requires among those chartgraph maps, and the
 * right shape and date format for every mapped element present. Types chartgraph does
 * not map are checked only for their id.
 */
export function malformation(resource: FhirResource): string | undefined {
  const type = resource.resourceType;
  if (typeof resource.id !== 'string' || !FHIR_ID.test(resource.id)) return `${type}.id`;
  const spec = SPECS[type];
  if (!spec) return undefined;
  const failed = firstFailure(resource as unknown as Json, spec.fields);
  if (failed) return `${type}.${failed}`;
  if (spec.oneOf && !spec.oneOf.some((name) => (resource as unknown as Json)[name] !== undefined)) return `${type}.${spec.oneOf[0]!.replace(/[A-Z].*$/, '')}[x]`;
  return undefined;
}
