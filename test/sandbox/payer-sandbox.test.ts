import { describe, expect, it } from 'vitest';
import type { Coverage } from '@medplum/fhirtypes';
import { eligibilitySourceSchema } from '../../config/config.schema.js';
import { payerMatchesCoverage } from '../../datasources/payer/payer-match.js';
import { deriveMembers, SANDBOX_TRADING_PARTNERS } from '../../sandbox/payer-members.js';
import { splitFixtures } from '../../sandbox/split.js';

// The simulated payer's books come from the Coverage the simulated EHRs serve, so that
// every insured fixture patient can be checked end to end.

describe('sandbox payer members', () => {
  const split = splitFixtures({});
  const members = deriveMembers(split);
  const coverages = [...split.ehrs.mercy.resources, ...split.ehrs.stjude.resources].filter((r): r is Coverage => r.resourceType === 'Coverage');

  it('hold one member per distinct member id on the EHRs’ Coverage, named and dated as the fixture patient', () => {
    const ids = new Set(coverages.map((c) => c.subscriberId));
    expect(members.map((m) => m.memberId).sort()).toEqual([...ids].sort());
    for (const m of members) {
      expect(m.dateOfBirth).toMatch(/^\d{8}$/);
      expect(m.lastName).toMatch(/\S/);
    }
  });

  it('cover both trading partners, active and inactive plans, individual and family levels, PPO, HMO and Medicaid', () => {
    expect(new Set(members.map((m) => m.tradingPartnerServiceId))).toEqual(new Set(['62308', 'SKMCD']));
    expect(new Set(members.map((m) => m.active))).toEqual(new Set([true, false]));
    expect(new Set(members.map((m) => m.coverageLevelCode))).toEqual(new Set(['IND', 'FAM']));
    expect(new Set(members.map((m) => m.plan))).toEqual(new Set(['gold-ppo', 'silver-hmo', 'medicaid']));
  });

  it('match their EHR Coverage to the configured payer source by payor display', () => {
    for (const p of SANDBOX_TRADING_PARTNERS) {
      const source = eligibilitySourceSchema.parse({
        id: p.sourceId,
        kind: 'eligibility',
        baseUrl: 'http://127.0.0.1:1/eligibility/v3',
        auth: { type: 'none' },
        tradingPartnerServiceId: p.tradingPartnerServiceId,
        provider: { npi: '1999999984', organizationName: 'Mercy Hospital' },
        payerIds: [p.payorDisplay],
      });
      const mine = coverages.filter((c) => payerMatchesCoverage(source, c)).map((c) => c.subscriberId);
      const expected = members.filter((m) => m.tradingPartnerServiceId === p.tradingPartnerServiceId).map((m) => m.memberId);
      expect(new Set(mine)).toEqual(new Set(expected));
    }
  });
});
