import { buildSubgraphSchema } from '@apollo/subgraph';
import { createLogger, type Running } from '@renku-supergraph/kit';
import { parse } from 'graphql';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { readGatewayConfig, startGateway } from '../../supergraph/src';
import { composeSupergraph } from '../../supergraph/src/compose';
import { startScriptedSubgraph, type ScriptedSubgraph } from './scripted-subgraph';

const federation =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';
const counterSdl = `${federation}
type Query { counter: Counter }
type Mutation { bump: Counter }
type Counter @key(fields: "id") { id: ID! }
`;
const valueSdl = `${federation}
type Counter @key(fields: "id") { id: ID! value: Int }
`;

/**
 * A mutation's answer shows what the mutation did (#7): the reads the gateway makes for it
 * after the write (entity fetches, sent as queries) never join an identical read that was
 * already in flight before the write, which would answer with the value from before it.
 */
describe('gateway: the reads of a mutation are never shared', () => {
  let dir: string;
  let counters: ScriptedSubgraph;
  let values: ScriptedSubgraph;
  let gateway: Running;
  let count = 0;
  let release: () => void = () => undefined;
  let held = Promise.resolve();

  const ask = async (query: string) => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as { data?: Record<string, { value: number }> };
  };
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise((resolve) => setTimeout(resolve, 20));
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-in-flight-mutation-'));
    counters = await startScriptedSubgraph(
      buildSubgraphSchema({
        typeDefs: parse(counterSdl),
        resolvers: {
          Query: { counter: () => ({ id: '1' }) },
          Mutation: { bump: () => ((count += 1), { id: '1' }) },
        },
      }),
    );
    values = await startScriptedSubgraph(
      buildSubgraphSchema({
        typeDefs: parse(valueSdl),
        resolvers: {
          Counter: {
            // Reads the value when the call arrives and answers once released.
            __resolveReference: (counter: { id: string }) => {
              const value = count;
              return held.then(() => ({ id: counter.id, value }));
            },
          },
        },
      }),
    );
    fs.writeFileSync(path.join(dir, 'counters.graphql'), counterSdl);
    fs.writeFileSync(path.join(dir, 'values.graphql'), valueSdl);
    const supergraphFile = path.join(dir, 'supergraph.graphql');
    fs.writeFileSync(
      supergraphFile,
      composeSupergraph([
        {
          name: 'counters',
          routingUrl: counters.url,
          schemaFile: path.join(dir, 'counters.graphql'),
        },
        { name: 'values', routingUrl: values.url, schemaFile: path.join(dir, 'values.graphql') },
      ]),
    );
    gateway = await startGateway(
      readGatewayConfig({ PORT: '0', SUPERGRAPH_FILE: supergraphFile }),
      createLogger('gateway', 'silent'),
    );
  });

  afterAll(async () => {
    release();
    await gateway?.stop();
    await counters?.stop();
    await values?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("answers a mutation with the value it wrote, while the same caller's read of the old one is in flight", async () => {
    held = new Promise<void>((resolve) => (release = resolve));

    // The read: its entity fetch reaches the values subgraph before the write and waits there.
    const read = ask('{ counter { value } }');
    await until(() => values.calls.query === 1);
    // The write, then the same entity fetch: it must go on its own.
    const write = ask('mutation { bump { value } }');
    await until(() => counters.calls.mutation === 1);
    // Time for the mutation's entity fetch to reach the gateway's fetcher before the answers go.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    release();

    expect(await read).toEqual({ data: { counter: { value: 0 } } });
    expect(await write).toEqual({ data: { bump: { value: 1 } } });
    expect(values.calls.query).toBe(2);
  });
});
