import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Sandbox } from './index.js';

/** Options of {@link writeSandboxConfig}. */
export interface SandboxConfigOptions {
  /** Where to write the file. */
  file: string;
  /** The gateway's port in the written config. */
  gatewayPort: number;
  /** The gateway's cache URL (default: a PGlite folder beside the file, named after it). */
  cacheUrl?: string;
}

/**
 * Writes a chartgraph config for a running sandbox: both EHRs (Mercy with SMART Backend
 * Services, St. Jude open) and the payer's trading partners, so that `chartgraph sync
 * --config FILE` and `chartgraph serve --config FILE` work against it at once. The SMART
 * client key is written into the file (mode 0600): it is a throwaway key the sandbox made
 * for this run and registered only with itself; real keys belong in `${ENV}` references.
 * Returns the path written.
 */
export function writeSandboxConfig(sandbox: Sandbox, opts: SandboxConfigOptions): string {
  const base = path.basename(opts.file).replace(/\.ya?ml$/, '');
  const config = {
    server: { port: opts.gatewayPort, host: '127.0.0.1' },
    cache: { url: opts.cacheUrl ?? `pglite:${path.join(path.dirname(opts.file), `${base}-cache`)}`, defaultTtlSeconds: 300 },
    auth: { mode: 'dev' },
    sources: [...sandbox.sourcesConfig(), ...sandbox.payerConfig()],
  };
  const header = [
    `# Written by \`chartgraph sandbox\` for the sandbox it started (${sandbox.truth.patients.length} patients).`,
    '# The SMART private key below is a throwaway key of that run, valid only against it.',
    '',
  ].join('\n');
  mkdirSync(path.dirname(opts.file), { recursive: true });
  writeFileSync(opts.file, header + stringify(config, { lineWidth: 0 }), { mode: 0o600 });
  return opts.file;
}
