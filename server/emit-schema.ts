import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { buildBareSchema } from './schema.js';

/** Where the checked-in SDL lives; a test fails when it drifts from the code. */
export const SCHEMA_FILE = new URL('../schema/schema.graphql', import.meta.url);

export async function printGatewaySchema(): Promise<string> {
  return `${printSchema(await buildBareSchema())}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(SCHEMA_FILE, await printGatewaySchema());
  console.log('wrote schema/schema.graphql');
}
