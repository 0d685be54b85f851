import { createLogger, stopOnSignal } from '@renku-supergraph/kit';

import { readGitLabConfig, startGitLabSubgraph } from './index';

async function main(): Promise<void> {
  const log = createLogger('gitlab');
  const running = await startGitLabSubgraph(readGitLabConfig(process.env), log);
  stopOnSignal(running, log);
}

main().catch((error: unknown) => {
  process.stderr.write(`gitlab subgraph failed to start: ${String(error)}\n`);
  process.exit(1);
});
