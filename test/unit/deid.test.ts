import { describe, expect, it } from 'vitest';
import { ageGroup, ageInYears, birthYear, deidentifyAddress, Pseudonymizer, PseudonymIndex, RESTRICTED_ZIP3, yearOnly, zip3 } from '../../deid/index.js';

const KEY = 'k'.repeat(32);
const TODAY = new Date('2026-11-25T12:00:00Z');

describe('Safe Harbor value rules', () => {
  it('keep only the year of dates and dateTimes', () => {
    expect(yearOnly('2019-03-05T10:11:12+02:00')).toBe('2019');
    expect(yearOnly('2019-03')).toBe('2019');
    expect(yearOnly('2019')).toBe('2019');
    expect(yearOnly(null)).toBeNull();
    expect(yearOnly('not a date')).toBeNull();
  });

  it('cut ZIP codes to 3 digits and the 17 sparsely populated prefixes to 000', () => {
    expect(zip3('01940')).toBe('019');
    expect(zip3('02108-1234')).toBe('021');
    expect(zip3('021081234')).toBe('021');
    expect([...RESTRICTED_ZIP3].sort()).toEqual(
      ['036', '059', '063', '102', '203', '556', '692', '790', '821', '823', '830', '831', '878', '879', '884', '890', '893'],
    );
    for (const p of RESTRICTED_ZIP3) expect(zip3(`${p}45`)).toBe('000');
    expect(zip3('SW1A 1AA')).toBeNull();
    expect(zip3('123')).toBeNull();
    expect(zip3(undefined)).toBeNull();
  });

  it('group ages over 89 as 90+ and withhold their birth year', () => {
    expect(ageInYears('1936-11-26', TODAY)).toBe(89);
    expect(ageGroup('1936-11-26', TODAY)).toBe('85-89');
    expect(birthYear('1936-11-26', TODAY)).toBe(1936);
    expect(ageInYears('1936-11-25', TODAY)).toBe(90);
    expect(ageGroup('1936-11-25', TODAY)).toBe('90+');
    expect(birthYear('1936-11-25', TODAY)).toBeNull();
    expect(ageGroup('1901', TODAY)).toBe('90+');
    // A year alone counts from its first day, so someone who may be 90 is grouped as 90+.
    expect(ageGroup('1936', TODAY)).toBe('90+');
    expect(ageGroup('2026-01-01', TODAY)).toBe('0-4');
    expect(ageGroup('1980-10-28', TODAY)).toBe('45-49');
    expect(ageGroup(null, TODAY)).toBeNull();
  });

  it('reduce an address to state, country and ZIP3', () => {
    expect(deidentifyAddress({ state: 'Massachusetts', postalCode: '05901', country: 'US' })).toEqual({
      line: [],
      city: null,
      state: 'Massachusetts',
      postalCode: '000',
      country: 'US',
    });
  });
});

describe('pseudonyms', () => {
  const id = '5f0c3a52-8d7e-4d2f-9b8e-0d7a4f1c2b3a';

  it('are HMAC-SHA256 under the key: stable, key-dependent, and separate for patients and resources', () => {
    const a = new Pseudonymizer(KEY);
    expect(a.patientId(id)).toBe(new Pseudonymizer(KEY).patientId(id));
    expect(a.patientId(id)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.patientId(id)).not.toBe(new Pseudonymizer('j'.repeat(32)).patientId(id));
    expect(a.patientId(id)).not.toBe(a.resourceId(id));
    expect(a.patientId(id)).not.toContain(id.slice(0, 8));
    expect(() => new Pseudonymizer('short')).toThrow('at least 32 bytes');
  });

  it('resolve back to unified ids through the index, reading only new patients on a miss', async () => {
    const p = new Pseudonymizer(KEY);
    const rows = [{ id, createdAt: new Date('2026-01-01T00:00:00Z') }];
    const calls: (Date | null)[] = [];
    const index = new PseudonymIndex(p, async (since) => {
      calls.push(since);
      return rows.filter((r) => !since || r.createdAt >= since);
    });
    expect(await index.resolve([p.patientId(id), 'not-a-pseudonym'])).toEqual([id, null]);
    expect(calls).toEqual([null]);
    expect(await index.resolve([p.patientId(id)])).toEqual([id]);
    expect(calls).toHaveLength(1); // a hit reads nothing

    const later = '6f0c3a52-8d7e-4d2f-9b8e-0d7a4f1c2b3a';
    rows.push({ id: later, createdAt: new Date('2026-02-01T00:00:00Z') });
    expect(await index.resolve([p.patientId(later)])).toEqual([later]);
    // Incremental, with a minute of overlap for late commits.
    expect(calls[1]).toEqual(new Date('2025-12-31T23:59:00Z'));
    expect(await index.resolve(['B'.repeat(43)])).toEqual([null]);
  });
});
