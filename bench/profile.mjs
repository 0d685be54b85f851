// Where our gateway spends its CPU: runs it under `node --cpu-prof` with the
// fan-out query (or `small`) for a while and prints the functions and packages
// with the most self time. `node bench/profile.mjs [fan-out|small] [seconds]`.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { bodyChecker, runLoad } from './load.mjs';
import { fanOut, small } from './queries.mjs';
import { repoRoot, rootRequire } from './root-require.mjs';
import { startFixture, startHiveGateway, startOurGateway, stopAll } from './targets.mjs';

const which = process.argv[2] === 'small' ? small : fanOut;
const seconds = Number(process.argv[3] ?? 15);
const gatewayKind = process.argv[4] === 'hive' ? 'hive' : 'ours';

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Self time per function and per package, from a .cpuprofile. */
export function summarizeProfile(file, top = 25) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
  const byFunction = new Map();
  const byPackage = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const ms = (node.hitCount * interval) / 1000;
    total += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^file:\/\//, '').replace(`${repoRoot}/`, '');
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
    const pkg =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where)?.[1] ??
      (where.startsWith('node:')
        ? 'node (core)'
        : where === ''
          ? functionName
          : where.split('/')[0]);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
  }
  const rank = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => ({ what: k, ms, share: ms / total }));
  return { totalMs: total, functions: rank(byFunction), packages: rank(byPackage) };
}

/** Runs one gateway under `--cpu-prof` with the load, stops it and summarizes the profile. */
export async function profileGateway({
  kind = 'ours',
  fixtures,
  supergraphFile,
  operation,
  seconds,
  dir,
}) {
  const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  const options = { port: await freePort(), supergraphFile, workers: 1, logDir: dir, nodeArgs };
  const gateway =
    kind === 'hive'
      ? await startHiveGateway(options)
      : await startOurGateway({
          ...options,
          subgraphUrls: Object.fromEntries(fixtures.map((f) => [f.name, f.url])),
        });
  const result = await runLoad({
    url: gateway.url,
    query: operation.query,
    concurrency: operation === small ? 1 : 20,
    seconds,
    check: bodyChecker(operation.isComplete),
  });
  await gateway.stop();
  const file = fs.readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  return { ...summarizeProfile(path.join(dir, file)), file: path.join(dir, file), result, seconds };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'renku-profile-'));
  const fixtures = await Promise.all(
    ['identity', 'projects', 'lineage', 'sessions', 'gitlab'].map((name) =>
      startFixture(name, dir),
    ),
  );
  const { composeSupergraph, readRoverConfig } = rootRequire('./supergraph/dist/compose.js');
  const supergraphFile = path.join(dir, 'supergraph.graphql');
  fs.writeFileSync(
    supergraphFile,
    composeSupergraph(
      readRoverConfig(path.join(repoRoot, 'rover.yaml')).map((entry) => ({
        ...entry,
        routingUrl: fixtures.find((f) => f.name === entry.name).url,
      })),
    ),
  );
  const summary = await profileGateway({
    kind: gatewayKind,
    fixtures,
    supergraphFile,
    operation: which,
    seconds,
    dir,
  });
  await stopAll();

  const line = (row) => `${(row.share * 100).toFixed(1).padStart(5)}%  ${row.what}`;
  process.stdout.write(
    `${gatewayKind} gateway, ${which.name}: ${summary.result.requests} requests, ${summary.result.invalid} invalid, ` +
      `profile ${summary.file}\n\nself time by package:\n${summary.packages.map(line).join('\n')}` +
      `\n\nself time by function:\n${summary.functions.map(line).join('\n')}\n`,
  );
}

if (path.resolve(process.argv[1] ?? '') === new URL(import.meta.url).pathname) {
  main().catch(async (error) => {
    process.stderr.write(`${error.stack}\n`);
    await stopAll();
    process.exit(1);
  });
}
