import { createLogger, stopOnSignal } from '@renku-supergraph/kit';

import { readIdentityConfig, startIdentitySubgraph } from './index';

// Replaced by one at the configured level once the configuration is read.
let log = createLogger('identity', 'info');

async function main(): Promise<void> {
  const config = readIdentityConfig(process.env);
  log = createLogger('identity', config.observability.logLevel);
  const running = await startIdentitySubgraph(config, log);
  stopOnSignal(running, log);
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, 'identity subgraph failed to start');
  process.exit(1);
});
