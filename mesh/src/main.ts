import { createLogger, stopOnSignal } from '@renku-supergraph/kit';

import { readGitLabConfig, startGitLabSubgraph } from './index';

async function main(): Promise<void> {
  const config = readGitLabConfig(process.env);
  const log = createLogger('gitlab', config.observability.logLevel);
  const running = await startGitLabSubgraph(config, log);
  stopOnSignal(running, log);
}

main().catch((error: unknown) => {
  process.stderr.write(`gitlab subgraph failed to start: ${String(error)}\n`);
  process.exit(1);
});
