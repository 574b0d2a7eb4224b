import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { pino } from 'pino';
import WebSocket from 'ws';
import { parseConfig } from '../../config/load-config.js';
import type { ChartgraphConfig } from '../../config/config.schema.js';
import type { DatabaseKind } from '../../datasources/cache/database.js';
import type { Role } from '../../permissions/roles.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/index.js';
import { startGateway, type Gateway } from '../../server/app.js';
import { mintDevToken } from '../../server/auth.js';
import { createTestDatabase, type TestDatabaseHandle } from './databases.js';

/** One sandbox, one database, and any number of gateways (replicas) on them, started and stopped at will. */
export interface EventRig {
  sandbox: Sandbox;
  db: TestDatabaseHandle;
  config: ChartgraphConfig;
  /** Starts one more gateway on the shared database (on `port`, default any free one). */
  startGateway(port?: number): Promise<Gateway>;
  /** A dev token for `role`; `sub` names another client of that role (its own rate-limit budget); `ttlSeconds` shortens its life. */
  token(role: Role, scopes?: string[], sub?: string, ttlSeconds?: number): Promise<string>;
  /** POSTs a GraphQL query to `gateway`. */
  query<T = any>(gateway: Gateway, query: string, variables?: Record<string, unknown>, role?: Role, token?: string): Promise<{ status: number; data?: T; errors?: any[] }>;
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (for a gateway whose public URL must be known before it starts). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Options of {@link startEventRig}. */
export interface EventRigOptions {
  database?: DatabaseKind;
  sandbox?: SandboxOptions;
  /** `events` config keys over the fast test defaults. */
  events?: Record<string, unknown>;
  /** Top-level config keys (e.g. `limits`). */
  config?: Record<string, unknown>;
}

/** A sandbox and a database for event feed tests; gateways poll every 200 ms. */
export async function startEventRig(opts: EventRigOptions = {}): Promise<EventRig> {
  const sandbox = await startSandbox({ maxPatients: 6, ...opts.sandbox });
  const db = await createTestDatabase(opts.database ?? 'pglite');
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'cg-events-'));
  const secretFile = path.join(tmp, 'dev-secret');
  const config = parseConfig({
    server: { port: 0, logLevel: 'silent' },
    cache: { url: db.url, defaultTtlSeconds: 0, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 0 },
    auth: { mode: 'dev' },
    events: { enabled: true, pollSeconds: 0.2, overlapSeconds: 2, leaseSeconds: 3, deliveryCheckMs: 500, ...opts.events },
    ...opts.config,
    sources: sandbox.sourcesConfig(),
  });
  const gateways: Gateway[] = [];
  const tokens = new Map<string, string>();
  const token = async (role: Role, scopes?: string[], sub?: string, ttlSeconds?: number) => {
    const key = `${role} ${scopes?.join(' ') ?? ''} ${sub ?? ''} ${ttlSeconds ?? ''}`;
    if (!tokens.has(key)) tokens.set(key, await mintDevToken(config.auth, { role, scopes, sub, ttlSeconds }, secretFile));
    return tokens.get(key)!;
  };
  return {
    sandbox,
    db,
    config,
    async startGateway(port = 0) {
      const g = await startGateway(config, { logger: pino({ level: 'silent' }), port, devSecretFile: secretFile, auditFlushIntervalMs: 50 });
      gateways.push(g);
      return g;
    },
    token,
    async query(gateway, query, variables, role = 'clinician', given) {
      const res = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${given ?? (await token(role))}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: any; errors?: any[] };
      return { status: res.status, ...body };
    },
    async close() {
      for (const g of gateways) await g.close().catch(() => undefined);
      await sandbox.close();
      await db.dispose();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

type Result = { data?: any; errors?: any[] };

/** Results as they arrive, and a wait for a number of them (one for SSE and WebSocket alike). */
function resultLog(what: string) {
  const results: Result[] = [];
  const waiters: Array<() => void> = [];
  const notify = () => waiters.splice(0).forEach((w) => w());
  let over = false;
  return {
    results,
    push(r: Result) {
      results.push(r);
      notify();
    },
    end() {
      over = true;
      notify();
    },
    get over() {
      return over;
    },
    async waitFor(n: number, timeoutMs = 10_000): Promise<Result[]> {
      const deadline = Date.now() + timeoutMs;
      while (results.length < n) {
        if (over) throw new Error(`${what} ended after ${results.length} of ${n} results`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`only ${results.length} of ${n} results within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return results;
    },
  };
}

/** One SSE subscription (graphql-sse, distinct connections mode) read with plain fetch. */
export interface SseSubscription {
  status: number;
  /** Every `next` payload so far. */
  results: Array<{ data?: any; errors?: any[] }>;
  /** Resolves when at least `n` results arrived (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<Array<{ data?: any; errors?: any[] }>>;
  /** True once the server sent `complete` or closed the stream. */
  readonly ended: boolean;
  close(): void;
}

/** Opens `POST /graphql/stream` with `Accept: text/event-stream` and parses the events as they come. */
export async function openSse(url: string, token: string | null, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<SseSubscription> {
  const abort = new AbortController();
  const res = await fetch(`${url}/graphql/stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token && { authorization: `Bearer ${token}` }), ...headers },
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  const log = resultLog('stream');
  if (res.ok && res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let at: number;
          while ((at = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, at);
            buffer = buffer.slice(at + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
            if (event === 'next' && data) log.push(JSON.parse(data));
            if (event === 'complete') log.end();
          }
        }
      } catch {
        // aborted
      }
      log.end();
    })();
  } else {
    // A refusal before the stream opened (401, 429, 400): its GraphQL errors, as one result.
    const body = (await res.json().catch(() => null)) as { errors?: any[] } | null;
    if (body?.errors) log.push({ errors: body.errors });
    log.end();
  }
  return {
    status: res.status,
    results: log.results,
    get ended() {
      return log.over;
    },
    waitFor: (n, timeoutMs) => log.waitFor(n, timeoutMs),
    close() {
      abort.abort();
    },
  };
}

