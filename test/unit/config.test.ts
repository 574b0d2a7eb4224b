import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, resolveConfigPath } from '../../config/load-config.js';

const run = promisify(execFile);

const good = {
  sources: [
    {
      id: 'mercy',
      kind: 'fhir',
      name: 'Mercy',
      baseUrl: 'https://ehr.mercy.example/fhir/R4',
      auth: { type: 'smart-backend', tokenUrl: 'https://ehr.mercy.example/token', clientId: 'cg', privateKey: '${MERCY_KEY}' },
    },
  ],
};

function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('fills defaults and interpolates ${ENV} secrets', () => {
    const config = parseConfig(good, 'x.yaml', { MERCY_KEY: 'pem-text' });
    const mercy = config.sources[0]!;
    expect(mercy.kind === 'fhir' && mercy.auth.type === 'smart-backend' && mercy.auth.privateKey).toBe('pem-text');
    expect(mercy.kind === 'fhir' && mercy.auth.type === 'smart-backend' && mercy.auth.alg).toBe('RS384');
    expect(config.server.port).toBe(4000);
    expect(config.cache.url).toBe('pglite:.chartgraph/cache');
    expect(config.auth.mode).toBe('dev');
    expect(Object.isFrozen(config.sources[0])).toBe(true);
  });

  it('lists every problem with its path, not just the first', () => {
    const bad = {
      server: { port: 70000 },
      cache: { url: 'mysql://x' },
      sources: [
        { ...good.sources[0], baseUrl: 'not a url', auth: { type: 'smart-backend', tokenUrl: 'https://t', clientId: 'cg', privateKey: '${MISSING_KEY}', alg: 'HS256' } },
        { id: 'mercy', kind: 'fhir', name: 'Dup', baseUrl: 'https://b.example', extra: true },
        { id: 'payer', kind: 'eligibility', baseUrl: 'https://p.example', auth: { type: 'none' }, tradingPartnerServiceId: '1', provider: { npi: '12', organizationName: 'X' } },
      ],
    };
    const problems = problemsOf(() => parseConfig(bad, 'x.yaml', {}));
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'server.port',
        'cache.url',
        'sources[0].baseUrl',
        'sources[0].auth.privateKey',
        'sources[0].auth.alg',
        'sources[1]',
        'sources[1].id',
        'sources[2].provider.npi',
      ]),
    );
    expect(problems.find((p) => p.path === 'sources[0].auth.privateKey')!.message).toBe('environment variable MISSING_KEY is not set');
    expect(problems.find((p) => p.path === 'sources[1].id')!.message).toBe('duplicate source id "mercy"');
  });

  it('reports YAML syntax errors with their line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-config-'));
    const file = path.join(dir, 'chartgraph.yaml');
    await writeFile(file, 'sources:\n  - id: a\n   kind: fhir\n');
    const problems = problemsOf(() => loadConfig(file, {}));
    expect(problems[0]!.path).toMatch(/^line \d+$/);
    expect(problemsOf(() => loadConfig(path.join(dir, 'missing.yaml'), {}))).toEqual([{ path: '', message: 'cannot read file (ENOENT)' }]);
  });

  it('finds the file by --config, then CHARTGRAPH_CONFIG, then ./chartgraph.yaml', () => {
    expect(resolveConfigPath('/a.yaml', { CHARTGRAPH_CONFIG: '/b.yaml' })).toBe('/a.yaml');
    expect(resolveConfigPath(undefined, { CHARTGRAPH_CONFIG: '/b.yaml' })).toBe('/b.yaml');
    expect(resolveConfigPath(undefined, {})).toBe(path.resolve('chartgraph.yaml'));
  });

  it('makes the CLI exit non-zero with every problem listed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-config-'));
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, 'server: { port: -1, production: true }\nauth: { mode: dev }\nsources: []\n');
    const err = await run('npx', ['tsx', 'server/cli.ts', '--config', file, 'serve'], { env: { ...process.env, CHARTGRAPH_CONFIG: '' } }).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toContain(`invalid config ${file}`);
    expect(err.stderr).toContain('- server.port:');
    expect(err.stderr).toContain('- sources: at least one source is needed');
    expect(err.stderr).toContain('- auth.mode: auth.mode dev is refused with server.production: configure an OIDC issuer (auth.mode: oidc)');
  });

  it('refuses dev auth in production, and a production config without auth; caps token lifetimes', () => {
    const source = { id: 'a', kind: 'fhir', name: 'A', baseUrl: 'http://127.0.0.1:1/fhir' };
    const oidc = { mode: 'oidc', issuer: 'https://login.example.org/realms/h', audience: 'chartgraph' };
    expect(problemsOf(() => parseConfig({ server: { production: true }, auth: { mode: 'dev' }, sources: [source] }, 'x.yaml', {}))).toEqual([
      { path: 'auth.mode', message: 'auth.mode dev is refused with server.production: configure an OIDC issuer (auth.mode: oidc)' },
    ]);
    expect(problemsOf(() => parseConfig({ server: { production: true }, sources: [source] }, 'x.yaml', {}))).toEqual([
      { path: 'auth', message: 'required with server.production: configure an OIDC issuer (auth.mode: oidc)' },
    ]);
    const prod = parseConfig({ server: { production: true }, auth: oidc, sources: [source] }, 'x.yaml', {});
    expect(prod.auth).toMatchObject({ mode: 'oidc', maxTokenLifetimeSec: 3600 });
    expect(parseConfig({ sources: [source] }, 'x.yaml', {}).auth).toEqual({ mode: 'dev', issuer: 'chartgraph-dev', audience: 'chartgraph', maxTokenLifetimeSec: 3600 });
    expect(parseConfig({ sources: [source] }, 'x.yaml', {}).limits).toMatchObject({ maxFields: 500, maxDirectives: 50, maxStringLength: 256 });
    expect(problemsOf(() => parseConfig({ auth: { ...oidc, maxTokenLifetimeSec: 0 }, limits: { rateLimit: {} }, sources: [source] }, 'x.yaml', {})).map((p) => p.path)).toEqual([
      'auth.maxTokenLifetimeSec',
      'limits.rateLimit',
    ]);
  });
});
