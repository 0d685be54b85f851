#!/usr/bin/env node
import { createLogger, stopOnSignal } from '@renku-supergraph/kit';

import { readGatewayConfig, startGateway } from './index';

const log = createLogger('gateway');

startGateway(readGatewayConfig(), log).then(
  (running) => stopOnSignal(running, log),
  (error: unknown) => {
    log.fatal({ err: error }, 'the gateway did not start');
    process.exit(1);
  },
);
