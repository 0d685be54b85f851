import { createLogger, stopOnSignal } from '@renku-supergraph/kit';

import { readLineageConfig } from './config';
import { startLineageSubgraph } from './index';

// Replaced by one at the configured level once the configuration is read.
let log = createLogger('lineage', 'info');

async function main(): Promise<void> {
  const config = readLineageConfig(process.env);
  log = createLogger('lineage', config.observability?.logLevel ?? 'info');
  const running = await startLineageSubgraph(config, log);
  stopOnSignal(running, log);
}

main().catch((error: unknown) => {
  log.error({ err: error }, 'lineage subgraph failed to start');
  process.exit(1);
});
