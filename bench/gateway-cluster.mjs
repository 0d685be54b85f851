// Our gateway with one worker per core (GATEWAY_WORKERS, default the core count),
// node:cluster sharing the port: the tuning the issue asks to measure. The
// gateway itself is unchanged; supergraph/src/main.ts would do the same.
import cluster from 'node:cluster';
import os from 'node:os';

import { rootRequire } from './root-require.mjs';

const workers = Number(process.env.GATEWAY_WORKERS ?? os.availableParallelism());

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i += 1) cluster.fork();
  process.once('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const { createLogger } = rootRequire('@renku-supergraph/kit');
  const { readGatewayConfig, startGateway } = rootRequire('./supergraph/dist/index.js');
  const log = createLogger('gateway');
  const running = await startGateway(readGatewayConfig(), log);
  process.once('SIGTERM', () => running.stop().then(() => process.exit(0)));
}
