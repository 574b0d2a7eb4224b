#!/usr/bin/env node
// Writes prisma/migrations/<UTC timestamp>_<name>/migration.sql with the SQL that takes the
// database from the existing migrations to prisma/schema.prisma.
//
// Why not `prisma migrate dev`: with the PGlite adapter (the only offline way, see
// prisma.config.ts) Prisma 6.19's wasm schema engine fails once a migration exists
// ("PostgreSQL shadow DB must be provided through an external factory"), while
// `prisma migrate diff --from-migrations` works.
//
// Usage: node prisma/new-migration.mjs add_audit_events
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: node prisma/new-migration.mjs <snake_case_name>');
  process.exit(2);
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sql = execFileSync(
  path.join(root, 'node_modules', '.bin', 'prisma'),
  ['migrate', 'diff', '--from-migrations', 'prisma/migrations', '--to-schema-datamodel', 'prisma/schema.prisma', '--script'],
  { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
);
if (!/^\s*(CREATE|ALTER|DROP|COMMENT)/im.test(sql)) {
  console.error('No schema change: nothing to write.');
  process.exit(1);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = path.join(root, 'prisma', 'migrations', `${stamp}_${name}`);
mkdirSync(dir);
writeFileSync(path.join(dir, 'migration.sql'), sql);
console.log(`Wrote ${path.relative(root, dir)}/migration.sql; run \`npx prisma generate\` and the cache tests.`);
