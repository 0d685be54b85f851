import { createLogger, stopOnSignal } from '@renku-supergraph/kit';

import { readSessionsConfig, startSessionsSubgraph } from './index';

async function main(): Promise<void> {
  const config = readSessionsConfig(process.env);
  const log = createLogger('sessions', config.observability.logLevel);
  const running = await startSessionsSubgraph(config, log);
  stopOnSignal(running, log);
}

main().catch((error: unknown) => {
  process.stderr.write(`sessions subgraph failed to start: ${String(error)}\n`);
  process.exit(1);
});
