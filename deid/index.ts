import { PseudonymIndex, type ListPatientsSince } from './pseudonym-index.js';
import { Pseudonymizer } from './pseudonym.js';

export * from './free-text.js';
export * from './pseudonym-index.js';
export * from './pseudonym.js';
export * from './safe-harbor.js';

/** The de-identification service a gateway shares across requests. */
export interface Deidentifier {
  pseudonyms: Pseudonymizer;
  index: PseudonymIndex;
  /** The clock ages are computed against. */
  now(): Date;
}

/** Builds the de-identification service from the key and a way to list known patients. */
export function createDeidentifier(opts: { key: string | Uint8Array; listPatientsSince: ListPatientsSince; now?: () => Date }): Deidentifier {
  const pseudonyms = new Pseudonymizer(opts.key);
  return { pseudonyms, index: new PseudonymIndex(pseudonyms, opts.listPatientsSince), now: opts.now ?? (() => new Date()) };
}
