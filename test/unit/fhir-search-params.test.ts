import { describe, expect, it } from 'vitest';
import { fhirSourceSchema } from '../../config/config.schema.js';
import {
  buildSearchQuery,
  escapeSearchValue,
  parseToken,
  shapeKey,
  splitUnescaped,
  tokenParam,
  unescapeSearchValue,
} from '../../datasources/fhir/search-params.js';
import { patientIdOf, patientSearchParam } from '../../datasources/fhir/patient-params.js';
import { parseRetryAfter, summariseOutcome } from '../../datasources/fhir/upstream-http.js';
import { readCapabilities, fallbackCapabilities, MAX_COUNT_URL, SEARCH_MULTIPLE_OR_URL } from '../../datasources/fhir/capabilities.js';
import { FhirClient } from '../../datasources/fhir/fhir-client.js';
import { chunkOrValues, MAX_OR_VALUES } from '../../datasources/fhir/patient-batch.js';
import type { FhirResource } from '../../datasources/fhir/fhir-types.js';

describe('escapeSearchValue', () => {
  it.each([
    ['plain', 'plain'],
    ['a\\b', 'a\\\\b'],
    ['a,b', 'a\\,b'],
    ['a$b', 'a\\$b'],
    ['a|b', 'a\\|b'],
    ['\\,', '\\\\\\,'],
    ['x\\|y,z$', 'x\\\\\\|y\\,z\\$'],
    ['', ''],
  ])('escapes %j as %j', (input, expected) => {
    expect(escapeSearchValue(input)).toBe(expected);
    expect(unescapeSearchValue(expected)).toBe(input);
  });

  it('leaves no unescaped separator behind, so input cannot widen a search', () => {
    const hostile = '123,456|789$x\\,';
    const escaped = escapeSearchValue(hostile);
    expect(splitUnescaped(escaped, ',')).toEqual([escaped]);
    expect(splitUnescaped(escaped, '|')).toEqual([escaped]);
    expect(splitUnescaped(escaped, '$')).toEqual([escaped]);
  });
});

describe('tokenParam / parseToken', () => {
  it('builds system|code with both parts escaped', () => {
    expect(tokenParam('http://loinc.org', '8867-4')).toBe('http://loinc.org|8867-4');
    expect(tokenParam('urn:a|b', 'c,d')).toBe('urn:a\\|b|c\\,d');
    expect(tokenParam(undefined, 'x|y')).toBe('x\\|y');
    expect(tokenParam('', 'x')).toBe('|x');
  });

  it('parses back what it built', () => {
    expect(parseToken(tokenParam('urn:a|b', 'c,d'))).toEqual({ system: 'urn:a|b', code: 'c,d' });
    expect(parseToken(tokenParam(undefined, 'x|y'))).toEqual({ code: 'x|y' });
    expect(parseToken('|x')).toEqual({ system: '', code: 'x' });
  });
});

describe('buildSearchQuery / shapeKey', () => {
  it('encodes as URLSearchParams, repeated names kept', () => {
    expect(buildSearchQuery([['code', 'http://loinc.org|8867-4'], ['date', 'ge2020'], ['date', 'lt2021'], ['x', 'a b&c']])).toBe(
      'code=http%3A%2F%2Floinc.org%7C8867-4&date=ge2020&date=lt2021&x=a+b%26c',
    );
  });

  it('names the same shape the same in any order, different shapes differently', () => {
    const a = shapeKey([['category', 'laboratory'], ['code', 'x']]);
    expect(shapeKey([['code', 'x'], ['category', 'laboratory']])).toBe(a);
    expect(a).toBe('category=laboratory&code=x');
    expect(shapeKey([['code', 'y'], ['category', 'laboratory']])).not.toBe(a);
    expect(shapeKey([['date', 'lt2'], ['date', 'ge1']])).toBe(shapeKey([['date', 'ge1'], ['date', 'lt2']]));
    expect(shapeKey([])).toBe('');
    expect(shapeKey(undefined)).toBe('');
  });
});

