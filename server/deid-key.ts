import type { ChartgraphConfig } from '../config/config.schema.js';
import { readOrCreateSecret } from './local-secret.js';

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
  return readOrCreateSecret(keyFile);
}
