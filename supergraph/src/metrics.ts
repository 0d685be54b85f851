import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { ServiceMetrics } from '@renku-supergraph/kit';
import { Counter, Histogram } from 'prom-client';

/** Subgraph calls take from a millisecond (a cached lookup) to the whole timeout. */
const latencyBuckets = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Calls from the gateway to its subgraphs: by subgraph, outcome and latency. */
export class SubgraphFetchMetrics {
  private readonly fetches: Counter<'subgraph' | 'outcome'>;
  private readonly latency: Histogram<'subgraph'>;

  constructor(metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.fetches = new Counter({
      name: 'gateway_subgraph_fetches_total',
      help: 'Calls to subgraphs by outcome: success, errors (answered with errors), failed (no answer: unreachable, timeout, 5xx)',
      labelNames: ['subgraph', 'outcome'],
      registers,
    });
    this.latency = new Histogram({
      name: 'gateway_subgraph_fetch_duration_seconds',
      help: 'Time of one call to a subgraph, its retries included',
      labelNames: ['subgraph'],
      buckets: latencyBuckets,
      registers,
    });
  }

  /** `source` with each call counted and timed; subgraph names come from the supergraph, so they are bounded. */
  observe<TContext extends Record<string, any>>(
    subgraph: string,
    source: GraphQLDataSource<TContext>,
  ): GraphQLDataSource<TContext> {
    return {
      process: async (options: GraphQLDataSourceProcessOptions<TContext>) => {
        const stopTimer = this.latency.startTimer({ subgraph });
        try {
          const response = await source.process(options);
          this.fetches.inc({ subgraph, outcome: response.errors?.length ? 'errors' : 'success' });
          return response;
        } catch (error) {
          this.fetches.inc({ subgraph, outcome: 'failed' });
          throw error;
        } finally {
          stopTimer();
        }
      },
    };
  }
}
