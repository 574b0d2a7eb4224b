import { ApolloServer } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import autocannon from 'autocannon';
import Fastify from 'fastify';

/** One autocannon run of the benchmarks: 10 connections POSTing `body` for `seconds`. */
export interface LoadRun {
  rps: number;
  /** Every failure: connection errors, timeouts and non-2xx answers. */
  errors: number;
  p50: number;
  total: number;
  /**
   * CPU time of this process (server, sandbox and load generator) per request: unlike req/s,
   * it hardly moves when other work on the machine takes the cores away.
   */
  cpuUsPerRequest: number;
}

export async function loadRun(url: string, body: string, token: string | null, seconds: number): Promise<LoadRun> {
  const cpu = process.cpuUsage();
  const r = await autocannon({
    url,
    method: 'POST',
    connections: 10,
    duration: seconds,
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body,
  });
  const used = process.cpuUsage(cpu);
  return {
    rps: r.requests.average,
    errors: r.errors + r.timeouts + r.non2xx,
    p50: r.latency.p50,
    total: r.requests.total,
    cpuUsPerRequest: (used.user + used.system) / Math.max(1, r.requests.total),
  };
}

/** The throughput baseline: a bare Apollo on Fastify answering `{ hello }`. */
export async function helloWorld(): Promise<{ url: string; close: () => Promise<void> }> {
  const apollo = new ApolloServer({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'world' } } });
  await apollo.start();
  const app = Fastify();
  app.route({ method: ['GET', 'POST', 'OPTIONS'], url: '/graphql', handler: fastifyApolloHandler(apollo) });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `${url}/graphql`, close: async () => (await app.close(), await apollo.stop()) };
}
