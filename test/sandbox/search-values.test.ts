import { describe, expect, it } from 'vitest';
import { dateRange, matchesDate, parseDateQuery, parseReference, parseToken, splitOrList, unescapeValue } from '../../sandbox/search-values.js';

describe('FHIR search value parsing', () => {
  it('splits OR lists on unescaped commas only and unescapes afterwards', () => {
    expect(splitOrList('a,b\\,c,d').map(unescapeValue)).toEqual(['a', 'b,c', 'd']);
    expect(splitOrList('x\\\\,y').map(unescapeValue)).toEqual(['x\\', 'y']);
    expect(unescapeValue('a\\$b\\|c')).toBe('a$b|c');
  });

  it('parses token forms', () => {
    expect(parseToken('http://loinc.org|8302-2')).toEqual({ system: 'http://loinc.org', code: '8302-2' });
    expect(parseToken('|8302-2')).toEqual({ system: '', code: '8302-2' });
    expect(parseToken('8302-2')).toEqual({ code: '8302-2' });
    expect(parseToken('http://loinc.org|')).toEqual({ system: 'http://loinc.org' });
    expect(parseToken('sys|a\\|b')).toEqual({ system: 'sys', code: 'a|b' });
  });

  it('parses references', () => {
    expect(parseReference('Patient/p1')).toEqual({ type: 'Patient', id: 'p1' });
    expect(parseReference('p1')).toEqual({ type: undefined, id: 'p1' });
    expect(parseReference('p1', 'Patient')).toEqual({ type: 'Patient', id: 'p1' });
    expect(parseReference('http://x.example/fhir/Patient/p1/_history/2')).toEqual({ type: 'Patient', id: 'p1' });
  });

  it('gives partial dates their implicit ranges', () => {
    expect(dateRange('2013')).toEqual({ lo: Date.UTC(2013, 0, 1), hi: Date.UTC(2014, 0, 1) });
    expect(dateRange('2013-12')).toEqual({ lo: Date.UTC(2013, 11, 1), hi: Date.UTC(2014, 0, 1) });
    expect(dateRange('2013-06-22')).toEqual({ lo: Date.UTC(2013, 5, 22), hi: Date.UTC(2013, 5, 23) });
    const t = Date.UTC(2013, 5, 22, 0, 54, 7);
    expect(dateRange('2013-06-22T00:54:07+00:00')).toEqual({ lo: t, hi: t + 1000 });
    expect(dateRange('2013-06-22T02:54:07+02:00')).toEqual({ lo: t, hi: t + 1000 });
    expect(dateRange('2013-06-22T00:54:07.084Z')).toEqual({ lo: t + 84, hi: t + 85 });
    expect(dateRange('2013-13')).toBeUndefined();
    expect(dateRange('yesterday')).toBeUndefined();
  });

  it('applies every prefix with FHIR range semantics', () => {
    const day = dateRange('2013-06-22T00:54:07Z')!;
    const m = (q: string): boolean => matchesDate(parseDateQuery(q, 'date'), day);
    expect(['2013', 'eq2013-06', '2013-06-22', 'ge2013-06-22', 'le2013-06-22', 'gt2012', 'lt2014', 'sa2013-06-21', 'eb2013-06-23', 'ne2012', 'ap2013-06-22'].filter(m)).toHaveLength(11);
    expect(['2012', 'gt2013-06-22', 'lt2013-06-22', 'sa2013-06-22', 'eb2013-06-22', 'ne2013', 'ge2014', 'le2012-12-31'].filter(m)).toEqual([]);
    // An open-ended period extends to infinity: after any date, never contained in one.
    const open = { lo: Date.UTC(2010, 0, 1), hi: Infinity };
    expect(matchesDate(parseDateQuery('gt2030', 'date'), open)).toBe(true);
    expect(matchesDate(parseDateQuery('2010', 'date'), open)).toBe(false);
    expect(() => parseDateQuery('xx2013', 'date')).toThrow(/needs a FHIR date/);
  });
});
