import { ApolloServer, type ApolloServerOptions, type ApolloServerPlugin } from '@apollo/server';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginUsageReporting } from '@apollo/server/plugin/usageReporting';
import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
} from 'express';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { ErrorCode } from './errors';
import type { Logger } from './logger';
import {
  reportToClusterPrimary,
  serveMetrics,
  ServiceMetrics,
  type MetricsListener,
} from './metrics';
import type { ObservabilityConfig } from './observability';
import { passRequestIdToBackends, requestLog, requestScope } from './request-context';
import { flushTraces, startTracing, traceRequests } from './tracing';

/** What every resolver of every subgraph receives. */
export interface BaseContext {
  /** The caller's `Authorization` header as the gateway passed it on. */
  authorization?: string;
  /** Logs with the request's id on every line. */
  log: Logger;
  /**
   * The request's id (`x-request-id`): the client's when sane, else a new one. Always set by
   * serveGraphQL; optional so that contexts built by hand in unit tests need not invent one.
   */
  requestId?: string;
}

/** Apollo GraphOS usage reporting; without it reporting is explicitly off. */
export interface UsageReportingOptions {
  key: string;
  graphRef: string;
  /** Default Apollo's own ingress; tests point it at a local receiver. */
  endpointUrl?: string;
}

export interface ServeOptions<TContext extends BaseContext> {
  /** The service's name; a subgraph attaches it to every error it sends. */
  name: string;
  /** What is served: a subgraph's schema, or the gateway over the supergraph. */
  schema?: GraphQLSchema;
  gateway?: GatewayInterface;
  /**
   * `subgraph` (default) tags errors with the service's name; the gateway
   * passes on the tags its subgraphs set.
   */
  role?: 'subgraph' | 'gateway';
  /** Default false: introspection and the Sandbox landing page are off in production. */
  production?: boolean;
  log: Logger;
  /** 0 picks a free port. */
  port: number;
  /** Default `127.0.0.1`: a service is reachable from elsewhere only on purpose. */
  host?: string;
  /** Adds per-request fields to the base context. */
  context?: (base: BaseContext, req: Request) => Promise<TContext> | TContext;
  /** Extra routes (webhooks, login), mounted before the GraphQL endpoint. */
  routes?: (app: Express) => void;
  /** Readiness of the backends; `/health/ready` answers 503 while it throws. */
  ready?: () => Promise<void>;
  /**
   * Runs once the schema or the gateway is loaded, before the port opens, so that no request
   * waits behind it (the gateway plans its known operations here).
   */
  beforeListening?: () => Promise<void>;
  /**
   * What `/health` answers: `ready` (default, as it always did for subgraphs) or `live`
   * (the gateway, which answers in part while a subgraph is down).
   */
  health?: 'ready' | 'live';
  /**
   * Metrics and tracing, as the service's config.ts read them (readObservabilityConfig); never
   * read here, so that a bad setting stops the service before anything starts.
   */
  observability: ObservabilityConfig;
  /** Metrics the caller registers its own series with; created here when metrics are on. */
  metrics?: ServiceMetrics;
  usageReporting?: UsageReportingOptions;
  plugins?: ApolloServerPlugin<TContext>[];
  /** Extra validation rules, e.g. limits on depth and cost. */
  validationRules?: ApolloServerOptions<TContext>['validationRules'];
  /** Largest request body accepted. Default `1mb`. */
  bodyLimit?: string;
}

export interface Running {
  url: string;
  port: number;
  /** The Prometheus endpoint, when METRICS_PORT is set. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

/**
 * Serves a GraphQL schema over HTTP with a health endpoint and a graceful stop:
 * in-flight requests finish, new ones are refused.
 */
export async function serveGraphQL<TContext extends BaseContext>(
  options: ServeOptions<TContext>,
): Promise<Running> {
  const { name, log } = options;
  const { observability } = options;
  if (observability.tracing) startTracing(observability.tracing, log);
  const metrics =
    options.metrics ?? (observability.metrics && new ServiceMetrics(observability.metrics));
  const reporting = options.usageReporting;

  const app = express();
  const httpServer = http.createServer(app);

  const production = options.production ?? false;
  const tag = (options.role ?? 'subgraph') === 'subgraph' ? name : undefined;
  const served = (
    options.gateway ? { gateway: options.gateway } : { schema: options.schema! }
  ) as ApolloServerOptions<TContext>;
  const server = new ApolloServer<TContext>({
    ...served,
    csrfPrevention: true,
    validationRules: options.validationRules,
    // stopOnSignal (below) owns the signals, so the exit code stays 0.
    stopOnTerminationSignals: false,
    introspection: !production,
    includeStacktraceInErrorResponses: false,
    logger: log,
    // Apollo Server reads APOLLO_KEY itself; the plugins below decide whether anything is sent.
    apollo: reporting && { key: reporting.key, graphRef: reporting.graphRef },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Field-level traces cost time on every request and only feed GraphOS's field usage,
      // which usage reporting here does not ask for (docs/observability.md).
      ...(tag ? [ApolloServerPluginInlineTraceDisabled()] : []),
      ...(production ? [ApolloServerPluginLandingPageDisabled()] : []),
      ...usageReportingPlugins<TContext>(reporting),
      ...(metrics ? [metrics.plugin<TContext>()] : []),
      ...(options.plugins ?? []),
    ],
    formatError: (formatted, error) => maskInternal(tag, requestLog(log), formatted, error),
  });
  await server.start();
  try {
    await options.beforeListening?.();
  } catch (error) {
    await server.stop();
    throw error;
  }

