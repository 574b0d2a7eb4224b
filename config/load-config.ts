import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { configSchema, eligibilitySourceSchema, fhirSourceSchema, type ChartgraphConfig } from './config.schema.js';

/** One problem in a config file, with where it is (`sources[1].auth.tokenUrl`). */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** A config that cannot be used; `problems` lists every one found, not just the first. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`invalid config ${file}:\n` + problems.map((p) => `  - ${p.path || '(root)'}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Where the config lives: `--config`, then `CHARTGRAPH_CONFIG`, then `./chartgraph.yaml`. */
export function resolveConfigPath(cliPath?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(cliPath ?? env.CHARTGRAPH_CONFIG ?? 'chartgraph.yaml');
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out ? `${out}.${String(key)}` : String(key);
  }, '');
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Options of {@link parseConfig} and {@link loadConfig}. */
export interface ParseConfigOptions {
  /**
   * Top-level sections (`auth`, `cache`, `sources`, ...; `sources:fhir` for the FHIR sources
   * only) whose `${ENV}` references must be set; default: all. A command that needs only some parts (`token` needs `auth`) leaves
   * the others' unset variables unresolved and unreported, so minting a token never needs
   * the sources' secrets.
   */
  envSections?: readonly string[];
}

interface Interpolation {
  env: NodeJS.ProcessEnv;
  problems: ConfigProblem[];
  /** Paths whose value could not be resolved: validation problems there are not repeated. */
  unresolved: Set<string>;
  /** Paths left unresolved on purpose (sections the command does not use). */
  skipped: Set<string>;
  envSections?: readonly string[];
  root: unknown;
}

/** Whether `path` lies in `section`: a top-level key, or `sources:<kind>` for the sources of one kind. */
function sectionHolds(section: string, path: readonly PropertyKey[], root: unknown): boolean {
  const [top, kind] = section.split(':');
  if (String(path[0]) !== top) return false;
  if (!kind) return true;
  const entry = (root as { sources?: unknown[] } | null)?.sources?.[Number(path[1])];
  return (entry as { kind?: unknown } | undefined)?.kind === kind;
}

/** Replaces `${NAME}` in every string of the tree; unset variables become problems (one per path). */
function interpolateEnv(node: unknown, path: PropertyKey[], st: Interpolation): unknown {
  if (typeof node === 'string') {
    const where = formatPath(path);
    const needed = !st.envSections || st.envSections.some((section) => sectionHolds(section, path, st.root));
    return node.replace(ENV_REF, (ref, name: string) => {
      const value = st.env[name];
      if (value !== undefined) return value;
      if (!needed) {
        st.skipped.add(where);
        return ref;
      }
      if (!st.unresolved.has(where)) st.problems.push({ path: where, message: `environment variable ${name} is not set` });
      st.unresolved.add(where);
      return '';
    });
  }
  if (Array.isArray(node)) return node.map((item, i) => interpolateEnv(item, [...path, i], st));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateEnv(v, [...path, k], st)]));
  }
  return node;
}

const SOURCE_KINDS = { fhir: fhirSourceSchema, eligibility: eligibilitySourceSchema } as const;

/**
 * Sources whose `kind` is missing or unknown. A discriminated union stops at the bad
 * discriminator and hides the entry's other mistakes, so such an entry is checked against
 * the kind it comes closest to (fewest problems) and reported with those problems.
 */
function unknownKindProblems(tree: unknown): { problems: ConfigProblem[]; indices: Set<number> } {
  const problems: ConfigProblem[] = [];
  const indices = new Set<number>();
  const sources = (tree as { sources?: unknown } | null)?.sources;
  if (!Array.isArray(sources)) return { problems, indices };
  sources.forEach((s, i) => {
    if (!s || typeof s !== 'object') return;
    const kind = (s as { kind?: unknown }).kind;
    if (typeof kind === 'string' && kind in SOURCE_KINDS) return;
    indices.add(i);
    const kinds = Object.keys(SOURCE_KINDS);
    problems.push({
      path: `sources[${i}].kind`,
      message: kind === undefined ? `missing: one of ${kinds.join(', ')}` : `unknown kind ${JSON.stringify(kind)}: one of ${kinds.join(', ')}`,
    });
    const attempts = Object.entries(SOURCE_KINDS).map(([k, schema]) => {
      const result = schema.safeParse({ ...(s as object), kind: k });
      return result.success ? [] : result.error.issues;
    });
    const closest = attempts.reduce((best, issues) => (issues.length < best.length ? issues : best));
    for (const issue of closest) problems.push({ path: formatPath([`sources`, i, ...issue.path]), message: issue.message });
  });
  return { problems, indices };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/** Source ids must be unique; checked on the raw tree so it is reported next to other problems. */
function duplicateSourceIds(tree: unknown): ConfigProblem[] {
  const sources = (tree as { sources?: unknown } | null)?.sources;
  if (!Array.isArray(sources)) return [];
  const seen = new Set<unknown>();
  const problems: ConfigProblem[] = [];
  sources.forEach((s, i) => {
    const id = (s as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') return;
    if (seen.has(id)) problems.push({ path: `sources[${i}].id`, message: `duplicate source id "${id}"` });
    seen.add(id);
  });
  return problems;
}

/** A production config must say how tokens are verified: the dev default does not apply there. */
function productionWithoutAuth(tree: unknown): ConfigProblem[] {
  const t = tree as { server?: { production?: unknown }; auth?: unknown } | null;
  if (t?.server?.production !== true || t.auth !== undefined) return [];
  return [{ path: 'auth', message: 'required with server.production: configure an OIDC issuer (auth.mode: oidc)' }];
}

/** Validates an already-parsed config tree; throws {@link ConfigError} listing every problem. */
export function parseConfig(raw: unknown, file = '(inline)', env: NodeJS.ProcessEnv = process.env, opts: ParseConfigOptions = {}): ChartgraphConfig {
  const problems: ConfigProblem[] = [];
  const st: Interpolation = { env, problems, unresolved: new Set(), skipped: new Set(), envSections: opts.envSections, root: raw };
  const interpolated = interpolateEnv(raw ?? {}, [], st);
  problems.push(...duplicateSourceIds(interpolated), ...productionWithoutAuth(interpolated));
  const kinds = unknownKindProblems(interpolated);
  problems.push(...kinds.problems);
  const result = configSchema.safeParse(interpolated);
  if (!result.success) {
    const noAuth = problems.some((p) => p.path === 'auth');
    for (const issue of result.error.issues) {
      const where = formatPath(issue.path);
      // Without `auth` the dev default would be refused too: one problem says it.
      if (noAuth && where === 'auth.mode') continue;
      // Already said: an unset variable, a bad kind.
      if (st.unresolved.has(where)) continue;
      if (issue.path[0] === 'sources' && typeof issue.path[1] === 'number' && kinds.indices.has(issue.path[1])) continue;
      // A value left unresolved (a section this command does not use) that cannot stand as written.
      const hint = st.skipped.has(where) ? ' (it names an environment variable that is not set)' : '';
      problems.push({ path: where, message: issue.message + hint });
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(file, problems);
  return deepFreeze(result.data);
}

/** Which `${ENV}` sections each CLI command needs (see {@link ParseConfigOptions.envSections}). */
export const COMMAND_ENV_SECTIONS = {
  token: ['auth'],
  migrate: ['cache', 'server'],
  sync: ['cache', 'server', 'sources:fhir', 'identity'],
  check: ['server', 'sources:fhir'],
} as const satisfies Record<string, readonly string[]>;

/** Reads, interpolates and validates a YAML config file, once, at start-up. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env, opts: ParseConfigOptions = {}): ChartgraphConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read file (${(err as NodeJS.ErrnoException).code ?? 'error'})` }]);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: e.message.split('\n')[0] ?? 'YAML error' })),
    );
  }
  return parseConfig(doc.toJS(), file, env, opts);
}
