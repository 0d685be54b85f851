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

import { BrowserSignIn } from './browser-sign-in';
import type { GatewayConfig } from './config';
import { SubgraphDataSource, type GatewayContext } from './data-source';
import { fetchGitLabToken } from './gitlab-token';
import { limitRules } from './limits';
import { MemorySessionStore, RedisSessionStore, type SessionStore } from './session-store';

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
      return new SubgraphDataSource(
        name,
        target,
        config.subgraphTimeoutMs,
        config.gitlabTokenSubgraphs.includes(name),
      );
    },
    logger: log,
  });

  // Authentication happens here first: a request with a bad token is refused
  // as a whole (HTTP 401) before any subgraph is asked. Each subgraph still
  // verifies the token itself and decides what the caller may see.
  const verify = createTokenVerifier(config.auth);
  const refuse = (error: unknown): never => {
    if (!(error instanceof GraphQLError)) throw error;
    const status = error.extensions.code === ErrorCode.Unauthenticated ? 401 : 503;
    throw new GraphQLError(error.message, {
      extensions: { ...error.extensions, http: { status } },
    });
  };

  const { store, browser } = await startBrowserSignIn(config, log);
  const userinfoUrl = `${config.auth.internalIssuer}/protocol/openid-connect/userinfo`;

  let running: Running;
  try {
    running = await serveGraphQL<GatewayContext>({
      name: 'gateway',
      role: 'gateway',
      gateway,
      routes: (app) => browser?.routes(app),
      context: async (base, req) => {
        let { authorization } = base;
        // A browser's session stands in for the header; an explicit header wins.
        if (!authorization && browser) {
          const token = await browser.accessToken(req).catch(refuse);
          if (token) authorization = `Bearer ${token}`;
        }
        const caller = await verify(authorization).catch(refuse);

        let gitlabToken: Promise<string | undefined> | undefined;
        return {
          ...base,
          authorization,
          gitlabToken: () =>
            caller && authorization
              ? (gitlabToken ??= fetchGitLabToken(userinfoUrl, authorization))
              : Promise.resolve(undefined),
        };
      },
      log,
      port: config.port,
      host: config.host,
      production: config.production,
      validationRules: limitRules(config.limits),
      bodyLimit: config.bodyLimit,
    });
  } catch (error) {
    await store.close();
    throw error;
  }

  return {
    ...running,
    stop: async () => {
      await running.stop();
      await store.close();
    },
  };
}

async function startBrowserSignIn(
  config: GatewayConfig,
  log: Logger,
): Promise<{ store: SessionStore; browser?: BrowserSignIn }> {
  const options = config.browser;
  if (!options) {
    log.info('browser sign-in is off: KEYCLOAK_GATEWAY_CLIENT_SECRET is not set');
    return { store: new MemorySessionStore() };
  }
  if (!options.secureCookie) {
    log.warn('session cookies are not marked Secure: browsers send them over plain HTTP');
  }

  let store: SessionStore;
  if (options.redisUrl) {
    const redis = new RedisSessionStore(options.redisUrl);
    store = redis;
    await redis.ready().catch(async (error: unknown) => {
      await redis.close();
      throw new Error(`REDIS_URL: ${(error as Error).message}`);
    });
  } else {
    store = new MemorySessionStore();
  }

  try {
    const browser = await BrowserSignIn.create({
      ...options,
      issuer: config.auth.issuer,
      internalIssuer: config.auth.internalIssuer,
      store,
      log,
    });
    return { store, browser };
  } catch (error) {
    await store.close();
    throw error;
  }
}
