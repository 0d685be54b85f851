import { createLogger, type Running } from '@renku-supergraph/kit';
import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { readGatewayConfig, startGateway } from '../../supergraph/src';
import { composeSupergraph } from '../../supergraph/src/compose';
import { startScriptedSubgraph, type ScriptedSubgraph } from './scripted-subgraph';

const federation =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';

/**
 * Identical queries in flight at the same moment share one subgraph call
 * (#7: what Hive Gateway does by default); mutations never do, and the
 * setting turns it off. The subgraph holds its answers until every request
 * has reached it, so the requests are in flight together.
 */
describe('gateway: identical queries in flight together', () => {
  let dir: string;
  let subgraph: ScriptedSubgraph;
  let supergraphFile: string;
  let release: () => void = () => undefined;
  let held = Promise.resolve();
  let bumps = 0;

  const hold = () => {
    held = new Promise<void>((resolve) => (release = resolve));
  };
  const ask = async (url: string, query: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  };
  const gatewayWith = (env: Record<string, string>): Promise<Running> =>
    startGateway(
      readGatewayConfig({ PORT: '0', SUPERGRAPH_FILE: supergraphFile, ...env }),
      createLogger('gateway', 'silent'),
    );
  /** Sends `n` requests together and lets the subgraph answer once it has seen `seen` calls. */
  const together = async (url: string, query: string, n: number, seen: () => boolean) => {
    hold();
    const answers = Array.from({ length: n }, () => ask(url, query));
    while (!seen()) await new Promise((resolve) => setTimeout(resolve, 20));
    // Time for the other requests to reach the gateway's fetcher (they are all in this
    // process) before the answers go out; a straggler would show as a second call.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    release();
    return Promise.all(answers);
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-in-flight-'));
    subgraph = await startScriptedSubgraph(
      new GraphQLSchema({
        query: new GraphQLObjectType({
          name: 'Query',
          fields: { greeting: { type: GraphQLString, resolve: () => held.then(() => 'hello') } },
        }),
        mutation: new GraphQLObjectType({
          name: 'Mutation',
          fields: { bump: { type: GraphQLInt, resolve: () => held.then(() => (bumps += 1)) } },
        }),
      }),
    );
    fs.writeFileSync(
      path.join(dir, 'one.graphql'),
      `${federation}\ntype Query { greeting: String }\ntype Mutation { bump: Int }\n`,
    );
    supergraphFile = path.join(dir, 'supergraph.graphql');
    fs.writeFileSync(
      supergraphFile,
      composeSupergraph([
        { name: 'one', routingUrl: subgraph.url, schemaFile: path.join(dir, 'one.graphql') },
      ]),
    );
  });

  afterAll(async () => {
    release();
    await subgraph?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => subgraph.reset());

  it('sends 5 identical queries in flight together to the subgraph once', async () => {
    const gateway = await gatewayWith({});
    try {
      const answers = await together(
        gateway.url,
        '{ greeting }',
        5,
        () => subgraph.calls.query > 0,
      );

      expect(answers).toEqual(Array.from({ length: 5 }, () => ({ data: { greeting: 'hello' } })));
      expect(subgraph.calls.query).toBe(1);
    } finally {
      await gateway.stop();
    }
  });

  it('sends each of 3 identical mutations', async () => {
    const gateway = await gatewayWith({});
    try {
      const answers = await together(
        gateway.url,
        'mutation { bump }',
        3,
        () => subgraph.calls.mutation === 3,
      );

      expect(answers.map((a) => a.errors)).toEqual([undefined, undefined, undefined]);
      expect(subgraph.calls.mutation).toBe(3);
    } finally {
      await gateway.stop();
    }
  });

  it('sends every query when SUBGRAPH_DEDUPLICATION is false', async () => {
    const gateway = await gatewayWith({ SUBGRAPH_DEDUPLICATION: 'false' });
    try {
      await together(gateway.url, '{ greeting }', 5, () => subgraph.calls.query === 5);

      expect(subgraph.calls.query).toBe(5);
    } finally {
      await gateway.stop();
    }
  });
});
