import { describe, expect, it } from 'vitest';
import type { Coverage } from '@medplum/fhirtypes';
import { eligibilitySourceSchema } from '../../config/config.schema.js';
import { buildEligibilityRequest, newControlNumber } from '../../datasources/payer/eligibility-client.js';
import { eligibilityCacheKey } from '../../datasources/payer/eligibility-cache.js';
import { inquiryFromCoverage, payerMatchesCoverage } from '../../datasources/payer/payer-match.js';

const source = eligibilitySourceSchema.parse({
  id: 'acme-payer',
  kind: 'eligibility',
  name: 'Acme',
  baseUrl: 'https://payer-gateway.example/eligibility/v3',
  auth: { type: 'api-key', key: 'k' },
  tradingPartnerServiceId: '62308',
  provider: { npi: '1999999984', organizationName: 'Mercy Hospital' },
  payerIds: ['Acme Health Plan', 'ACME01'],
});

describe('payer config, matching and the 270', () => {
  it('defaults the cache to the end of the UTC day with a week of stale-if-error, and refuses unknown time zones', () => {
    expect(source).toMatchObject({ timeoutMs: 5000, maxConcurrency: 4, deadlineMs: 6000, cache: { ttl: 'end-of-day', timeZone: 'UTC', staleIfErrorSeconds: 604800 } });
    expect(source.auth).toEqual({ type: 'api-key', header: 'Authorization', key: 'k' });
    const bad = eligibilitySourceSchema.safeParse({ ...source, cache: { timeZone: 'Mars/Olympus' } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.'))).toEqual(['cache.timeZone']);
  });

  it('matches Coverage.payor by display or identifier, ignoring case, and nothing else', () => {
    const cov = (payor: Coverage['payor']): Coverage => ({ resourceType: 'Coverage', status: 'active', beneficiary: { reference: 'Patient/1' }, payor });
    expect(payerMatchesCoverage(source, cov([{ display: 'ACME HEALTH PLAN' }]))).toBe(true);
    expect(payerMatchesCoverage(source, cov([{ identifier: { value: 'acme01' } }]))).toBe(true);
    expect(payerMatchesCoverage(source, cov([{ identifier: { value: '62308' } }]))).toBe(true);
    expect(payerMatchesCoverage(source, cov([{ display: 'Medicaid' }]))).toBe(false);
  });

  it('builds the inquiry from the Coverage and demographics, and the 270 with the dependent loop for a child', () => {
    const coverage: Coverage = {
      resourceType: 'Coverage',
      status: 'active',
      subscriberId: 'W123',
      beneficiary: { reference: 'Patient/1' },
      relationship: { coding: [{ code: 'child' }] },
      payor: [{ display: 'Acme Health Plan' }],
    };
    const q = inquiryFromCoverage(coverage, { given: 'Ana', family: 'Lima', birthDate: '2015-02-03', gender: 'female' }, ['98', '30', '98'], '2025-06-02')!;
    expect(q).toEqual({ memberId: 'W123', firstName: 'Ana', lastName: 'Lima', dateOfBirth: '2015-02-03', gender: 'F', dependent: true, serviceTypeCodes: ['30', '98'], dateOfService: '2025-06-02' });
    expect(buildEligibilityRequest(source, q, '000000042')).toEqual({
      controlNumber: '000000042',
      tradingPartnerServiceId: '62308',
      provider: { npi: '1999999984', organizationName: 'Mercy Hospital' },
      subscriber: { memberId: 'W123' },
      dependents: [{ firstName: 'Ana', lastName: 'Lima', dateOfBirth: '20150203', gender: 'F' }],
      encounter: { serviceTypeCodes: ['30', '98'], dateOfService: '20250602' },
    });
    // A partial birth date is not sent; no member id, no inquiry.
    expect(inquiryFromCoverage({ ...coverage, relationship: undefined }, { family: 'Lima', birthDate: '2015' }, null, '2025-06-02')).toEqual({
      memberId: 'W123',
      lastName: 'Lima',
      serviceTypeCodes: ['30'],
      dateOfService: '2025-06-02',
    });
    expect(inquiryFromCoverage({ ...coverage, subscriberId: undefined }, {}, null, '2025-06-02')).toBeUndefined();
  });

  it('keys the cache on payer, member, service types (in any order) and date of service, with no member data in the key', () => {
    const q = { memberId: 'W123', lastName: 'Lima', dateOfBirth: '2015-02-03', serviceTypeCodes: ['30', '98'], dateOfService: '2025-06-02' };
    const k = eligibilityCacheKey('acme-payer', q);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(eligibilityCacheKey('acme-payer', { ...q, memberId: 'w123 ', serviceTypeCodes: ['98', '30'] })).toBe(k);
    for (const other of [{ ...q, dateOfService: '2025-06-03' }, { ...q, serviceTypeCodes: ['30'] }, { ...q, dateOfBirth: '2015-02-04' }]) {
      expect(eligibilityCacheKey('acme-payer', other)).not.toBe(k);
    }
    expect(eligibilityCacheKey('other-payer', q)).not.toBe(k);
  });

  it('makes 9-digit control numbers that differ per request', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => newControlNumber()));
    expect(seen.size).toBe(1000);
    for (const c of seen) expect(c).toMatch(/^\d{9}$/);
  });
});