describe('patient links per type', () => {
  it('searches Coverage by beneficiary and the rest by patient', () => {
    expect(patientSearchParam('Coverage')).toBe('beneficiary');
    expect(patientSearchParam('Observation')).toBe('patient');
    expect(patientSearchParam('Patient')).toBe('_id');
  });

  it('reads the patient reference in its R4 element', () => {
    const r = (x: object) => x as FhirResource;
    expect(patientIdOf(r({ resourceType: 'Observation', subject: { reference: 'Patient/p1' } }))).toBe('p1');
    expect(patientIdOf(r({ resourceType: 'Immunization', patient: { reference: 'http://h/fhir/Patient/p2/_history/3' } }))).toBe('p2');
    expect(patientIdOf(r({ resourceType: 'Coverage', beneficiary: { reference: 'Patient/p3' }, subject: { reference: 'Patient/zz' } }))).toBe('p3');
    expect(patientIdOf(r({ resourceType: 'Condition', subject: { reference: 'Group/g1' } }))).toBeUndefined();
    expect(patientIdOf(r({ resourceType: 'Condition', subject: { reference: '#contained' } }))).toBeUndefined();
    expect(patientIdOf(r({ resourceType: 'Patient', id: 'p4' }))).toBe('p4');
  });
});

describe('upstream helpers', () => {
  it('reads Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(new Date(1_000_000 + 30_000).toUTCString(), 1_000_000)).toBe(30);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('keeps severity and code of an OperationOutcome, never the diagnostics', () => {
    const summary = summariseOutcome({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'processing', diagnostics: 'Jane Doe SSN 123-45-6789' }],
    });
    expect(summary).toEqual([{ severity: 'error', code: 'processing' }]);
    expect(JSON.stringify(summary)).not.toContain('Jane');
  });
});

const source = (over: object = {}) =>
  fhirSourceSchema.parse({ id: 'mercy', kind: 'fhir', name: 'Mercy', baseUrl: 'http://ehr.example/fhir/R4', ...over });

function statement(opts: { or?: Record<string, boolean | undefined>; maxCount?: number; searchType?: boolean } = {}) {
  const types = ['Patient', 'Observation', 'Condition', 'Coverage'];
  return {
    resourceType: 'CapabilityStatement',
    fhirVersion: '4.0.1',
    software: { name: 'Sim', version: '2.1' },
    rest: [
      {
        mode: 'server',
        ...(opts.maxCount !== undefined && { extension: [{ url: MAX_COUNT_URL, valueInteger: opts.maxCount }] }),
        resource: types.map((type) => ({
          type,
          interaction: opts.searchType === false ? [{ code: 'read' }] : [{ code: 'read' }, { code: 'search-type' }],
          searchParam:
            type === 'Patient'
              ? [{ name: '_id' }]
              : [
                  {
                    name: type === 'Coverage' ? 'beneficiary' : 'patient',
                    ...(opts.or?.[type] !== undefined && { extension: [{ url: SEARCH_MULTIPLE_OR_URL, valueBoolean: opts.or[type] }] }),
                  },
                ],
        })),
      },
    ],
  };
}

