import { Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from './scalars.js';

export enum Gender {
  male = 'male',
  female = 'female',
  other = 'other',
  unknown = 'unknown',
}
registerEnumType(Gender, { name: 'Gender', description: 'Administrative gender, as FHIR defines it.' });

@ObjectType({ simpleResolvers: true, description: 'A code from a code system, as in FHIR Coding.' })
export class Coding {
  @Field(() => String, { nullable: true, description: 'The code system URI, for example http://snomed.info/sct.' })
  system?: string | null;

  @Field(() => String, { nullable: true, description: 'The code within the system.' })
  code?: string | null;

  @Field(() => String, { nullable: true, description: 'The code system’s display text for the code.' })
  display?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'A concept given by one or more codes and/or text, as in FHIR CodeableConcept.' })
export class CodeableConcept {
  @Field(() => String, { nullable: true, description: 'Plain-text representation of the concept.' })
  text?: string | null;

  @Field(() => [Coding], { description: 'The codes that name this concept, in the order the source gave them.' })
  coding!: Coding[];
}

@ObjectType({ simpleResolvers: true, description: 'A business identifier of a patient (MRN, SSN, ...), as in FHIR Identifier.' })
export class Identifier {
  @Field(() => String, { nullable: true, description: 'The namespace of the value, for example http://hl7.org/fhir/sid/us-ssn.' })
  system?: string | null;

  @Field(() => String, { nullable: true, description: 'The identifier value.' })
  value?: string | null;

  @Field(() => CodeableConcept, { nullable: true, description: 'What kind of identifier it is (MR, SS, DL, ...).' })
  type?: CodeableConcept | null;
}

@ObjectType({ simpleResolvers: true, description: 'A person’s name, as in FHIR HumanName.' })
export class HumanName {
  @Field(() => String, { nullable: true, description: 'The full name as one string.' })
  text?: string | null;

  @Field(() => String, { nullable: true, description: 'Family name (surname).' })
  family?: string | null;

  @Field(() => [String], { description: 'Given names, first name first.' })
  given!: string[];

  @Field(() => [String], { description: 'Name prefixes such as Mr. or Dr.' })
  prefix!: string[];

  @Field(() => String, { nullable: true, description: 'official, usual, nickname, maiden, ...' })
  use?: string | null;
}

@ObjectType({
  simpleResolvers: true,
  description: 'A value converted to the one canonical UCUM unit of its LOINC code, so that values from sources that report in different units compare and sort.',
})
export class NormalizedQuantity {
  @Field(() => Float, { description: 'The value in `unit`, converted by the UCUM library (six significant digits when converted).' })
  value!: number;

  @Field(() => String, { description: 'The canonical UCUM unit of the LOINC code (for example `mg/dL` for glucose 2339-0).' })
  unit!: string;
}

@ObjectType({ simpleResolvers: true, description: 'A measured amount, as in FHIR Quantity.' })
export class Quantity {
  @Field(() => Float, { nullable: true, description: 'The numeric value.' })
  value?: number | null;

  @Field(() => String, { nullable: true, description: 'The unit as the source shows it.' })
  unit?: string | null;

  @Field(() => String, { nullable: true, description: 'The unit’s code system, usually http://unitsofmeasure.org (UCUM).' })
  system?: string | null;

  @Field(() => String, { nullable: true, description: 'The unit’s code in that system.' })
  code?: string | null;

  @Field(() => NormalizedQuantity, {
    nullable: true,
    description:
      'The value in the canonical UCUM unit of the observation’s LOINC code (mass and molar units converted by molecular weight, e.g. glucose mmol/L to mg/dL). Null when the code has no canonical unit or the unit cannot be converted.',
  })
  normalized?: NormalizedQuantity | null;
}

@ObjectType({ simpleResolvers: true, description: 'A time range, as in FHIR Period; either end may be open.' })
export class Period {
  @Field(() => DateTimeScalar, { nullable: true, description: 'When it started.' })
  start?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it ended; null while ongoing.' })
  end?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'A postal address, as in FHIR Address.' })
export class Address {
  @Field(() => [String], { description: 'Street lines.' })
  line!: string[];

  @Field(() => String, { nullable: true, description: 'City.' })
  city?: string | null;

  @Field(() => String, { nullable: true, description: 'State or province.' })
  state?: string | null;

  @Field(() => String, { nullable: true, description: 'Postal code.' })
  postalCode?: string | null;

  @Field(() => String, { nullable: true, description: 'Country.' })
  country?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'A phone number or e-mail address, as in FHIR ContactPoint.' })
export class ContactPoint {
  @Field(() => String, { nullable: true, description: 'phone, email, ...' })
  system?: string | null;

  @Field(() => String, { nullable: true, description: 'The number or address.' })
  value?: string | null;

  @Field(() => String, { nullable: true, description: 'home, work, mobile, ...' })
  use?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'A short reference to a configured upstream source.' })
export class SourceRef {
  @Field(() => ID, { description: 'The source id from the config; also used in errors (`extensions.source`).' })
  id!: string;

  @Field(() => String, { description: 'The source’s display name.' })
  name!: string;
}

@ObjectType({ simpleResolvers: true, description: 'Where an item came from: which source, which resource there, and how fresh it is.' })
export class Provenance {
  @Field(() => SourceRef, { description: 'The source that reported the item.' })
  source!: SourceRef;

  @Field(() => String, { description: 'The item’s resource id in that source.' })
  sourceResourceId!: string;

  @Field(() => DateTimeScalar, { description: 'When chartgraph fetched it from the source.' })
  fetchedAt!: string;

  @Field(() => Boolean, {
    description:
      'True when this copy is older than its cache TTL: served while a refresh runs in the background, or because the source could not be reached.',
  })
  stale!: boolean;
}
