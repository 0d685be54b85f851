import { createLogger, stopOnSignal } from '@renku-supergraph/kit';

import { readProjectsConfig, startProjectsSubgraph } from './index';

const log = createLogger('projects');

async function main(): Promise<void> {
  const running = await startProjectsSubgraph(readProjectsConfig(process.env), log);
  stopOnSignal(running, log);
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, 'projects subgraph failed to start');
  process.exit(1);
});
