import { graphql, type GraphQLSchema } from 'graphql';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the subgraph does with one call instead of answering it. */
export type Failure = 503 | 502 | 500 | 'reset';

export interface ScriptedSubgraph {
  url: string;
  /** Calls received so far, by operation type. */
  calls: { query: number; mutation: number };
  /** The next calls fail this way, one entry per call, before it answers again. */
  failNext(...failures: Failure[]): void;
  reset(): void;
  stop(): Promise<void>;
}

/**
 * A real GraphQL subgraph over HTTP whose next calls can be made to fail the
 * way a subgraph fails in operation: a proxy's 502/503, an error of its own,
 * or a connection dropped before any answer.
 */
export async function startScriptedSubgraph(schema: GraphQLSchema): Promise<ScriptedSubgraph> {
  const calls = { query: 0, mutation: 0 };
  let failures: Failure[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        query: string;
        variables?: Record<string, unknown>;
      };
      calls[/^\s*mutation\b/.test(body.query) ? 'mutation' : 'query'] += 1;

      const failure = failures.shift();
      if (failure === 'reset') return req.socket.destroy();
      if (failure) {
        res.writeHead(failure, { 'content-type': 'text/plain' });
        return res.end('the subgraph is away');
      }
      const result = await graphql({ schema, source: body.query, variableValues: body.variables });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    calls,
    failNext: (...next) => failures.push(...next),
    reset: () => {
      failures = [];
      calls.query = 0;
      calls.mutation = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
