import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printGatewaySchema, SCHEMA_FILE } from '../../server/emit-schema.js';

describe('schema/schema.graphql', () => {
  it('matches the schema the code builds (run `npm run emit-schema` after changing it)', async () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(await printGatewaySchema());
  });
});
