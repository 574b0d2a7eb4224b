import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChartgraphConfig } from '../config/config.schema.js';

/** Where dev mode keeps its generated de-identification key when the config gives none. */
export const DEV_DEID_KEY_FILE = '.chartgraph/deid-key';

/**
 * The HMAC key for analysts' pseudonyms: `security.deidKey`, or in dev mode one generated
 * once and kept on disk (so pseudonyms survive restarts). With a real issuer the key must
 * be configured: a per-process random key would give each replica other pseudonyms.
 */
export function deidKeyFor(config: ChartgraphConfig, keyFile = DEV_DEID_KEY_FILE): string {
  if (config.security.deidKey) return config.security.deidKey;
  if (config.auth.mode !== 'dev') {
    throw new Error('security.deidKey is required with auth.mode: oidc (set it from an environment variable, at least 32 characters)');
  }
  if (!existsSync(keyFile)) {
    mkdirSync(dirname(keyFile), { recursive: true });
    try {
      writeFileSync(keyFile, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
      chmodSync(keyFile, 0o600);
    } catch (err) {
      // Another process made it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return readFileSync(keyFile, 'utf8').trim();
}