  // Probes get no request id, span or log line: they come every few seconds.
  const live: RequestHandler = (_req, res) => {
    res.json({ status: 'ok', service: name });
  };
  const ready: RequestHandler = async (_req, res) => {
    try {
      await options.ready?.();
      res.json({ status: 'ok', service: name });
    } catch (error) {
      log.warn({ err: error }, 'not ready');
      res.status(503).json({ status: 'unavailable', service: name });
    }
  };
  app.get('/health/live', live);
  app.get('/health/ready', ready);
  app.get('/health', options.health === 'live' ? live : ready);

  app.use(requestScope(log));
  passRequestIdToBackends();
  if (observability.tracing) app.use(traceRequests(name));
  options.routes?.(app);
  app.use(
    '/graphql',
    express.json({ limit: options.bodyLimit ?? '1mb' }),
    expressMiddleware(server, {
      context: async ({ req, res }) => {
        const base: BaseContext = {
          authorization: req.headers.authorization,
          log: res.locals.log as Logger,
          requestId: res.locals.requestId as string,
        };
        return options.context ? options.context(base, req) : (base as TContext);
      },
    }),
  );

  app.use(refuseBadBodies(log, metrics));

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, host, resolve);
  });
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://${host}:${port}/graphql`;

  let metricsListener: MetricsListener | undefined;
  if (metrics && observability.metrics && !reportToClusterPrimary(metrics.registry)) {
    try {
      metricsListener = await serveMetrics(metrics.registry, observability.metrics, log);
    } catch (error) {
      await server.stop();
      throw error;
    }
  }
  log.info({ url }, `${name} ready`);

  return {
    url,
    port,
    metricsUrl: metricsListener?.url,
    stop: async () => {
      await server.stop();
      await metricsListener?.stop();
      await flushTraces();
      log.info(`${name} stopped`);
    },
  };
}

/**
 * Bodies that never reach GraphQL (broken JSON, too large) get a GraphQL-shaped
 * JSON error instead of Express's HTML page, which would show a stack trace.
 */
function refuseBadBodies(log: Logger, metrics?: ServiceMetrics): ErrorRequestHandler {
  return (error, _req, res, next) => {
    if (res.headersSent) return next(error);
    const status = typeof error?.status === 'number' ? error.status : 500;
    const message =
      error?.type === 'entity.parse.failed'
        ? 'the request body is not valid JSON'
        : error?.type === 'entity.too.large'
          ? 'the request body is too large'
          : status < 500
            ? 'the request could not be read'
            : 'internal error';
    const code = status < 500 ? ErrorCode.BadRequest : ErrorCode.Internal;
    if (status >= 500) requestLog(log).error({ err: error }, 'request failed');
    metrics?.refused(code);
    res.status(status).json({ errors: [{ message, extensions: { code } }] });
  };
}

/**
 * Usage reports go to GraphOS only when a key and a graph ref are configured. Otherwise both
 * reporting plugins are installed disabled, because Apollo Server would otherwise switch
 * reporting on by itself when it finds APOLLO_KEY in the environment.
 */
function usageReportingPlugins<TContext extends BaseContext>(
  reporting?: UsageReportingOptions,
): ApolloServerPlugin<TContext>[] {
  if (!reporting) {
    return [
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
    ];
  }
  return [
    ApolloServerPluginUsageReporting<TContext>({
      endpointUrl: reporting.endpointUrl,
      // Subgraphs send no field-level traces (inline tracing is off): operation-level stats only.
      fieldLevelInstrumentation: 0,
    }),
    ApolloServerPluginSchemaReportingDisabled(),
  ];
}

/** Errors we did not mean for the client keep their details in the log only. */
function maskInternal(
  subgraph: string | undefined,
  log: Logger,
  formatted: GraphQLFormattedError,
  error: unknown,
): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (code === ErrorCode.Internal || code === undefined) {
    log.error({ err: error }, 'unexpected error');
    return {
      message: 'internal error',
      path: formatted.path,
      extensions: { code: ErrorCode.Internal, ...(subgraph && { subgraph }) },
    };
  }
  if (!subgraph || formatted.extensions?.subgraph) return formatted;
  return { ...formatted, extensions: { ...formatted.extensions, subgraph } };
}

/** Stops a service on SIGINT or SIGTERM, then exits. */
export function stopOnSignal(running: Running, log: Logger): void {
  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    try {
      await running.stop();
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
