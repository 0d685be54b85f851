#!/usr/bin/env node
import { createLogger, stopOnSignal } from '@renku-supergraph/kit';

import { readGatewayConfig, startGateway } from './index';
import { runWorkers } from './workers';

const log = createLogger('gateway');

try {
  const config = readGatewayConfig();
  runWorkers(config.workers, () => startGateway(config, log), log).then(
    (running) => running && stopOnSignal(running, log),
    (error: unknown) => {
      log.fatal({ err: error }, 'the gateway did not start');
      process.exit(1);
    },
  );
} catch (error) {
  log.fatal({ err: error }, 'the gateway did not start');
  process.exit(1);
}
