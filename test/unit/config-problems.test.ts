import { describe, expect, it } from 'vitest';
import { COMMAND_ENV_SECTIONS, ConfigError, parseConfig } from '../../config/load-config.js';

// What an operator sees for a broken config: every problem once, with its path; and the
// secrets of parts a command does not use are not asked for.

function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const fhir = (over: Record<string, unknown> = {}) => ({
  id: 'mercy',
  kind: 'fhir',
  name: 'Mercy',
  baseUrl: 'https://ehr.mercy.example/fhir/R4',
  auth: { type: 'smart-backend', tokenUrl: 'https://ehr.mercy.example/token', clientId: 'cg', privateKey: '${MERCY_KEY}' },
  ...over,
});
const payer = {
  id: 'acme',
  kind: 'eligibility',
  baseUrl: 'https://payer.example/eligibility',
  auth: { type: 'bearer', token: '${ACME_TOKEN}' },
  tradingPartnerServiceId: '62308',
  provider: { npi: '1999999984', organizationName: 'Mercy' },
};

describe('config problems', () => {
  it('a wrong kind still shows that source’s other mistakes', () => {
    const problems = problemsOf(() =>
      parseConfig({ sources: [fhir({ kind: 'fhri', baseUrl: 'not a url', timeoutMs: -1 })] }, 'x.yaml', { MERCY_KEY: 'k' }),
    );
    expect(problems).toEqual([
      { path: 'sources[0].kind', message: 'unknown kind "fhri": one of fhir, eligibility' },
      { path: 'sources[0].baseUrl', message: 'Invalid URL' },
      { path: 'sources[0].timeoutMs', message: 'Too small: expected number to be >0' },
    ]);
  });

  it('a missing kind is checked against the closest kind (here eligibility)', () => {
    const { kind: _kind, ...noKind } = payer;
    const problems = problemsOf(() => parseConfig({ sources: [{ ...noKind, provider: { npi: '12', organizationName: 'Mercy' } }] }, 'x.yaml', { ACME_TOKEN: 't' }));
    expect(problems).toEqual([
      { path: 'sources[0].kind', message: 'missing: one of fhir, eligibility' },
      { path: 'sources[0].provider.npi', message: 'must be a 10-digit NPI' },
    ]);
  });

  it('an unset environment variable is reported once', () => {
    const problems = problemsOf(() => parseConfig({ sources: [fhir()] }, 'x.yaml', {}));
    expect(problems).toEqual([{ path: 'sources[0].auth.privateKey', message: 'environment variable MERCY_KEY is not set' }]);
  });

  it('a command resolves only the sections it needs: a token needs no source secrets', () => {
    const raw = { auth: { mode: 'dev', secret: '${DEV_SECRET}' }, sources: [fhir(), payer] };
    const env = { DEV_SECRET: 'a'.repeat(40) };
    const config = parseConfig(raw, 'x.yaml', env, { envSections: COMMAND_ENV_SECTIONS.token });
    expect(config.auth).toMatchObject({ mode: 'dev', secret: 'a'.repeat(40) });
    // Left as written: never used by this command.
    const mercy = config.sources[0]!;
    expect(mercy.kind === 'fhir' && mercy.auth.type === 'smart-backend' && mercy.auth.privateKey).toBe('${MERCY_KEY}');
    // The section the command needs is still checked.
    expect(problemsOf(() => parseConfig(raw, 'x.yaml', {}, { envSections: COMMAND_ENV_SECTIONS.token }))).toEqual([
      { path: 'auth.secret', message: 'environment variable DEV_SECRET is not set' },
    ]);
    // check and sync need the FHIR sources' secrets, not the payers'.
    expect(problemsOf(() => parseConfig(raw, 'x.yaml', env, { envSections: COMMAND_ENV_SECTIONS.check }))).toEqual([
      { path: 'sources[0].auth.privateKey', message: 'environment variable MERCY_KEY is not set' },
    ]);
    expect(() => parseConfig(raw, 'x.yaml', { ...env, MERCY_KEY: 'k' }, { envSections: COMMAND_ENV_SECTIONS.sync })).not.toThrow();
    // serve (no sections given) needs every one.
    expect(problemsOf(() => parseConfig(raw, 'x.yaml', { ...env, MERCY_KEY: 'k' })).map((p) => p.path)).toEqual(['sources[1].auth.token']);
  });

  it('an unresolved value that cannot stand as written in an unused section says why', () => {
    const raw = { sources: [fhir({ baseUrl: '${MERCY_URL}' })] };
    expect(problemsOf(() => parseConfig(raw, 'x.yaml', {}, { envSections: COMMAND_ENV_SECTIONS.token }))).toEqual([
      { path: 'sources[0].baseUrl', message: 'Invalid URL (it names an environment variable that is not set)' },
    ]);
  });

  it('names each trusted proxy that is not an address or range', () => {
    const raw = { server: { trustProxy: ['10.0.0.0/8', '::1', 'loopback', 'lb.internal', '10.0.0.0/33'] }, sources: [fhir()] };
    const message = 'must be an IP address, a CIDR range (10.0.0.0/8) or loopback, linklocal, uniquelocal';
    expect(problemsOf(() => parseConfig(raw, 'x.yaml', { MERCY_KEY: 'k' }))).toEqual([
      { path: 'server.trustProxy[3]', message },
      { path: 'server.trustProxy[4]', message },
    ]);
  });
});
