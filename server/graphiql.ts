import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ChartgraphConfig } from '../config/config.schema.js';

/** Where the page's script and styles are served from. */
export const GRAPHIQL_ASSETS_PATH = '/graphiql';

/**
 * The page's Content-Security-Policy: everything from this origin only. `data:` is there for
 * the fonts and icons that GraphiQL's own stylesheet carries inline (served with it from
 * here, nothing fetched elsewhere).
 */
export const GRAPHIQL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** A dev token the page offers in its token picker. */
export interface GraphiqlDevToken {
  role: string;
  token: string;
}

/** Options of {@link createGraphiql}. */
export interface GraphiqlOptions {
  logger: Logger;
  /** The built bundle (scripts/build-graphiql.mjs); default: dist/graphiql, found from this module. */
  assetsDir?: string;
  /**
   * Dev tokens for the page's picker, minted per page load. Only ever pass this with
   * `auth.mode: dev` (the demo does): anyone who can load the page can use them.
   */
  devTokens?: () => Promise<GraphiqlDevToken[]>;
  /** A line the page shows beside the token picker (why a token is missing). */
  notice?: string;
  /**
   * Values for the example tabs' variables, by variable name (the demo passes an MRN and a
   * family name of its sandbox): a tab's variable of that name starts with this value.
   */
  examples?: Readonly<Record<string, string>>;
}

/** The GraphiQL page of one gateway. */
export interface Graphiql {
  /** Registers the asset routes under {@link GRAPHIQL_ASSETS_PATH}. */
  register(fastify: FastifyInstance): void;
  /** A browser asking for the page: GET, Accept text/html, no `query` parameter. */
  wantsPage(request: FastifyRequest): boolean;
  /** Sets the page's status and headers on `reply` and returns its body. */
  sendPage(reply: FastifyReply): Promise<string>;
}

/** Whether the config turns GraphiQL on: `server.graphiql`, else on unless `server.production`. */
export function graphiqlEnabled(config: ChartgraphConfig): boolean {
  return config.server.graphiql ?? !config.server.production;
}

interface Asset {
  body: Buffer;
  type: string;
  version: string;
}

interface Tab {
  query: string;
  variables?: string;
}

/**
 * Loads the bundled GraphiQL (script, styles, example tabs) into memory. When the bundle
 * was never built, the page answers 503 saying so, and the gateway still starts.
 */
export async function createGraphiql(opts: GraphiqlOptions): Promise<Graphiql> {
  const dir = opts.assetsDir ?? findAssetsDir();
  const assets = new Map<string, Asset>();
  let tabs: Tab[] = [];
  if (dir) {
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, { sha256: string }> };
    for (const [name, type] of [
      ['graphiql.js', 'text/javascript; charset=utf-8'],
      ['graphiql.css', 'text/css; charset=utf-8'],
    ] as const) {
      assets.set(name, { body: await readFile(path.join(dir, name)), type, version: manifest.files[name]?.sha256.slice(0, 12) ?? '0' });
    }
    tabs = (JSON.parse(await readFile(path.join(dir, 'tabs.json'), 'utf8')) as (Tab & { name: string })[]).map(({ query, variables }) => ({
      query,
      ...(variables && { variables: withExamples(variables, opts.examples) }),
    }));
  } else {
    opts.logger.warn('GraphiQL is on but its bundle is missing (dist/graphiql); run `npm run build`');
  }

  const assetUrl = (name: string) => `${GRAPHIQL_ASSETS_PATH}/${name}?v=${assets.get(name)!.version}`;

  return {
    register(fastify) {
      for (const [name, asset] of assets) {
        fastify.get(`${GRAPHIQL_ASSETS_PATH}/${name}`, async (_req, reply) =>
          reply
            .type(asset.type)
            .header('cache-control', 'public, max-age=31536000, immutable')
            .header('x-content-type-options', 'nosniff')
            .send(asset.body),
        );
      }
      fastify.get(`${GRAPHIQL_ASSETS_PATH}/favicon.svg`, async (_req, reply) =>
        reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON),
      );
    },

    wantsPage(request) {
      if (request.method !== 'GET') return false;
      const query = request.query as Record<string, unknown> | undefined;
      if (query && query.query !== undefined) return false;
      return (request.headers.accept ?? '').includes('text/html');
    },

    async sendPage(reply) {
      if (assets.size === 0) {
        reply.code(503).type('text/plain; charset=utf-8');
        return 'GraphiQL is not built: run `npm run build`.\n';
      }
      const devTokens = (await opts.devTokens?.()) ?? [];
      const settings = { endpoint: '/graphql', tabs, devTokens, defaultRole: devTokens[0]?.role, ...(opts.notice && { notice: opts.notice }) };
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', GRAPHIQL_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        // The page may carry dev tokens: keep it out of caches.
        .header('cache-control', 'no-store');
      return renderPage(assetUrl('graphiql.js'), assetUrl('graphiql.css'), settings);
    },
  };
}

/** A tab's variables (JSON text) with the example values put in for the names they share. */
function withExamples(variables: string, examples: Readonly<Record<string, string>> | undefined): string {
  if (!examples) return variables;
  const parsed = JSON.parse(variables) as Record<string, unknown>;
  let changed = false;
  for (const [name, value] of Object.entries(examples)) {
    if (typeof parsed[name] === 'string') {
      parsed[name] = value;
      changed = true;
    }
  }
  return changed ? JSON.stringify(parsed, null, 2) : variables;
}

function renderPage(script: string, styles: string, settings: unknown): string {
  // JSON in a script element: `<` escaped so no value can close the element.
  const json = JSON.stringify(settings).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chartgraph · GraphiQL</title>
<link rel="icon" href="${GRAPHIQL_ASSETS_PATH}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${styles}">
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script type="application/json" id="chartgraph-graphiql-settings">${json}</script>
<script src="${script}"></script>
</body>
</html>
`;
}

/** dist/graphiql next to the compiled server (dist/server), or under dist/ when run from source. */
function findAssetsDir(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '..', 'graphiql'), path.resolve(here, '..', 'dist', 'graphiql')];
  return candidates.find((dir) => existsSync(path.join(dir, 'manifest.json')));
}

const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#e10098"/><path d="M4 11V5h3a2 2 0 0 1 0 4H4m5 0 3 2" stroke="#fff" fill="none"/></svg>';