describe('readCapabilities', () => {
  it('reads OR support, POST search, max count, version and types', () => {
    const caps = readCapabilities(source(), statement({ or: { Observation: true, Condition: true, Coverage: true }, maxCount: 250 }));
    expect(caps).toEqual({
      fhirVersion: '4.0.1',
      software: 'Sim 2.1',
      patientOrSearch: true,
      postSearch: true,
      maxCount: 250,
      batch: false,
      resourceTypes: ['Patient', 'Observation', 'Condition', 'Coverage'],
      origins: { patientOrSearch: 'METADATA', postSearch: 'METADATA', maxCount: 'METADATA', batch: 'DEFAULT' },
    });
  });

  it('reads batch from rest.interaction, and marks what the statement is silent on as DEFAULT', () => {
    const withBatch = statement();
    (withBatch.rest as Record<string, unknown>[])[0]!.interaction = [{ code: 'transaction' }, { code: 'batch' }];
    const caps = readCapabilities(source(), withBatch);
    expect(caps.batch).toBe(true);
    expect(caps.origins).toEqual({ patientOrSearch: 'DEFAULT', postSearch: 'METADATA', maxCount: 'DEFAULT', batch: 'METADATA' });
    expect(readCapabilities(source({ capabilities: { batch: false } }), withBatch)).toMatchObject({ batch: false, origins: { batch: 'CONFIG' } });
  });

  it('says no OR when any chart type does not promise it, or none says anything', () => {
    expect(readCapabilities(source(), statement({ or: { Observation: true, Condition: true, Coverage: false } })).patientOrSearch).toBe(false);
    expect(readCapabilities(source(), statement({ or: { Observation: true, Condition: true } })).patientOrSearch).toBe(false);
    expect(readCapabilities(source(), statement()).patientOrSearch).toBe(false);
  });

  it('falls back to pageSize for maxCount and reads missing search-type as no POST', () => {
    const caps = readCapabilities(source({ pageSize: 40 }), statement({ searchType: false }));
    expect(caps.maxCount).toBe(40);
    expect(caps.postSearch).toBe(false);
  });

  it('lets config override every capability', () => {
    const caps = readCapabilities(
      source({ capabilities: { patientOrSearch: false, postSearch: false, maxCount: 10 } }),
      statement({ or: { Observation: true, Condition: true, Coverage: true }, maxCount: 250 }),
    );
    expect(caps).toMatchObject({ patientOrSearch: false, postSearch: false, maxCount: 10, origins: { patientOrSearch: 'CONFIG', postSearch: 'CONFIG', maxCount: 'CONFIG' } });
    expect(readCapabilities(source({ capabilities: { patientOrSearch: true } }), statement()).patientOrSearch).toBe(true);
  });

  it('has safe fallbacks, still under config overrides', () => {
    expect(fallbackCapabilities(source({ pageSize: 30 }))).toEqual({
      patientOrSearch: false,
      postSearch: false,
      maxCount: 30,
      batch: false,
      resourceTypes: [],
      origins: { patientOrSearch: 'DEFAULT', postSearch: 'DEFAULT', maxCount: 'DEFAULT', batch: 'DEFAULT' },
    });
    expect(fallbackCapabilities(source({ capabilities: { patientOrSearch: true } })).patientOrSearch).toBe(true);
  });
});

describe('chunkOrValues', () => {
  const caps = {
    patientOrSearch: true,
    postSearch: false,
    maxCount: 100,
    batch: false,
    resourceTypes: [],
    origins: { patientOrSearch: 'CONFIG', postSearch: 'CONFIG', maxCount: 'CONFIG', batch: 'CONFIG' } as const,
  };

  it('keeps every chunk URL at or under maxUrlLength and at most MAX_OR_VALUES ids', () => {
    const client = new FhirClient(source({ maxUrlLength: 300 }));
    const ids = Array.from({ length: 40 }, (_, i) => `patient-${i}`);
    const chunks = chunkOrValues(client, 'Observation', 'patient', ids, [['category', 'laboratory']], caps);
    expect(chunks.flat()).toEqual(ids.map((_, i) => i));
    for (const chunk of chunks) {
      const url = client.searchUrl('Observation', [['patient', chunk.map((i) => ids[i]).join(',')], ['category', 'laboratory']], caps);
      expect(url.length).toBeLessThanOrEqual(300);
    }
    // Each chunk is as full as the limit allows: one more id would have crossed it.
    for (const chunk of chunks.slice(0, -1)) {
      const longer = [...chunk, chunk.length].map((i) => ids[i]).join(',');
      expect(client.searchUrl('Observation', [['patient', longer], ['category', 'laboratory']], caps).length).toBeGreaterThan(300);
    }
  });

  it('caps a chunk at MAX_OR_VALUES ids even when the URL allows more', () => {
    const client = new FhirClient(source({ maxUrlLength: 100_000 }));
    const ids = Array.from({ length: 250 }, (_, i) => String(i));
    expect(chunkOrValues(client, 'Condition', 'patient', ids, [], caps).map((c) => c.length)).toEqual([MAX_OR_VALUES, MAX_OR_VALUES, 50]);
  });
});
