import { ApolloGateway } from '@apollo/gateway';
import { serveGraphQL, type Logger, type Running } from '@renku-supergraph/kit';
import fs from 'node:fs';

import type { GatewayConfig } from './config';
import { SubgraphDataSource } from './data-source';

export type { GatewayConfig } from './config';
export { readGatewayConfig } from './config';

/** Starts the gateway over the composed supergraph. */
export async function startGateway(config: GatewayConfig, log: Logger): Promise<Running> {
  const supergraphSdl = fs.readFileSync(config.supergraphFile, 'utf8');
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => {
      const target = config.subgraphUrls[name] ?? url;
      if (!target) throw new Error(`subgraph ${name} has no URL`);
      return new SubgraphDataSource(name, target, config.subgraphTimeoutMs);
    },
    logger: log,
  });

  return serveGraphQL({
    name: 'gateway',
    role: 'gateway',
    gateway,
    log,
    port: config.port,
    host: config.host,
    production: config.production,
  });
}
