#!/usr/bin/env node
import { createLogger, serveClusterMetrics, stopOnSignal } from '@renku-supergraph/kit';

import { readGatewayConfig, startGateway } from './index';
import { runWorkers } from './workers';

const log = createLogger('gateway');

try {
  const config = readGatewayConfig();
  runWorkers(config.workers, () => startGateway(config, log), log)
    .then(async (running) => {
      if (running) return stopOnSignal(running, log);
      // The primary of several workers: it serves their metrics, summed.
      const metrics = config.observability.metrics;
      if (metrics) await serveClusterMetrics(metrics, log);
    })
    .catch((error: unknown) => {
      log.fatal({ err: error }, 'the gateway did not start');
      process.exit(1);
    });
} catch (error) {
  log.fatal({ err: error }, 'the gateway did not start');
  process.exit(1);
}
