import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { map271, parseAmount, x12Date } from '../../datasources/payer/map-271.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/payer/${name}.json`, import.meta.url), 'utf8'));
const limit = (total: number | null, remaining: number | null, timePeriod: string | null = 'Calendar Year') => ({ total, remaining, timePeriod });

describe('271 mapping', () => {
  it('maps an active individual PPO: plan, group, dates, and per service type deductible, out-of-pocket, copay, coinsurance per network', () => {
    const a = map271(fixture('active-ppo-individual'), ['98', '30']);
    expect(a).toMatchObject({
      controlNumber: '214976898',
      active: true,
      payerName: 'ACME HEALTH PLAN',
      memberId: 'W123456789',
      planName: 'Acme Gold PPO',
      planNumber: 'ACME-GOLD-PPO',
      groupNumber: 'GRP123456',
      groupName: 'ACME EMPLOYER GROUP',
      insuranceTypeCode: 'PR',
      coverageLevelCode: 'IND',
      coverageStart: '2025-01-01',
      coverageEnd: '2025-12-31',
      rejections: [],
      warnings: [{ code: 'W1', description: 'Payer returned more service types than requested' }],
    });
    expect(a.benefits).toHaveLength(17);
    // Asked-for service types first, then the others the payer sent, in order of appearance.
    expect(a.serviceTypes.map((s) => s.serviceTypeCode)).toEqual(['98', '30', 'UC', '86', '88', 'MH']);
    const office = a.serviceTypes[0]!;
    expect(office).toEqual({
      serviceTypeCode: '98',
      serviceType: 'Professional (Physician) Visit - Office',
      active: true,
      inNetwork: {
        covered: true,
        deductible: limit(1500, 600),
        familyDeductible: null,
        outOfPocketMaximum: limit(5000, 4250.5),
        familyOutOfPocketMaximum: null,
        copay: 25,
        coinsurancePercent: 20,
        priorAuthorizationRequired: null,
      },
      outOfNetwork: {
        covered: true,
        deductible: limit(3000, 3000),
        familyDeductible: null,
        outOfPocketMaximum: limit(10000, null),
        familyOutOfPocketMaximum: null,
        copay: null,
        // The office visit's own out-of-network coinsurance beats the plan-wide 40%.
        coinsurancePercent: 50,
        priorAuthorizationRequired: null,
      },
    });
    const byCode = Object.fromEntries(a.serviceTypes.map((s) => [s.serviceTypeCode, s]));
    expect(byCode['30']!.outOfNetwork!.coinsurancePercent).toBe(40);
    // W (not applicable) applies in and out of network.
    expect([byCode['86']!.inNetwork!.copay, byCode['86']!.outOfNetwork!.copay]).toEqual([250, 250]);
    expect([byCode['88']!.inNetwork!.copay, byCode['88']!.outOfNetwork!.copay]).toEqual([10, null]);
    expect(byCode['MH']!.inNetwork!.priorAuthorizationRequired).toBe(true);
    expect(a.benefits.at(-1)).toMatchObject({ code: 'D', name: 'Benefit Description', messages: ['EXCLUSIONS: COSMETIC SURGERY'] });
  });

  it('maps an inactive plan: not active, last year’s dates, no cost sharing', () => {
    const a = map271(fixture('inactive'));
    expect(a).toMatchObject({
      active: false,
      planName: 'Acme Silver HMO',
      planNumber: 'ACME-SILVER-HMO',
      groupNumber: 'GRP999',
      insuranceTypeCode: 'HM',
      coverageStart: '2024-01-01',
      coverageEnd: '2024-12-31',
      rejections: [],
    });
    expect(a.planStatus).toEqual([{ statusCode: '6', status: 'Inactive', planDetails: 'Acme Silver HMO', serviceTypeCodes: ['30'] }]);
    expect(a.serviceTypes).toEqual([{ serviceTypeCode: '30', serviceType: 'Health Benefit Plan Coverage', active: false, inNetwork: null, outOfNetwork: null }]);
  });

  it('maps a family plan: individual and family deductible and out-of-pocket maximum side by side', () => {
    const a = map271(fixture('active-family'));
    expect(a).toMatchObject({ active: true, coverageLevelCode: 'FAM', planName: 'Acme Gold PPO Family', groupNumber: 'GRP424242', groupName: 'LIMA FAMILY GROUP' });
    const general = a.serviceTypes.find((s) => s.serviceTypeCode === '30')!;
    expect(general.inNetwork).toEqual({
      covered: true,
      deductible: limit(1500, 0),
      familyDeductible: limit(3000, 1250),
      outOfPocketMaximum: limit(5000, null),
      familyOutOfPocketMaximum: limit(10000, 8200),
      copay: null,
      coinsurancePercent: null,
      priorAuthorizationRequired: null,
    });
    expect(general.outOfNetwork).toBeNull();
    // The plan-level accumulators carry over to the office visit, which adds its copay.
    const office = a.serviceTypes.find((s) => s.serviceTypeCode === '98')!;
    expect(office.inNetwork).toMatchObject({ copay: 25, familyDeductible: limit(3000, 1250) });
  });

  it('maps an AAA rejection to a typed rejection with code, description and follow-up action, counted once though sent twice', () => {
    const a = map271(fixture('aaa-invalid-member'), ['30']);
    expect(a.active).toBeNull();
    expect(a.serviceTypes).toEqual([]);
    expect(a.rejections).toEqual([
      { code: '72', description: 'Invalid/Missing Subscriber/Insured ID', followupActionCode: 'C', followupAction: 'Please Correct and Resubmit', location: 'Loop 2100C', transient: false },
    ]);
  });

  it('reads AAA errors nested in a loop when the top-level list is absent, naming them from the code tables', () => {
    const a = map271({ provider: { aaaErrors: [{ code: '43', followupActionCode: 'C' }] }, subscriber: { aaaErrors: [{ code: '42', followupActionCode: 'R' }] } });
    expect(a.rejections).toEqual([
      { code: '43', description: 'Invalid/Missing Provider Identification', followupActionCode: 'C', followupAction: 'Please Correct and Resubmit', location: 'provider', transient: false },
      { code: '42', description: 'Unable to Respond at Current Time', followupActionCode: 'R', followupAction: 'Resubmission Allowed', location: 'subscriber', transient: true },
    ]);
  });

  it('keeps unknown codes as sent and never throws on malformed parts', () => {
    const a = map271(fixture('quirks'));
    expect(a.controlNumber).toBe('300000020');
    expect(a.active).toBe(true);
    expect(a.coverageStart).toBe('2023-01-01'); // planBegin 20251340 is no date; the eligibility range is
    expect(a.benefits.map((b) => [b.code, b.name, b.coverageLevelCode, b.coverageLevel, b.timeQualifierCode, b.timeQualifier, b.amount, b.percent])).toEqual([
      ['ZZ', 'Payer Special', 'XYZ', null, '99', null, null, null],
      ['B', 'Co-Payment', null, null, null, null, 1250, null],
      ['A', 'Co-Insurance', null, null, null, null, null, null],
    ]);
    expect(a.serviceTypes).toEqual([
      {
        serviceTypeCode: 'Q9',
        serviceType: 'Payer Special Service',
        active: true,
        inNetwork: expect.objectContaining({ copay: 1250 }),
        outOfNetwork: expect.objectContaining({ copay: 1250 }),
      },
    ]);
    expect(a.warnings).toEqual([{ code: '7', description: null }]);
    for (const junk of [null, 'text', 42, [], { benefitsInformation: 'x', planStatus: {}, errors: 'e' }]) {
      expect(map271(junk)).toMatchObject({ active: null, benefits: [], serviceTypes: [], rejections: [] });
    }
  });

  it('parses string amounts and X12 dates strictly', () => {
    expect([parseAmount('1500'), parseAmount('600.00'), parseAmount('1,250.5'), parseAmount('.5'), parseAmount('N/A'), parseAmount(''), parseAmount(undefined)]).toEqual([
      1500, 600, 1250.5, 0.5, null, null, null,
    ]);
    expect([x12Date('20240229'), x12Date('20230229'), x12Date('2024-02-01'), x12Date(20240101)]).toEqual(['2024-02-29', null, null, '2024-01-01']);
  });
});
