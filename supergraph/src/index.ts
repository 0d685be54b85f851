import { ApolloGateway } from '@apollo/gateway';
import {
  createTokenVerifier,
  ErrorCode,
  serveGraphQL,
  type Logger,
  type Running,
} from '@renku-supergraph/kit';
import { GraphQLError } from 'graphql';
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

  // Authentication happens here first: a request with a bad token is refused
  // as a whole (HTTP 401) before any subgraph is asked. Each subgraph still
  // verifies the token itself and decides what the caller may see.
  const verify = createTokenVerifier(config.auth);
  const authenticate = async (authorization: string | undefined) => {
    try {
      await verify(authorization);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      const status = error.extensions.code === ErrorCode.Unauthenticated ? 401 : 503;
      throw new GraphQLError(error.message, {
        extensions: { ...error.extensions, http: { status } },
      });
    }
  };

  return serveGraphQL({
    name: 'gateway',
    role: 'gateway',
    gateway,
    context: async (base) => {
      await authenticate(base.authorization);
      return base;
    },
    log,
    port: config.port,
    host: config.host,
    production: config.production,
  });
}
