import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, CapabilityStatement, Observation, OperationOutcome, Patient, Encounter } from '@medplum/fhirtypes';
import { MAX_COUNT_URL, SEARCH_MULTIPLE_OR_URL, SSN_SYSTEM, startSandbox, type Sandbox, type TruthPatient } from '../../sandbox/index.js';
import { entryIds, fetchAllPages, fetchJson } from './helpers.js';

let sb: Sandbox;
let both: TruthPatient[];
let mercyUrl: string;
let sjUrl: string;
/** A patient in both EHRs with the most Mercy observations. */
let p: TruthPatient;

beforeAll(async () => {
  sb = await startSandbox({ maxPatients: 4, profiles: { mercy: { requireAuth: false } } });
  both = sb.truth.patients.filter((t) => t.ehrs.stjude);
  p = [...both].sort((a, b) => (b.ehrs.mercy!.counts.Observation ?? 0) - (a.ehrs.mercy!.counts.Observation ?? 0))[0];
  mercyUrl = sb.ehr('mercy').baseUrl;
  sjUrl = sb.ehr('stjude').baseUrl;
});
afterAll(() => sb?.close());

const bundle = (url: string) => fetchJson<Bundle>(url);
const outcome = (url: string, init?: RequestInit) => fetchJson<OperationOutcome>(url, init);

describe('CapabilityStatement', () => {
  it('advertises version, OR support per parameter and the largest _count', async () => {
    const m = (await fetchJson<CapabilityStatement>(`${mercyUrl}/metadata`)).body;
    const s = (await fetchJson<CapabilityStatement>(`${sjUrl}/metadata`)).body;
    expect(m.fhirVersion).toBe('4.0.1');
    expect(m.software?.name).toContain('Mercy Hospital');
    const maxCount = (cs: CapabilityStatement) => cs.rest![0].extension!.find((e) => e.url === MAX_COUNT_URL)!.valueInteger;
    expect(maxCount(m)).toBe(100);
    expect(maxCount(s)).toBe(50);
    const orOn = (cs: CapabilityStatement, type: string, param: string) =>
      cs.rest![0].resource!.find((r) => r.type === type)!.searchParam!.find((sp) => sp.name === param)!.extension?.find((e) => e.url === SEARCH_MULTIPLE_OR_URL)?.valueBoolean;
    expect(orOn(m, 'Observation', 'patient')).toBe(true);
    expect(orOn(m, 'Patient', '_id')).toBe(true);
    expect(orOn(s, 'Observation', 'patient')).toBe(false);
    expect(orOn(s, 'Patient', 'identifier')).toBe(false);
    expect(orOn(s, 'Observation', 'code')).toBeUndefined();
    expect(s.rest![0].security).toBeUndefined();
    expect(m.rest![0].resource!.map((r) => r.type)).toEqual(expect.arrayContaining(['Patient', 'Observation', 'Condition', 'Encounter', 'Immunization']));
  });
});

