import type { ApolloServerPlugin } from '@apollo/server';
import cluster from 'node:cluster';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AggregatorRegistry,
  collectDefaultMetrics,
  Counter,
  Histogram,
  Registry,
} from 'prom-client';

import type { Logger } from './logger';
import type { ObservabilityConfig } from './observability';

export { Registry };

type MetricsConfig = NonNullable<ObservabilityConfig['metrics']>;

/** Request latencies from 5 ms to 10 s: a resolver hitting Neo4j to a slow cross-subgraph query. */
const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Label values taken from requests, kept bounded: the first `max` distinct sane values are kept,
 * anything later or odd becomes `other`, so a client inventing names cannot grow the series.
 */
export class BoundedLabels {
  private readonly known = new Set<string>();

  constructor(
    private readonly max: number,
    private readonly sane: RegExp,
  ) {}

  label(value: string): string {
    if (this.known.has(value)) return value;
    if (this.known.size >= this.max || !this.sane.test(value)) return 'other';
    this.known.add(value);
    return value;
  }
}

/** A process's metrics: its own registry, so that two services in one process stay apart. */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'operation' | 'outcome'>;
  private readonly latency: Histogram<'operation'>;
  private readonly errors: Counter<'code'>;
  private readonly operations: BoundedLabels;
  // Codes come from our registry and Apollo's; a subgraph could still invent some.
  private readonly codes = new BoundedLabels(50, /^[A-Z][A-Z0-9_]{0,59}$/);

  constructor(config: Pick<MetricsConfig, 'maxOperations'>) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'graphql_requests_total',
      help: 'GraphQL requests by operation name and outcome (success, partial, error)',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.latency = new Histogram({
      name: 'graphql_request_duration_seconds',
      help: 'Time from receiving a GraphQL request to sending its answer',
      labelNames: ['operation'],
      buckets: latencyBuckets,
      registers,
    });
    this.errors = new Counter({
      name: 'graphql_errors_total',
      help: 'Errors in GraphQL answers by extensions.code',
      labelNames: ['code'],
      registers,
    });
    // GraphQL names are [_A-Za-z][_0-9A-Za-z]*; the length bound keeps one label short.
    this.operations = new BoundedLabels(config.maxOperations, /^[_A-Za-z][_0-9A-Za-z]{0,99}$/);
  }

  /** Counts requests refused before GraphQL saw them (broken JSON, too large). */
  refused(code: string): void {
    this.requests.inc({ operation: 'unknown', outcome: 'error' });
    this.errors.inc({ code: this.codes.label(code) });
  }

  /**
   * Counts every GraphQL request: by operation (`anonymous`, `unknown`, `other`), outcome and
   * error codes.
   */
  plugin<TContext extends object>(): ApolloServerPlugin<TContext> {
    return {
      requestDidStart: async () => {
        const stopTimer = this.latency.startTimer();
        // Stays `unknown` when the document does not parse or validate.
        let operation = 'unknown';
        return {
          didResolveOperation: async ({ operationName }) => {
            operation = operationName ? this.operations.label(operationName) : 'anonymous';
          },
          didEncounterErrors: async ({ errors }) => {
            for (const error of errors) {
              const code = error.extensions?.code;
              this.errors.inc({
                code: typeof code === 'string' ? this.codes.label(code) : 'INTERNAL_SERVER_ERROR',
              });
            }
          },
          willSendResponse: async ({ response }) => {
            const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
            const outcome = !result?.errors?.length ? 'success' : result.data ? 'partial' : 'error';
            this.requests.inc({ operation, outcome });
            stopTimer({ operation });
          },
        };
      },
    };
  }
}

export interface MetricsListener {
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves `/metrics` on its own port: kept off the API port so that it is never reachable
 * through the ingress, only from inside the cluster network where Prometheus scrapes.
 */
export async function serveMetrics(
  registry: Pick<Registry, 'metrics'> & { contentType: string },
  config: Pick<MetricsConfig, 'port' | 'host'>,
  log: Logger,
): Promise<MetricsListener> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => {
        log.error({ err: error }, 'metrics could not be collected');
        res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}/metrics`;
  log.info({ url }, 'metrics served');
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * With node:cluster each worker keeps its own metrics, and a port the workers shared would
 * answer a scrape from one random worker. So a worker hands its registry to the primary
 * instead of listening, and the primary serves the sum of all workers (`serveClusterMetrics`).
 * Returns whether this process is such a worker.
 */
export function reportToClusterPrimary(registry: Registry): boolean {
  if (!cluster.isWorker) return false;
  // Constructing one is what makes prom-client answer the primary's requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  return true;
}

/** In the primary of node:cluster: serves the metrics of all its workers, summed. */
export function serveClusterMetrics(
  config: Pick<MetricsConfig, 'port' | 'host'>,
  log: Logger,
): Promise<MetricsListener> {
  const aggregator = new AggregatorRegistry();
  const summed = {
    contentType: aggregator.contentType,
    metrics: () => aggregator.clusterMetrics(),
  };
  return serveMetrics(summed, config, log);
}
