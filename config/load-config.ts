import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { configSchema, type ChartgraphConfig } from './config.schema.js';

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

/** Replaces `${NAME}` in every string of the tree; unset variables become problems. */
function interpolateEnv(node: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[], problems: ConfigProblem[]): unknown {
  if (typeof node === 'string') {
    return node.replace(ENV_REF, (_, name: string) => {
      const value = env[name];
      if (value === undefined) {
        problems.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
        return '';
      }
      return value;
    });
  }
  if (Array.isArray(node)) return node.map((item, i) => interpolateEnv(item, env, [...path, i], problems));
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [k, interpolateEnv(v, env, [...path, k], problems)]),
    );
  }
  return node;
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
export function parseConfig(raw: unknown, file = '(inline)', env: NodeJS.ProcessEnv = process.env): ChartgraphConfig {
  const problems: ConfigProblem[] = [];
  const interpolated = interpolateEnv(raw ?? {}, env, [], problems);
  problems.push(...duplicateSourceIds(interpolated), ...productionWithoutAuth(interpolated));
  const result = configSchema.safeParse(interpolated);
  if (!result.success) {
    const noAuth = problems.some((p) => p.path === 'auth');
    for (const issue of result.error.issues) {
      const path = formatPath(issue.path);
      // Without `auth` the dev default would be refused too: one problem says it.
      if (!(noAuth && path === 'auth.mode')) problems.push({ path, message: issue.message });
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(file, problems);
  return deepFreeze(result.data);
}

/** Reads, interpolates and validates a YAML config file, once, at start-up. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): ChartgraphConfig {
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
  return parseConfig(doc.toJS(), file, env);
}