describe('patient searches and OR lists', () => {
  it('serves exactly each patient\u2019s resources, per type, as the split says', async () => {
    for (const ehr of ['mercy', 'stjude'] as const) {
      const rec = p.ehrs[ehr]!;
      for (const [type, n] of Object.entries(rec.counts)) {
        if (type === 'Patient') continue;
        const { body } = await bundle(`${sb.ehr(ehr).baseUrl}/${type}?patient=${rec.patientId}&_summary=count`);
        expect([ehr, type, body.total]).toEqual([ehr, type, n]);
        expect(body.entry).toBeUndefined();
      }
    }
  });

  it('accepts comma OR on patient in Mercy', async () => {
    const two = both.slice(0, 2).map((t) => t.ehrs.mercy!);
    const expected = two.reduce((s, r) => s + (r.counts.Observation ?? 0), 0);
    const a = await bundle(`${mercyUrl}/Observation?patient=${two.map((r) => r.patientId).join(',')}&_count=0`);
    expect(a.status).toBe(200);
    expect(a.body.total).toBe(expected);
    const b = await bundle(`${mercyUrl}/Observation?subject=${two.map((r) => `Patient/${r.patientId}`).join(',')}&_count=0`);
    expect(b.body.total).toBe(expected);
    const c = await bundle(`${mercyUrl}/Patient?_id=${two.map((r) => r.patientId).join(',')}`);
    expect(entryIds(c.body).sort()).toEqual(two.map((r) => r.patientId).sort());
  });

  it('answers 400 with an OperationOutcome to comma OR on patient, subject, _id and identifier in St. Jude', async () => {
    const ids = both.slice(0, 2).map((t) => t.ehrs.stjude!.patientId);
    for (const q of [`Observation?patient=${ids}`, `Observation?subject=${ids}`, `Patient?_id=${ids}`, `Patient?identifier=a,b`]) {
      const a = await outcome(`${sjUrl}/${q}`);
      expect(a.status).toBe(400);
      expect(a.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
      expect(a.body.resourceType).toBe('OperationOutcome');
      expect(a.body.issue[0].code).toBe('not-supported');
    }
    // OR on other parameters is fine, and the profile can be changed at run time.
    expect((await bundle(`${sjUrl}/Observation?patient=${ids[0]}&category=vital-signs,laboratory`)).status).toBe(200);
    sb.ehr('stjude').profile.patientOrSearch = true;
    try {
      expect((await bundle(`${sjUrl}/Observation?patient=${ids}`)).status).toBe(200);
    } finally {
      sb.ehr('stjude').profile.patientOrSearch = false;
    }
  });

  it('finds patients by identifier with and without system', async () => {
    const r = p.ehrs.mercy!;
    const sys = 'http://mercy.example/fhir/mrn';
    expect(entryIds((await bundle(`${mercyUrl}/Patient?identifier=${encodeURIComponent(`${sys}|${r.mrn}`)}`)).body)).toEqual([r.patientId]);
    expect(entryIds((await bundle(`${mercyUrl}/Patient?identifier=${r.mrn}`)).body)).toEqual([r.patientId]);
    // `|value` means "no system": the MRN has one.
    expect((await bundle(`${mercyUrl}/Patient?identifier=${encodeURIComponent(`|${r.mrn}`)}`)).body.total).toBe(0);
    expect((await bundle(`${mercyUrl}/Patient?identifier=${encodeURIComponent(`http://stjude.example/fhir/mrn|${r.mrn}`)}`)).body.total).toBe(0);
    // The same person by SSN in both EHRs, where St. Jude kept it.
    for (const t of both) {
      const q = `Patient?identifier=${encodeURIComponent(`${SSN_SYSTEM}|${t.ssn}`)}`;
      expect(entryIds((await bundle(`${mercyUrl}/${q}`)).body)).toEqual([t.ehrs.mercy!.patientId]);
      expect(entryIds((await bundle(`${sjUrl}/${q}`)).body)).toEqual(t.ehrs.stjude!.hasSsn ? [t.ehrs.stjude!.patientId] : []);
    }
  });

  it('searches patients by name, birthdate and gender', async () => {
    const pt = (await fetchJson<Patient>(`${mercyUrl}/Patient/${p.ehrs.mercy!.patientId}`)).body;
    const family = pt.name![0].family!;
    const q = `Patient?family=${encodeURIComponent(family.slice(0, 3).toLowerCase())}&birthdate=${pt.birthDate}&gender=${pt.gender}`;
    expect(entryIds((await bundle(`${mercyUrl}/${q}`)).body)).toEqual([pt.id]);
    expect(entryIds((await bundle(`${sjUrl}/${q}`)).body)).toEqual([p.ehrs.stjude!.patientId]);
    expect(entryIds((await bundle(`${mercyUrl}/Patient?name=${encodeURIComponent(pt.name![0].given![0])}&_id=${pt.id}`)).body)).toEqual([pt.id]);
    expect((await bundle(`${mercyUrl}/Patient?family:exact=${encodeURIComponent(family.toLowerCase())}`)).body.total).toBe(0);
    expect((await bundle(`${mercyUrl}/Patient?birthdate=ne${pt.birthDate}&_id=${pt.id}`)).body.total).toBe(0);
  });
});

describe('token, date and escaping semantics', () => {
  let all: Observation[];
  let obs: Observation;
  beforeAll(async () => {
    all = (await fetchAllPages(`${mercyUrl}/Observation?patient=${p.ehrs.mercy!.patientId}&_count=100`)).resources as Observation[];
    obs = all.find((o) => o.effectiveDateTime)!;
  });

  it('matches code and category tokens, with and without system', async () => {
    const coding = obs.code.coding![0];
    const pid = p.ehrs.mercy!.patientId;
    const expected = all.filter((o) => o.code.coding!.some((c) => c.code === coding.code)).length;
    const count = async (q: string) => (await bundle(`${mercyUrl}/Observation?patient=${pid}&${q}&_count=0`)).body.total;
    expect(await count(`code=${encodeURIComponent(`${coding.system}|${coding.code}`)}`)).toBe(expected);
    expect(await count(`code=${coding.code}`)).toBe(expected);
    expect(await count(`code=${encodeURIComponent(`http://snomed.info/sct|${coding.code}`)}`)).toBe(0);
    const vitals = all.filter((o) => o.category?.some((c) => c.coding?.some((x) => x.code === 'vital-signs'))).length;
    expect(await count('category=vital-signs')).toBe(vitals);
    expect(await count(`category=${encodeURIComponent('http://terminology.hl7.org/CodeSystem/observation-category|vital-signs')}`)).toBe(vitals);
    // Repeated parameters AND: no observation is both codes.
    expect(await count(`code=${coding.code}&code=zzz`)).toBe(0);
  });

  it('applies date prefixes to partial dates and datetimes', async () => {
    const when = obs.effectiveDateTime!; // e.g. 2013-06-22T00:54:07+00:00, one second wide
    const day = when.slice(0, 10);
    const [y, m, d] = day.split('-').map(Number);
    const dayBefore = new Date(Date.UTC(y, m - 1, d - 1)).toISOString().slice(0, 10);
    const dayAfter = new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
    const hit = async (q: string) => (await bundle(`${mercyUrl}/Observation?_id=${obs.id}&date=${encodeURIComponent(q)}`)).body.total;
    const results: Record<string, number | undefined> = {};
    for (const q of [day.slice(0, 4), day.slice(0, 7), day, `eq${day}`, when, `ge${day}`, `le${day}`, `gt${dayBefore}`, `lt${dayAfter}`, `sa${dayBefore}`, `eb${dayAfter}`, `ne${String(y - 1)}`]) {
      results[q] = await hit(q);
    }
    expect(Object.values(results)).toEqual(Array(12).fill(1));
    for (const q of [String(y - 1), `gt${day}`, `lt${day}`, `sa${day}`, `eb${day}`, `ne${day}`, `ge${dayAfter}`, `le${dayBefore}`]) {
      expect([q, await hit(q)]).toEqual([q, 0]);
    }
    // lt + ge partition a patient's observations (point-in-time values).
    const pid = p.ehrs.mercy!.patientId;
    const lt = (await bundle(`${mercyUrl}/Observation?patient=${pid}&date=lt${day}&_count=0`)).body.total!;
    const ge = (await bundle(`${mercyUrl}/Observation?patient=${pid}&date=ge${day}&_count=0`)).body.total!;
    expect(lt + ge).toBe(all.length);
    expect(lt).toBe(all.filter((o) => o.effectiveDateTime! < day).length);
    // Ranges (both bounds) and _lastUpdated.
    expect(await hit(`ge${day}`)).toBe(1);
    const a = await bundle(`${mercyUrl}/Observation?_id=${obs.id}&date=ge${dayBefore}&date=le${dayAfter}`);
    expect(a.body.total).toBe(1);
    const lu = obs.meta!.lastUpdated!;
    expect((await bundle(`${mercyUrl}/Observation?_id=${obs.id}&_lastUpdated=${encodeURIComponent(lu.slice(0, 10))}`)).body.total).toBe(1);
    expect((await bundle(`${mercyUrl}/Observation?_id=${obs.id}&_lastUpdated=gt${lu.slice(0, 10)}`)).body.total).toBe(0);
    expect((await outcome(`${mercyUrl}/Observation?date=ge2013-02-30x`)).status).toBe(400);
  });

  it('matches Encounter periods', async () => {
    const encs = (await fetchAllPages(`${mercyUrl}/Encounter?patient=${p.ehrs.mercy!.patientId}`)).resources as Encounter[];
    const e = encs.find((x) => x.period?.start && x.period.end)!;
    const start = e.period!.start!.slice(0, 10);
    expect((await bundle(`${mercyUrl}/Encounter?_id=${e.id}&date=ge${start.slice(0, 4)}`)).body.total).toBe(1);
    expect((await bundle(`${mercyUrl}/Encounter?_id=${e.id}&date=eb${start}`)).body.total).toBe(0);
    expect((await bundle(`${mercyUrl}/Encounter?_id=${e.id}&date=sa${String(Number(start.slice(0, 4)) - 1)}`)).body.total).toBe(1);
  });

  it('treats \\, as a literal comma, not an OR separator', async () => {
    const code = obs.code.coding![0].code!;
    const pid = p.ehrs.mercy!.patientId;
    const count = async (base: string, q: string) => (await bundle(`${base}/Observation?${q}&_count=0`)).body.total;
    expect(await count(mercyUrl, `patient=${pid}&code=${encodeURIComponent(`${code},zzz`)}`)).toBeGreaterThan(0);
    expect(await count(mercyUrl, `patient=${pid}&code=${encodeURIComponent(`${code}\\,zzz`)}`)).toBe(0);
    // In St. Jude an escaped comma is one value, so it is not refused as an OR list.
    const sjPid = p.ehrs.stjude!.patientId;
    const a = await bundle(`${sjUrl}/Observation?patient=${encodeURIComponent(`${sjPid}\\,x`)}`);
    expect([a.status, a.body.total]).toEqual([200, 0]);
    const b = await bundle(`${sjUrl}/Patient?identifier=${encodeURIComponent('a\\,b')}`);
    expect([b.status, b.body.total]).toEqual([200, 0]);
  });

  it('sorts by date when asked, by id otherwise', async () => {
    const pid = p.ehrs.mercy!.patientId;
    const plain = (await fetchAllPages(`${mercyUrl}/Observation?patient=${pid}`)).resources.map((r) => r.id!);
    expect(plain).toEqual([...plain].sort());
    const sorted = (await fetchAllPages(`${mercyUrl}/Observation?patient=${pid}&_sort=-date`)).resources as Observation[];
    const dates = sorted.map((o) => Date.parse(o.effectiveDateTime!));
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
  });
});

describe('paging and _count', () => {
  it('pages with next links that round-trip, with the same total on every page', async () => {
    const ehr = sb.ehr('mercy');
    const pid = p.ehrs.mercy!.patientId;
    const total = p.ehrs.mercy!.counts.Observation!;
    ehr.resetRequests();
    const { pages, resources } = await fetchAllPages(`${mercyUrl}/Observation?patient=${pid}&_count=7`);
    expect(pages).toHaveLength(Math.ceil(total / 7));
    expect(pages.every((b) => b.total === total && b.type === 'searchset')).toBe(true);
    expect(pages.slice(0, -1).every((b) => b.entry!.length === 7)).toBe(true);
    expect(pages.at(-1)!.link!.some((l) => l.relation === 'next')).toBe(false);
    expect(pages[0].link!.find((l) => l.relation === 'self')!.url).toBe(`${mercyUrl}/Observation?patient=${pid}&_count=7`);
    const ids = resources.map((r) => r.id!);
    expect(new Set(ids).size).toBe(total);
    expect(ids).toEqual([...ids].sort());
    expect(ehr.requests.count({ resourceType: 'Observation', page: true })).toBe(pages.length - 1);
    expect(ehr.requests.count({ resourceType: 'Observation', page: false })).toBe(1);
    // Entries carry absolute fullUrls.
    expect(pages[0].entry![0].fullUrl).toBe(`${mercyUrl}/Observation/${ids[0]}`);
    expect((await outcome(`${mercyUrl}/Observation?_getpages=garbage`)).status).toBe(400);
  });

  it('caps _count at the profile maximum and answers totals only for _count=0', async () => {
    const a = await bundle(`${sjUrl}/Observation?_count=500`);
    expect(a.body.total).toBeGreaterThan(50);
    expect(a.body.entry).toHaveLength(50);
    expect(a.body.link!.find((l) => l.relation === 'self')!.url).toBe(`${sjUrl}/Observation?_count=50`);
    const b = await bundle(`${mercyUrl}/Observation?_count=500`);
    expect(b.body.entry).toHaveLength(Math.min(b.body.total!, 100));
    expect(b.body.link![0].url).toBe(`${mercyUrl}/Observation?_count=100`);
    const c = await bundle(`${sjUrl}/Observation?_count=0`);
    expect([c.body.total, c.body.entry, c.body.link!.length]).toEqual([a.body.total, undefined, 1]);
    expect((await outcome(`${sjUrl}/Observation?_count=abc`)).status).toBe(400);
    // Default page size without _count.
    expect((await bundle(`${sjUrl}/Observation`)).body.entry).toHaveLength(50);
  });
});

describe('read, POST _search and other routes', () => {
  it('reads by id, 404 with an OperationOutcome when missing', async () => {
    const id = p.ehrs.stjude!.patientId;
    const a = await fetchJson<Patient>(`${sjUrl}/Patient/${id}`);
    expect([a.status, a.body.id, a.body.resourceType]).toEqual([200, id, 'Patient']);
    expect(a.headers.get('etag')).toBe(`W/"${a.body.meta!.versionId}"`);
    const b = await outcome(`${sjUrl}/Patient/${p.ehrs.mercy!.patientId}`);
    expect([b.status, b.body.resourceType, b.body.issue[0].code]).toEqual([404, 'OperationOutcome', 'not-found']);
    expect((await outcome(`${sjUrl}/Claim?patient=x`)).status).toBe(404);
    expect((await outcome(`${sjUrl.replace('/fhir/R4', '')}/Patient`)).status).toBe(404);
  });

  it('accepts POST _search where the profile allows it', async () => {
    const pid = p.ehrs.mercy!.patientId;
    const post = await fetchJson<Bundle>(`${mercyUrl}/Observation/_search`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ patient: pid, _count: '5' }),
    });
    expect(post.status).toBe(200);
    expect(post.body.total).toBe(p.ehrs.mercy!.counts.Observation);
    expect(post.body.entry).toHaveLength(5);
    const next = post.body.link!.find((l) => l.relation === 'next')!.url;
    expect((await bundle(next)).body.entry).toHaveLength(5);
    const sj = await outcome(`${sjUrl}/Observation/_search`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'patient=x',
    });
    expect(sj.status).toBe(405);
  });

  it('ignores unknown parameters and records them', async () => {
    const ehr = sb.ehr('stjude');
    const pid = p.ehrs.stjude!.patientId;
    ehr.resetRequests();
    const a = await bundle(`${sjUrl}/Observation?patient=${pid}&frobnicate=1&_count=0`);
    expect([a.status, a.body.total]).toEqual([200, p.ehrs.stjude!.counts.Observation]);
    expect(a.body.link![0].url).toBe(`${sjUrl}/Observation?patient=${pid}&_count=0`);
    expect(ehr.requests.entries[0].ignoredParams).toEqual(['frobnicate']);
    expect(ehr.requests.entries[0].params).toEqual([
      ['patient', pid],
      ['frobnicate', '1'],
      ['_count', '0'],
    ]);
  });

  it('counts requests by resource type and resets', async () => {
    const ehr = sb.ehr('stjude');
    ehr.resetRequests();
    const pid = p.ehrs.stjude!.patientId;
    await Promise.all([
      bundle(`${sjUrl}/Observation?patient=${pid}`),
      bundle(`${sjUrl}/Observation?patient=${pid}&category=laboratory`),
      bundle(`${sjUrl}/Condition?patient=${pid}`),
      fetchJson(`${sjUrl}/metadata`),
    ]);
    expect(ehr.requests.count()).toBe(4);
    expect(ehr.requests.countByResourceType()).toEqual({ Observation: 2, Condition: 1 });
    expect(ehr.requests.count({ interaction: 'capabilities' })).toBe(1);
    expect(ehr.requests.count({ interaction: 'search', status: 200 })).toBe(3);
    ehr.resetRequests();
    expect(ehr.requests.count()).toBe(0);
  });
});
