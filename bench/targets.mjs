// Starting and stopping what the benchmark measures: the fixture subgraphs, our
// gateway and Hive Gateway, each in its own process.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

import { repoRoot } from './root-require.mjs';

const started = new Set();

/** Stops everything started here; called on exit and on Ctrl-C. */
export async function stopAll() {
  await Promise.all([...started].map((child) => stop(child)));
}

function stop(child) {
  started.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    // Its own process group, so a gateway's workers stop with it.
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      resolve();
    }
  });
}

function launch(name, args, env, logDir) {
  const log = fs.openSync(path.join(logDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', log],
    detached: true,
  });
  started.add(child);
  return child;
}

/** One fixture subgraph; resolves with its URL once it listens. */
export async function startFixture(name, logDir) {
  const child = launch(`subgraph-${name}`, ['bench/fixtures/subgraphs.mjs', name], {}, logDir);
  const line = await new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fixture ${name} exited with ${code}`)));
  });
  return { name, pid: child.pid, url: JSON.parse(line).url, stop: () => stop(child) };
}

async function waitForGraphQL(url, child, what) {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not answer at ${url} within 60 s`);
}

/**
 * Our gateway (supergraph/dist), `workers` processes: 1 runs main.js as
 * deployed; more run bench/gateway-cluster.mjs, a node:cluster wrapper.
 */
export async function startOurGateway({
  port,
  supergraphFile,
  subgraphUrls,
  workers,
  logDir,
  env,
  nodeArgs = [],
}) {
  const urlEnv = Object.fromEntries(
    Object.entries(subgraphUrls).map(([name, url]) => [`SUBGRAPH_${name.toUpperCase()}_URL`, url]),
  );
  const script = workers > 1 ? 'bench/gateway-cluster.mjs' : 'supergraph/dist/main.js';
  const child = launch(
    `gateway-ours-${workers}`,
    [...nodeArgs, script],
    {
      PORT: String(port),
      SUPERGRAPH_FILE: supergraphFile,
      GATEWAY_WORKERS: String(workers),
      ...urlEnv,
      ...env,
    },
    logDir,
  );
  const url = `http://127.0.0.1:${port}/graphql`;
  await waitForGraphQL(url, child, 'our gateway');
  return { pid: child.pid, url, stop: () => stop(child) };
}

/** Hive Gateway serving the same supergraph file, `workers` forks. */
export async function startHiveGateway({ port, supergraphFile, workers, logDir, nodeArgs = [] }) {
  const bin = path.join(repoRoot, 'bench/node_modules/@graphql-hive/gateway/dist/bin.js');
  if (!fs.existsSync(bin)) {
    throw new Error('Hive Gateway is not installed: run `npm install --prefix bench` first');
  }
  const child = launch(
    `gateway-hive-${workers}`,
    [
      ...nodeArgs,
      bin,
      'supergraph',
      supergraphFile,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--fork',
      String(workers),
      '--disable-websockets',
    ],
    {},
    logDir,
  );
  const url = `http://127.0.0.1:${port}/graphql`;
  await waitForGraphQL(url, child, 'Hive Gateway');
  return { pid: child.pid, url, stop: () => stop(child) };
}
