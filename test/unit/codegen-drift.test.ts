import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

// The typed documents in operations/generated/ are checked in; they must be exactly what
// `npm run codegen` makes from today's schema and operations.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('codegen', () => {
  it('operations/generated/graphql.ts matches schema/schema.graphql and operations/*.graphql (run `npm run codegen`)', async () => {
    const config = parseYaml(await readFile(path.join(root, 'codegen.yml'), 'utf8')) as Exclude<Parameters<typeof generate>[0], { getConfig: unknown }>;
    // `generate` types its answer loosely (watch mode); without saving it is the list of files.
    const outputs: { filename: string; content: string }[] = await generate({ ...config, cwd: root, silent: true }, false);
    expect(outputs.map((o) => path.relative(root, path.resolve(root, o.filename)))).toEqual(['operations/generated/graphql.ts']);
    for (const output of outputs) {
      const checkedIn = await readFile(path.resolve(root, output.filename), 'utf8');
      expect(checkedIn, `${output.filename} is out of date: run \`npm run codegen\``).toBe(output.content);
    }
  }, 20_000);
});
