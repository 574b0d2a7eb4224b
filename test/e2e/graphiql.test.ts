import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { demoExamples } from '../../sandbox/demo-examples.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load-config.js';
import { GRAPHIQL_CSP, graphiqlEnabled } from '../../server/graphiql.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** The example operations GraphiQL preloads as tabs. */
const OPERATION_FILES = readdirSync(new URL('../../operations/', import.meta.url)).filter((f) => f.endsWith('.graphql')).length;

// GraphiQL in Debian's Chromium, with nothing reachable but the gateway: the page must load
// from the gateway alone (no CDN), run a query with a pasted token and show the answer.

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`test/e2e/graphiql.test.ts skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('GraphiQL switch', () => {
  const config = (server: Record<string, unknown>) =>
    parseConfig({ server, auth: { mode: 'dev' }, sources: [{ id: 'a', kind: 'fhir', name: 'A', baseUrl: 'http://127.0.0.1:1/fhir' }] });
  const production = (server: Record<string, unknown>) =>
    parseConfig({
      server: { production: true, ...server },
      auth: { mode: 'oidc', issuer: 'https://login.example.org/realms/h', audience: 'chartgraph' },
      sources: [{ id: 'a', kind: 'fhir', name: 'A', baseUrl: 'http://127.0.0.1:1/fhir' }],
    });
  it('is on by default, off in production, and the explicit setting wins', () => {
    expect(graphiqlEnabled(config({}))).toBe(true);
    expect(graphiqlEnabled(production({}))).toBe(false);
    expect(graphiqlEnabled(production({ graphiql: true }))).toBe(true);
    expect(graphiqlEnabled(config({ graphiql: false }))).toBe(false);
  });
});

describe('the demo page’s dev tokens', () => {
  const settingsOf = async (t: TestGateway) => {
    const html = await (await fetch(`${t.gateway.url}/graphql`, { headers: { accept: 'text/html' } })).text();
    return JSON.parse(/<script type="application\/json" id="chartgraph-graphiql-settings">(.*?)<\/script>/s.exec(html)![1]!);
  };
  const demo = (host: string) =>
    startTestGateway({
      sandbox: { maxPatients: 1 },
      gatewayOptions: { graphiqlDevTokens: true },
      config: (sources) => ({ server: { port: 0, host, logLevel: 'silent' }, cache: { url: 'pglite:memory:' }, auth: { mode: 'dev' }, sources }),
    });

  it('offer admin only when the gateway listens on loopback, and the page says so otherwise', async () => {
    const local = await demo('127.0.0.1');
    try {
      const settings = await settingsOf(local);
      expect(settings.devTokens.map((d: any) => d.role)).toEqual(['clinician', 'care_coordinator', 'billing', 'analyst', 'admin']);
      expect(settings.notice).toBeUndefined();
    } finally {
      await local.close();
    }
    const open = await demo('0.0.0.0');
    try {
      const settings = await settingsOf(open);
      expect(settings.devTokens.map((d: any) => d.role)).toEqual(['clinician', 'care_coordinator', 'billing', 'analyst']);
      expect(settings.notice).toBe('The admin dev token is offered only when the gateway listens on loopback (server.host 127.0.0.1, ::1 or localhost).');
    } finally {
      await open.close();
    }
  }, 60_000);
});

describe.skipIf(!haveChromium)('GraphiQL', () => {
  let t: TestGateway;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(path.join(root, 'dist/graphiql/manifest.json'))) {
      const built = spawnSync(process.execPath, ['scripts/build-graphiql.mjs'], { cwd: root, encoding: 'utf8' });
      if (built.status !== 0) throw new Error(`building GraphiQL failed: ${built.stderr}`);
    }
    [t, browser] = await Promise.all([
      startTestGateway({ gatewayOptionsFor: async (sandbox) => ({ graphiqlExamples: { ...(await demoExamples(sandbox))! } }) }),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  }, 30_000);

  it('serves the page to browsers only, with a self-only CSP', async () => {
    const page = await fetch(`${t.gateway.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(GRAPHIQL_CSP);
    const html = await page.text();
    expect(html).not.toMatch(/(src|href)="(?!\/)/);
    // One tab per example operation (operations/*.graphql), and no dev tokens unless the gateway was told to offer them.
    const settings = JSON.parse(/<script type="application\/json" id="chartgraph-graphiql-settings">(.*?)<\/script>/s.exec(html)![1]!);
    expect(settings.tabs).toHaveLength(OPERATION_FILES);
    expect(settings.devTokens).toEqual([]);

    // A GET with a query is GraphQL, not the page.
    const q = await fetch(`${t.gateway.url}/graphql?query=${encodeURIComponent('{ sources { id } }')}`, {
      headers: { accept: 'text/html, application/json', authorization: `Bearer ${await t.token('clinician')}`, 'apollo-require-preflight': '1' },
    });
    expect(q.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
    expect(((await q.json()) as any).data.sources.map((s: any) => s.id)).toEqual(['mercy', 'stjude']);
    const asset = await fetch(`${t.gateway.url}/graphiql/graphiql.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    // Read the body: an unread response keeps its connection busy, and the gateway's close waits on it.
    expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });

  it('loads from the gateway alone, runs a patient query with a pasted token and shows the result', async () => {
    const patient = t.sandbox.truth.patients.find((p) => p.ehrs.mercy)!;
    const context = await browser.newContext();
    const page = await context.newPage();
    const requests: string[] = [];
    const failed: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
    page.on('console', (m) => {
      // Before a token is pasted, GraphiQL's introspection is refused with a 401 (logged by Chromium).
      if ((m.type() === 'error' || m.type() === 'warning') && !m.text().includes('status of 401')) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    try {
      const res = await page.goto(`${t.gateway.url}/graphql`, { waitUntil: 'load' });
      expect(res?.status()).toBe(200);
      await page.locator('.graphiql-container').waitFor({ timeout: 10_000 });

      await page.locator('#cg-token-input').fill(await t.token('clinician'));
      // The first tab is the patient lookup; its variables are replaced with a sandbox patient's MRN.
      await expect.poll(() => page.locator('.graphiql-query-editor .CodeMirror').evaluate((el: any) => el.CodeMirror.getValue() as string)).toContain(
        'query PatientByIdentifier(',
      );
      // CodeMirror 5 keeps its editor object on the wrapper element.
      await page.evaluate((variables) => {
        const cm = (document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror') as any)?.CodeMirror;
        if (!cm) throw new Error('variables editor not found');
        cm.setValue(variables);
      }, JSON.stringify({ system: 'http://mercy.example/fhir/mrn', value: patient.ehrs.mercy!.mrn, first: 5 }));
      await page.locator('.graphiql-execute-button').click();

      const result = page.locator('.result-window .CodeMirror');
      await expect.poll(() => result.evaluate((el: any) => el.CodeMirror.getValue() as string), { timeout: 10_000 }).toContain(patient.ehrs.mercy!.patientId);
      const shown = JSON.parse(await result.evaluate((el: any) => el.CodeMirror.getValue() as string));
      expect(shown.errors).toBeUndefined();
      expect(shown.data.patientByIdentifier.sourceRecords).toContainEqual({
        source: { id: 'mercy', name: 'Mercy Hospital' },
        sourcePatientId: patient.ehrs.mercy!.patientId,
        matchMethod: expect.any(String),
      });

      // The docs come from the schema's descriptions.
      await page.getByRole('button', { name: /documentation explorer/i }).click();
      await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().click();
      await page.getByText('One patient by unified id, with every linked source record.').waitFor({ timeout: 5_000 });

      const origin = new URL(t.gateway.url).origin;
      expect(requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:'))).toEqual([]);
      expect(requests.every((u) => u.startsWith('data:') || new URL(u).hostname === '127.0.0.1')).toBe(true);
      expect(failed).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 30_000);

  it('fresh load: the first tab runs as it is, with an MRN and a name from the sandbox; tabs usable at 800 px', async () => {
    const examples = (await demoExamples(t.sandbox))!;
    const patient = t.sandbox.truth.patients.find((p) => p.ehrs.mercy?.mrn === examples.value)!;
    expect(patient).toBeDefined();
    const context = await browser.newContext({ viewport: { width: 800, height: 700 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    const editorText = (selector: string) => page.locator(selector).evaluate((el: any) => el.CodeMirror.getValue() as string);
    try {
      await page.goto(`${t.gateway.url}/graphql`, { waitUntil: 'load' });
      await page.locator('.graphiql-container').waitFor({ timeout: 10_000 });
      await page.locator('#cg-token-input').fill(await t.token('clinician'));
      await expect.poll(() => editorText('.graphiql-query-editor .CodeMirror')).toContain('query PatientByIdentifier(');
      // Filled without touching any tab.
      const variables = JSON.parse(await editorText('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror'));
      expect(variables).toEqual({ system: 'http://mercy.example/fhir/mrn', value: examples.value, first: 10 });

      await page.locator('.graphiql-execute-button').click();
      const result = '.result-window .CodeMirror';
      await expect.poll(() => editorText(result), { timeout: 15_000 }).toContain(patient.ehrs.mercy!.patientId);
      const shown = JSON.parse(await editorText(result));
      expect(shown.errors).toBeUndefined();
      expect(shown.data.patientByIdentifier.name.family).toBe(examples.name);

      // 800 px: nothing runs off the page sideways; the run button and every tab can be reached and used.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(800);
      const run = await page.locator('.graphiql-execute-button').boundingBox();
      expect(run!.x + run!.width).toBeLessThanOrEqual(800);
      const tabs = page.locator('.graphiql-tab');
      expect(await tabs.count()).toBe(OPERATION_FILES);
      const last = tabs.last();
      const title = (await last.innerText()).trim();
      await last.locator('button').first().click();
      await expect.poll(() => editorText('.graphiql-query-editor .CodeMirror')).toContain(title);
      const box = await last.boundingBox();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(800);
      // The search tab starts with a name that is in the sandbox.
      await tabs.filter({ hasText: 'SearchPatients' }).locator('button').first().click();
      expect(JSON.parse(await editorText('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror')).name).toBe(examples.name);
      await page.screenshot({ path: path.join(os.tmpdir(), 'cg-graphiql-800.png') });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
