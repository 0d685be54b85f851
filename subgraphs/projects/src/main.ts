import { createLogger, stopOnSignal } from '@renku-supergraph/kit';

import { readProjectsConfig, startProjectsSubgraph } from './index';

// Replaced by one at the configured level once the configuration is read.
let log = createLogger('projects', 'info');

async function main(): Promise<void> {
  const config = readProjectsConfig(process.env);
  log = createLogger('projects', config.observability.logLevel);
  const running = await startProjectsSubgraph(config, log);
  stopOnSignal(running, log);
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, 'projects subgraph failed to start');
  process.exit(1);
});
