import { ApolloGateway, type GraphQLDataSource } from '@apollo/gateway';
import { QueryPlanner } from '@apollo/query-planner';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { createLogger } from '@renku-supergraph/kit';
import { parse, specifiedRules, type GraphQLSchema } from 'graphql';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { readGatewayConfig } from './config';
import { limitRules } from './limits';
import { skippedWhilePlanning, warmQueryPlans } from './plan-warm-up';
import { loadTrustedDocuments } from './trusted-documents';

const log = createLogger('plan-warm-up-test', 'silent');
const supergraphSdl = fs.readFileSync(path.join(__dirname, '..', 'supergraph.graphql'), 'utf8');
const knownOperations = [
  ...new Set(loadTrustedDocuments(path.join(__dirname, '..', 'known-operations.json')).values()),
];

/** The committed supergraph; every subgraph call is counted and answered with nothing. */
async function loadGateway() {
  const calls: string[] = [];
  const gateway = new ApolloGateway({
    supergraphSdl,
    logger: log,
    buildService: ({ name }): GraphQLDataSource =>
      skippedWhilePlanning({
        process: async () => {
          calls.push(name);
          return { data: {} };
        },
      }),
  });
  let schema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => (schema = apiSchema));
  await gateway.load();
  return { gateway, schema: schema!, calls };
}

/** A request as Apollo Server hands it to the gateway. */
function request(query: string, operationName: string | null, variables = {}) {
  return {
    request: { query, operationName, variables },
    document: parse(query),
    queryHash: createHash('sha256').update(query).digest('hex'),
    operationName,
    metrics: {},
    logger: log,
    context: {},
  } as unknown as GatewayGraphQLRequestContext;
}

describe('warmQueryPlans', () => {
  let planned: jest.SpyInstance;
  beforeEach(() => {
    planned = jest.spyOn(QueryPlanner.prototype, 'buildQueryPlan');
  });
  afterEach(() => planned.mockRestore());

  it('plans every known operation under both keys, calling no subgraph', async () => {
    const { gateway, schema, calls } = await loadGateway();
    const result = await warmQueryPlans(gateway, schema, knownOperations, log);

    // One operation per document: by its name and without one.
    expect(result).toEqual({ planned: knownOperations.length * 2, failed: 0 });
    expect(planned).toHaveBeenCalledTimes(knownOperations.length * 2);
    expect(calls).toEqual([]);
    await gateway.stop();
  });

  it('leaves a request for a known operation nothing to plan; another still plans', async () => {
    const { gateway, schema, calls } = await loadGateway();
    await warmQueryPlans(gateway, schema, knownOperations, log);
    planned.mockClear();
    const page = knownOperations.find((body) => body.startsWith('query ProjectPage'))!;
    const variables = { path: 'ada.analyst/tutorial-zhbikes', filePath: 'data/a.csv' };

    await gateway.executor(request(page, 'ProjectPage', variables));
    await gateway.executor(request(page, null, variables));
    expect(planned).not.toHaveBeenCalled();
    // The request itself reached the subgraphs: only planning runs skip them.
    expect(calls).toContain('projects');

    await gateway.executor(request('{ me { username } }', null));
    expect(planned).toHaveBeenCalledTimes(1);
    await gateway.stop();
  });

  it('fills required variables of every kind, and reports what it cannot plan', async () => {
    const { gateway, schema } = await loadGateway();
    const result = await warmQueryPlans(
      gateway,
      schema,
      [
        `query Walk($p: String!, $f: String!, $d: LineageDirection!, $n: Int!, $all: Boolean!) {
           lineage(projectPath: $p, filePath: $f, direction: $d, depth: $n, acrossProjects: $all) {
             nodes { id } } }`,
        'query Broken { project(',
        'query Unknown { noSuchField }',
      ],
      log,
    );

    expect(result).toEqual({ planned: 2, failed: 2 });
    await gateway.stop();
  });

  it("plans nothing a request would be refused for, by the gateway's limits among others", async () => {
    const { gateway, schema } = await loadGateway();
    const aliases = Array.from({ length: 5 }, (_, i) => `a${i}: me { username }`).join(' ');
    const rules = [
      ...specifiedRules,
      ...limitRules({ maxDepth: 15, maxAliases: 3, maxCost: 50_000 }),
    ];

    const result = await warmQueryPlans(gateway, schema, [`query Many { ${aliases} }`], log, rules);

    expect(result).toEqual({ planned: 0, failed: 1 });
    expect(planned).not.toHaveBeenCalled();
    await gateway.stop();
  });

  it('plans the shipped manifest by default, none when WARM_UP_OPERATIONS is empty', () => {
    const shipped = readGatewayConfig({}).warmUpOperations!;
    expect(fs.existsSync(shipped)).toBe(true);
    expect(readGatewayConfig({ WARM_UP_OPERATIONS: '' }).warmUpOperations).toBeUndefined();
    expect(() => loadTrustedDocuments('/nonexistent/manifest.json', 'WARM_UP_OPERATIONS')).toThrow(
      /^WARM_UP_OPERATIONS: \/nonexistent\/manifest.json cannot be read/,
    );
  });
});