/** One operation on a WebSocket (graphql-ws): its results, and how it ended. */
export interface WsOperation {
  results: Array<{ data?: any; errors?: any[] }>;
  /** Settles when the server completes the operation or refuses it (`errors`: the `error` message's payload). */
  ended: Promise<{ errors?: any[] }>;
  /** Resolves when at least `n` results arrived (rejects after `timeoutMs` or when the operation ends first). */
  waitFor(n: number, timeoutMs?: number): Promise<Array<{ data?: any; errors?: any[] }>>;
  cancel(): void;
}

/**
 * A graphql-ws client on the gateway's `/graphql`, the bearer token in the connection parameters;
 * `generateID` picks the operation ids (the client's own are random); `headers` go on the upgrade request.
 */
export function openWs(
  url: string,
  token: string,
  opts: { generateID?: () => string; headers?: Record<string, string> } = {},
): { client: Client; run(query: string, variables?: Record<string, unknown>): WsOperation; closed: Promise<{ code: number; reason: string }>; close(): Promise<void> } {
  const client = createClient({
    url: url.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: opts.headers ? withHeaders(opts.headers) : WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
    ...(opts.generateID && { generateID: opts.generateID }),
  });
  // The first time the socket closes (the server's code and reason).
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    const off = client.on('closed', (event) => {
      off();
      const e = event as { code?: number; reason?: string };
      resolve({ code: e.code ?? 0, reason: e.reason ?? '' });
    });
  });
  return {
    client,
    closed,
    run(query, variables) {
      const log = resultLog('operation');
      let cancel = () => {};
      const ended = new Promise<{ errors?: any[] }>((resolve) => {
        cancel = client.subscribe(
          { query, variables },
          {
            next: (r) => log.push(r as Result),
            error: (err) => {
              log.end();
              resolve({ errors: Array.isArray(err) ? err : [{ message: String((err as Error)?.message ?? err) }] });
            },
            complete: () => {
              log.end();
              resolve({});
            },
          },
        );
      });
      return {
        results: log.results,
        ended,
        waitFor: (n, timeoutMs) => log.waitFor(n, timeoutMs),
        cancel: () => cancel(),
      };
    },
    close: () => client.dispose() as Promise<void>,
  };
}

/** The `ws` client class, sending `headers` on its upgrade request (graphql-ws constructs it with url and protocols only). */
function withHeaders(headers: Record<string, string>): typeof WebSocket {
  return class extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  } as typeof WebSocket;
}
