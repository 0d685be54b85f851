import path from 'node:path';

import { repoRoot } from './paths';
import { httpAnswers, spawnService, type Service } from './process';

export interface NodeServiceOptions {
  name: string;
  /** The workspace folder, relative to the repository root. */
  workspace: string;
  port: number;
  env: Record<string, string>;
  logDir: string;
}

/**
 * Runs a built workspace's `dist/main.js` as its own process, the way it runs
 * in a deployment, and waits for its health endpoint.
 */
export async function startNodeService(options: NodeServiceOptions): Promise<Service> {
  const base = `http://127.0.0.1:${options.port}`;
  const spawned = await spawnService({
    name: options.name,
    command: process.execPath,
    args: [path.join(repoRoot, options.workspace, 'dist', 'main.js')],
    cwd: repoRoot,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(options.port),
      ...options.env,
    },
    logFile: path.join(options.logDir, `${options.name}.log`),
    ready: async () => (await httpAnswers(`${base}/health`)) && (await isHealthy(`${base}/health`)),
    timeoutMs: 60_000,
  });
  return { name: options.name, url: `${base}/graphql`, stop: spawned.stop };
}

async function isHealthy(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return response.ok;
}
