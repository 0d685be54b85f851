import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { type Logger, type Running, serveGraphQL } from '@renku-supergraph/kit';
import gql from 'graphql-tag';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { LineageConfig } from './config';
import { applyGraphSchema } from './graph-schema';
import { createDriver } from './neo4j';
import { type LineageContext, resolvers } from './resolvers';

export type { LineageConfig } from './config';
export { readLineageConfig } from './config';
export { ingestDocument, type IngestSummary, type IngestTarget } from './ingest/ingest';
export { applyGraphSchema } from './graph-schema';

/** The subgraph's SDL, read at run time from the workspace root (`schema.graphql`). */
export const schemaFile = path.resolve(__dirname, '..', 'schema.graphql');

/**
 * Starts the lineage subgraph: brings the graph schema up to date, then serves.
 * Stopping it closes the Neo4j driver after in-flight requests finish.
 */
export async function startLineageSubgraph(config: LineageConfig, log: Logger): Promise<Running> {
  const driver = createDriver(config.neo4j);
  try {
    await applyGraphSchema(driver, log);
    const schema = buildSubgraphSchema({
      typeDefs: gql(readFileSync(schemaFile, 'utf8')),
      // Apollo types resolvers for an unknown context; ours is set just below.
      resolvers: resolvers as GraphQLResolverMap<unknown>,
    });
    const running = await serveGraphQL<LineageContext>({
      name: 'lineage',
      schema,
      log,
      port: config.port,
      host: config.host,
      context: (base) => ({ ...base, driver }),
      // Not a transaction: those retry for half a minute, and a health check must answer now.
      ready: async () => {
        await driver.verifyConnectivity();
      },
    });
    return {
      ...running,
      stop: async () => {
        await running.stop();
        await driver.close();
      },
    };
  } catch (error) {
    await driver.close();
    throw error;
  }
}
