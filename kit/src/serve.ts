import { ApolloServer, type ApolloServerOptions, type ApolloServerPlugin } from '@apollo/server';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { ErrorCode } from './errors';
import type { Logger } from './logger';

/** What every resolver of every subgraph receives. */
export interface BaseContext {
  /** The caller's `Authorization` header as the gateway passed it on. */
  authorization?: string;
  log: Logger;
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
  /** Readiness of the backends; `/health` answers 503 while it throws. */
  ready?: () => Promise<void>;
  plugins?: ApolloServerPlugin<TContext>[];
  /** Extra validation rules, e.g. limits on depth and cost. */
  validationRules?: ApolloServerOptions<TContext>['validationRules'];
  /** Largest request body accepted. Default `1mb`. */
  bodyLimit?: string;
}

export interface Running {
  url: string;
  port: number;
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
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Field-level traces cost time on every request and only matter with
      // Apollo Studio reporting, which is not set up here.
      ...(tag ? [ApolloServerPluginInlineTraceDisabled()] : []),
      ...(production ? [ApolloServerPluginLandingPageDisabled()] : []),
      ...(options.plugins ?? []),
    ],
    formatError: (formatted, error) => maskInternal(tag, log, formatted, error),
  });
  await server.start();

  app.get('/health', async (_req, res) => {
    try {
      await options.ready?.();
      res.json({ status: 'ok', service: name });
    } catch (error) {
      log.warn({ err: error }, 'not ready');
      res.status(503).json({ status: 'unavailable', service: name });
    }
  });
  options.routes?.(app);
  app.use(
    '/graphql',
    express.json({ limit: options.bodyLimit ?? '1mb' }),
    expressMiddleware(server, {
      context: async ({ req }) => {
        const base: BaseContext = { authorization: req.headers.authorization, log };
        return options.context ? options.context(base, req) : (base as TContext);
      },
    }),
  );

  app.use(refuseBadBodies(log));

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, host, resolve);
  });
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://${host}:${port}/graphql`;
  log.info({ url }, `${name} ready`);

  return {
    url,
    port,
    stop: async () => {
      await server.stop();
      log.info(`${name} stopped`);
    },
  };
}

/**
 * Bodies that never reach GraphQL (broken JSON, too large) get a GraphQL-shaped
 * JSON error instead of Express's HTML page, which would show a stack trace.
 */
function refuseBadBodies(log: Logger): ErrorRequestHandler {
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
    if (status >= 500) log.error({ err: error }, 'request failed');
    res.status(status).json({
      errors: [
        { message, extensions: { code: status < 500 ? ErrorCode.BadRequest : ErrorCode.Internal } },
      ],
    });
  };
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
