import { createLogger, stopOnSignal } from '@renku-supergraph/kit';

import { readSessionsConfig, startSessionsSubgraph } from './index';

async function main(): Promise<void> {
  const log = createLogger('sessions');
  const running = await startSessionsSubgraph(readSessionsConfig(process.env), log);
  stopOnSignal(running, log);
}

main().catch((error: unknown) => {
  process.stderr.write(`sessions subgraph failed to start: ${String(error)}\n`);
  process.exit(1);
});
