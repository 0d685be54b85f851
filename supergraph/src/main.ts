#!/usr/bin/env node
import { createLogger, serveClusterMetrics, stopOnSignal } from '@renku-supergraph/kit';

import { readGatewayConfig, startGateway } from './index';
import { runWorkers } from './workers';

// Replaced by one at the configured level once the configuration is read.
let log = createLogger('gateway', 'info');

try {
  const config = readGatewayConfig();
  log = createLogger('gateway', config.observability.logLevel);
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
