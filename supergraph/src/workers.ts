import type { Logger, Running } from '@renku-supergraph/kit';
import cluster from 'node:cluster';

/**
 * Runs the gateway in `workers` processes sharing one port (node:cluster), so that a
 * gateway on several cores uses them all: query planning, result shaping and JSON
 * work are CPU-bound on one thread (see docs/benchmarks.md). With 1 it just starts.
 * The primary restarts a worker that dies and stops every worker on SIGINT or SIGTERM.
 */
export async function runWorkers(
  workers: number,
  start: () => Promise<Running>,
  log: Logger,
): Promise<Running | undefined> {
  if (workers <= 1 || cluster.isWorker) return start();

  let stopping = false;
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, 'a gateway worker died; starting another');
    cluster.fork();
  });
  for (let i = 0; i < workers; i += 1) cluster.fork();
  log.info({ workers }, 'gateway workers started');

  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    log.info({ signal }, 'stopping the gateway workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    // A worker that does not finish its requests in time is not waited for.
    setTimeout(() => process.exit(0), 15_000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return undefined;
}
