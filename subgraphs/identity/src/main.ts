import { createLogger, stopOnSignal } from '@renku-supergraph/kit';

import { readIdentityConfig, startIdentitySubgraph } from './index';

const log = createLogger('identity');

async function main(): Promise<void> {
  const running = await startIdentitySubgraph(readIdentityConfig(process.env), log);
  stopOnSignal(running, log);
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, 'identity subgraph failed to start');
  process.exit(1);
});
