import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import {
  authenticate,
  createTokenVerifier,
  failRootFieldsOnBadToken,
  type Logger,
  readObservabilityConfig,
  readTokenVerifierOptions,
  type Running,
  serveGraphQL,
} from '@renku-supergraph/kit';
import gql from 'graphql-tag';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { defaultWebhookConfig, type LineageConfig } from './config';
import { applyGraphSchema } from './graph-schema';
import { createStatusLoader } from './lineage-status';
import { createDriver } from './neo4j';
import { createWorkflowGraphLoader } from './workflow-graph';
import {
  createLineageLoader,
  createOriginLoader,
  createRunLoader,
  type LineageContext,
  resolvers,
} from './resolvers';
import { renkuExporter } from './webhooks/renku-export';
import { webhookRoutes } from './webhooks/routes';
import { IngestWorker } from './webhooks/worker';

export type { LineageConfig } from './config';
export { readLineageConfig } from './config';
export { ingestDocument, type IngestSummary, type IngestTarget } from './ingest/ingest';
export { applyGraphSchema } from './graph-schema';
export { setMembers, type Membership } from './members';
export { activateLineage } from './webhooks/secrets';

/** The subgraph's SDL, read at run time from the workspace root (`schema.graphql`). */
export const schemaFile = path.resolve(__dirname, '..', 'schema.graphql');

/**
 * Starts the lineage subgraph: brings the graph schema up to date, serves GraphQL and the
 * webhooks, and starts the worker that ingests stored webhook events. Stopping it lets the
 * worker finish its event and in-flight requests finish, then closes the Neo4j driver.
 */
export async function startLineageSubgraph(config: LineageConfig, log: Logger): Promise<Running> {
  const driver = createDriver(config.neo4j);
  try {
    await applyGraphSchema(driver, log);
    const webhooks = { ...defaultWebhookConfig, ...config.webhooks };
    const exporter = webhooks.renkuCommand
      ? renkuExporter({
          renkuCommand: webhooks.renkuCommand,
          allowedUrlPrefixes: webhooks.cloneUrlPrefixes,
          gitlab: webhooks.gitlab,
        })
      : undefined;
    const worker = new IngestWorker(driver, log.child({ part: 'worker' }), webhooks, exporter);

    const schema = buildSubgraphSchema({
      typeDefs: gql(readFileSync(schemaFile, 'utf8')),
      // Apollo types resolvers for an unknown context; ours is set just below.
      resolvers: resolvers as GraphQLResolverMap<unknown>,
    });
    const verify = createTokenVerifier(config.auth ?? readTokenVerifierOptions({}));
    const running = await serveGraphQL<LineageContext>({
      name: 'lineage',
      // A bad token fails the root fields that ask, never HTTP 500 or a silent anonymous.
      schema: failRootFieldsOnBadToken(schema),
      log,
      port: config.port,
      host: config.host,
      // Configs built in code (tests, benches) may leave it out: info, no metrics or traces.
      observability: config.observability ?? readObservabilityConfig({}, 'lineage'),
      context: async (base) => {
        const auth = await authenticate(verify, base.authorization);
        return {
          ...base,
          ...auth,
          driver,
          runs: createRunLoader(driver),
          origins: createOriginLoader({ ...auth, driver }),
          lineages: createLineageLoader({ ...auth, driver }),
          statuses: createStatusLoader({ ...auth, driver }),
          workflowGraphs: createWorkflowGraphLoader({ ...auth, driver }),
        };
      },
      routes: webhookRoutes({
        driver,
        log,
        maxExportBytes: webhooks.maxExportBytes,
        onStored: () => worker.wake(),
        systemHookToken: webhooks.systemHookToken,
      }),
      // Not a transaction: those retry for half a minute, and a health check must answer now.
      ready: async () => {
        await driver.verifyConnectivity();
      },
    });
    if (webhooks.worker) worker.start();
    log.info({ worker: webhooks.worker, exports: exporter !== undefined }, 'webhook ingestion');
    return {
      ...running,
      stop: async () => {
        await running.stop();
        await worker.stop();
        await driver.close();
      },
    };
  } catch (error) {
    await driver.close();
    throw error;
  }
}
