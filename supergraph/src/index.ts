import { ApolloGateway } from '@apollo/gateway';
import {
  createTokenVerifier,
  ErrorCode,
  serveGraphQL,
  ServiceMetrics,
  type Logger,
  type Running,
} from '@renku-supergraph/kit';
import { GraphQLError, specifiedRules, type GraphQLSchema } from 'graphql';
import fs from 'node:fs';

import { BrowserSignIn } from './browser-sign-in';
import type { GatewayConfig } from './config';
import { SubgraphDataSource, type GatewayContext } from './data-source';
import { gitLabTokenLookup, GitLabTokens } from './gitlab-token';
import { guardGraphQL } from './guard';
import { limitRules } from './limits';
import { SubgraphFetchMetrics } from './metrics';
import { skippedWhilePlanning, warmQueryPlans } from './plan-warm-up';
import { RateLimits } from './rate-limit';
import { subgraphsReady } from './readiness';
import { MemorySessionStore, RedisSessionStore, type SessionStore } from './session-store';
import { loadTrustedDocuments } from './trusted-documents';

export type { GatewayConfig } from './config';
export { readGatewayConfig } from './config';

/** Starts the gateway over the composed supergraph. */
export async function startGateway(config: GatewayConfig, log: Logger): Promise<Running> {
  const supergraphSdl = fs.readFileSync(config.supergraphFile, 'utf8');
  // Unless this is set, @apollo/gateway sends its own metrics to Apollo and probes cloud
  // metadata addresses to describe the host. Nothing leaves unless the operator asks for it.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  const metrics = config.observability.metrics && new ServiceMetrics(config.observability.metrics);
  const fetchMetrics = metrics && new SubgraphFetchMetrics(metrics);
  const subgraphTargets = new Map<string, string>();
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => {
      const target = config.subgraphUrls[name] ?? url;
      if (!target) throw new Error(`subgraph ${name} has no URL`);
      subgraphTargets.set(name, target);
      const source = new SubgraphDataSource(
        name,
        target,
        config.subgraphTimeouts[name] ?? config.subgraphTimeoutMs,
        config.gitlabTokenSubgraphs.includes(name),
        config.subgraphRetry,
        config.subgraphDeduplication,
      );
      return skippedWhilePlanning(fetchMetrics ? fetchMetrics.observe(name, source) : source);
    },
    logger: log,
  });
  let apiSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate((loaded) => {
    apiSchema = loaded.apiSchema;
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

  const documents = config.trustedDocuments && loadTrustedDocuments(config.trustedDocuments.file);
  const knownOperations = [
    ...(documents?.values() ?? []),
    ...(config.warmUpOperations
      ? loadTrustedDocuments(config.warmUpOperations, 'WARM_UP_OPERATIONS').values()
      : []),
  ];
  const limits = await RateLimits.create(config.rateLimits, log, config.workers);
  const { store, browser } = await startBrowserSignIn(config, log).catch(async (error) => {
    await limits.close();
    throw error;
  });
  const { gitlabIdentityProvider, gitlabTokenClaim } = config;
  const gitlabTokens = new GitLabTokens(
    gitLabTokenLookup({
      brokerTokenUrl: `${config.auth.internalIssuer}/broker/${encodeURIComponent(gitlabIdentityProvider)}/token`,
      userinfoUrl: `${config.auth.internalIssuer}/protocol/openid-connect/userinfo`,
      userinfoClaim: gitlabTokenClaim,
      log,
    }),
  );

  let running: Running;
  try {
    running = await serveGraphQL<GatewayContext>({
      name: 'gateway',
      role: 'gateway',
      gateway,
      routes: (app) => {
        guardGraphQL(app, config, limits, documents);
        browser?.routes(app);
      },
      context: async (base, req) => {
        let { authorization } = base;
        // A browser's session stands in for the header; an explicit header wins.
        if (!authorization && browser) {
          const token = await browser.accessToken(req).catch(refuse);
          if (token) authorization = `Bearer ${token}`;
        }
        const caller = await verify(authorization).catch(refuse);
        await limits.checkUser(caller?.id);

        return {
          ...base,
          authorization,
          gitlabToken: () =>
            caller && authorization ? gitlabTokens.get(authorization) : Promise.resolve(undefined),
        };
      },
      log,
      port: config.port,
      host: config.host,
      production: config.production,
      validationRules: limitRules(config.limits),
      bodyLimit: config.bodyLimit,
      // A down subgraph costs some fields, not the whole gateway: /health stays liveness.
      health: 'live',
      ready: () => subgraphsReady(subgraphTargets),
      beforeListening: async () => {
        if (knownOperations.length === 0 || !apiSchema) return;
        const started = performance.now();
        const rules = [...specifiedRules, ...limitRules(config.limits)];
        const { planned, failed } = await warmQueryPlans(
          gateway,
          apiSchema,
          knownOperations,
          log,
          rules,
        );
        const ms = Math.round(performance.now() - started);
        log.info({ planned, failed, ms }, 'query plans of the known operations made');
      },
      observability: config.observability,
      metrics,
      usageReporting: config.usageReporting,
    });
  } catch (error) {
    await store.close();
    await limits.close();
    throw error;
  }

  return {
    ...running,
    stop: async () => {
      await running.stop();
      await store.close();
      await limits.close();
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
