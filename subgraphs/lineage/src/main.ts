import { createLogger, stopOnSignal } from '@renku-supergraph/kit';

import { readLineageConfig } from './config';
import { startLineageSubgraph } from './index';

const log = createLogger('lineage');

startLineageSubgraph(readLineageConfig(process.env), log).then(
  (running) => stopOnSignal(running, log),
  (error: unknown) => {
    log.error({ err: error }, 'lineage subgraph failed to start');
    process.exit(1);
  },
);
