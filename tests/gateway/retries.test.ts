import { createLogger, type Running } from '@renku-supergraph/kit';
import {
  GraphQLInt,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  type GraphQLFieldConfigMap,
} from 'graphql';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { readGatewayConfig, startGateway } from '../../supergraph/src';
import { composeSupergraph } from '../../supergraph/src/compose';
import { startScriptedSubgraph, type ScriptedSubgraph } from './scripted-subgraph';

const federation =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';

function schemaOf(query: GraphQLFieldConfigMap<unknown, unknown>, mutation?: typeof query) {
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: query }),
    mutation: mutation && new GraphQLObjectType({ name: 'Mutation', fields: mutation }),
  });
}

/**
 * Subgraph calls that fail on the way: a query is sent again, a mutation
 * never (it may have been applied), and each subgraph keeps its own timeout.
 * The subgraphs are real HTTP servers told how to fail their next calls.
 */
describe('gateway retries and timeouts', () => {
  let dir: string;
  let flaky: ScriptedSubgraph;
  let slow: ScriptedSubgraph;
  let gateway: Running;
  let bumps = 0;

  const ask = async (query: string) => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as {
      data?: Record<string, unknown> | null;
      errors?: { message: string; extensions?: { code?: string; subgraph?: string } }[];
    };
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-retries-'));
    [flaky, slow] = await Promise.all([
      startScriptedSubgraph(
        schemaOf(
          { greeting: { type: GraphQLString, resolve: () => 'hello' } },
          { bump: { type: GraphQLInt, resolve: () => (bumps += 1) } },
        ),
      ),
      startScriptedSubgraph(
        schemaOf({
          nap: { type: GraphQLString, resolve: () => sleep(2_000, 'rested', { ref: false }) },
        }),
      ),
    ]);

    fs.writeFileSync(
      path.join(dir, 'flaky.graphql'),
      `${federation}\ntype Query { greeting: String }\ntype Mutation { bump: Int }\n`,
    );
    fs.writeFileSync(path.join(dir, 'slow.graphql'), `${federation}\ntype Query { nap: String }\n`);
    const supergraphFile = path.join(dir, 'supergraph.graphql');
    fs.writeFileSync(
      supergraphFile,
      composeSupergraph([
        { name: 'flaky', routingUrl: flaky.url, schemaFile: path.join(dir, 'flaky.graphql') },
        { name: 'slow', routingUrl: slow.url, schemaFile: path.join(dir, 'slow.graphql') },
      ]),
    );

    gateway = await startGateway(
      readGatewayConfig({
        PORT: '0',
        SUPERGRAPH_FILE: supergraphFile,
        SUBGRAPH_RETRIES: '2',
        SUBGRAPH_RETRY_BACKOFF_MS: '5',
        SUBGRAPH_SLOW_TIMEOUT_MS: '300',
      }),
      createLogger('gateway', 'silent'),
    );
  });

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([flaky?.stop(), slow?.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    flaky.reset();
    slow.reset();
  });

  it('answers a query whose first subgraph call gets a 503', async () => {
    flaky.failNext(503);

    expect(await ask('{ greeting }')).toEqual({ data: { greeting: 'hello' } });
    expect(flaky.calls.query).toBe(2);
  });

  it('answers a query whose first connection is dropped', async () => {
    flaky.failNext('reset', 502);

    expect(await ask('{ greeting }')).toEqual({ data: { greeting: 'hello' } });
    expect(flaky.calls.query).toBe(3);
  });

  it('gives up after SUBGRAPH_RETRIES retries with an error naming the subgraph', async () => {
    flaky.failNext(503, 503, 503, 503);

    const answer = await ask('{ greeting }');
    expect(answer.data).toEqual({ greeting: null });
    expect(answer.errors?.[0].extensions).toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      subgraph: 'flaky',
    });
    expect(flaky.calls.query).toBe(3);
  });

  it('does not retry a query the subgraph failed with a 500', async () => {
    flaky.failNext(500);

    const answer = await ask('{ greeting }');
    expect(answer.errors?.[0].extensions).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(flaky.calls.query).toBe(1);
  });

  it('sends a mutation once although the subgraph answered 503', async () => {
    flaky.failNext(503);

    const answer = await ask('mutation { bump }');
    expect(answer.data).toEqual({ bump: null });
    expect(answer.errors?.[0].extensions).toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      subgraph: 'flaky',
    });
    expect(flaky.calls.mutation).toBe(1);
  });

  it('sends a mutation once although its connection was dropped', async () => {
    flaky.failNext('reset');
    const before = bumps;

    const answer = await ask('mutation { bump }');
    expect(answer.errors?.[0].extensions).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(flaky.calls.mutation).toBe(1);
    expect(bumps).toBe(before);

    // The next mutation goes through and is applied exactly once.
    expect(await ask('mutation { bump }')).toEqual({ data: { bump: before + 1 } });
  });

  it('times a subgraph out by its own timeout while the others answer', async () => {
    const answer = await ask('{ greeting nap }');

    expect(answer.data).toEqual({ greeting: 'hello', nap: null });
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors?.[0].extensions).toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      subgraph: 'slow',
    });
    // A timed-out query is not sent again: its time is spent.
    expect(slow.calls.query).toBe(1);
  });
});
