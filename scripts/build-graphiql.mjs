#!/usr/bin/env node
// Bundles the GraphiQL page (graphiql + React, from node_modules) into dist/graphiql/ and
// bakes the example operations of operations/*.graphql into its tabs. Runs as part of
// `npm run build` and `prepare`; nothing is fetched from a CDN at run time.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.resolve(root, process.argv[2] ?? 'dist/graphiql');
const VARIABLES_LINE = /^#\s*variables:\s*(.+)$/im;
/** Tabs in this order (a first look needs a patient id), then the rest by name. */
const FIRST_TABS = ['patient-by-identifier', 'search-patients', 'dashboard', 'patient-medications', 'sources'];
const rank = (file) => {
  const i = FIRST_TABS.indexOf(file.replace(/\.graphql$/, ''));
  return i === -1 ? FIRST_TABS.length : i;
};

/** One GraphiQL tab per operations/*.graphql file, its `# variables: {...}` line as the tab's variables. */
async function readTabs() {
  const dir = path.join(root, 'operations');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.graphql')).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const tabs = [];
  for (const file of files) {
    const text = await readFile(path.join(dir, file), 'utf8');
    const match = VARIABLES_LINE.exec(text);
    let variables;
    if (match) {
      try {
        variables = JSON.stringify(JSON.parse(match[1]), null, 2);
      } catch (err) {
        throw new Error(`operations/${file}: the "# variables:" line is not JSON (${err.message})`);
      }
    }
    const query = text.replace(VARIABLES_LINE, '').replace(/\n{3,}/g, '\n\n').trim() + '\n';
    tabs.push({ name: file.replace(/\.graphql$/, ''), query, ...(variables && { variables }) });
  }
  return tabs;
}

const started = Date.now();
await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await build({
  entryPoints: { graphiql: path.join(root, 'scripts/graphiql/client.jsx') },
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2020'],
  jsx: 'automatic',
  outdir,
  define: { 'process.env.NODE_ENV': '"production"' },
  loader: { '.woff2': 'dataurl', '.woff': 'dataurl', '.png': 'dataurl', '.svg': 'dataurl' },
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
});
const tabs = await readTabs();
const files = {};
for (const name of ['graphiql.js', 'graphiql.css']) {
  const body = await readFile(path.join(outdir, name));
  files[name] = { bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}
await writeFile(path.join(outdir, 'tabs.json'), JSON.stringify(tabs, null, 2) + '\n');
await writeFile(path.join(outdir, 'manifest.json'), JSON.stringify({ files, builtAt: new Date().toISOString() }, null, 2) + '\n');
const outputs = Object.keys(result.metafile.outputs).length;
console.log(`graphiql: ${outputs} files, ${tabs.length} tabs in ${path.relative(root, outdir)} (${Date.now() - started} ms)`);
