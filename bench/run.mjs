// One command for the gateway benchmark: `node bench/run.mjs` (after `npm run build`
// and `npm install --prefix bench`). Starts the fixture subgraphs, our gateway and
// Hive Gateway, runs interleaved A/B rounds and writes docs/benchmarks.md.
//
// | env | default | meaning |
// | BENCH_SECONDS | 10 | length of one round |
// | BENCH_ROUNDS | 5 | rounds per target and scenario (the median is reported) |
// | BENCH_CONCURRENCY | 20 | requests in flight for the fan-out query |
// | BENCH_MAX_LOAD | 2 | wait while the 1-minute load average is above this |
// | BENCH_WAIT_MINUTES | 15 | how long to wait for a quiet machine at most |
// | BENCH_OUT | docs/benchmarks.md | where the results go |
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import {
  compressionCost,
  firstRequestAfterStart,
  firstRequestCost,
  planningCost,
  subgraphTraces,
} from './evidence.mjs';
import { bodyChecker, runLoad } from './load.mjs';
import { cpuSeconds, peakRssMb, processTree, rssMb } from './procstat.mjs';
import { profileGateway } from './profile.mjs';
import { fanOut, fanOutPages, small } from './queries.mjs';
import { repoRoot, rootRequire } from './root-require.mjs';
import { startFixture, startHiveGateway, startOurGateway, stopAll } from './targets.mjs';
import { writeReport } from './report.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 20);
const maxLoad = Number(process.env.BENCH_MAX_LOAD ?? 2);
const waitMinutes = Number(process.env.BENCH_WAIT_MINUTES ?? 15);
const out = path.resolve(repoRoot, process.env.BENCH_OUT ?? 'docs/benchmarks.md');
const subgraphNames = ['identity', 'projects', 'lineage', 'sessions', 'gitlab'];
/** The fixture subgraphs' processes: their CPU per request shows what each gateway asks of them. */
let fixturePids = [];
/**
 * Our gateway runs with the V8 heap limits it is deployed with (the Helm chart's
 * `gateway.nodeOptions`), and once without them to show what they cost and save.
 */
const deployedNodeOptions = rootRequire('yaml').parse(
  fs.readFileSync(path.join(repoRoot, 'deploy/helm/renku-supergraph/values.yaml'), 'utf8'),
).gateway.nodeOptions;

const say = (message) => process.stderr.write(`bench: ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** The operations as a persisted query manifest, the format WARM_UP_OPERATIONS reads. */
function manifestOf(queries) {
  return {
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: queries.map(({ query }, index) => ({ id: `bench-${index}`, body: query })),
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForQuiet() {
  const until = Date.now() + waitMinutes * 60_000;
  let load = os.loadavg()[0];
  while (load > maxLoad && Date.now() < until) {
    say(`1-minute load is ${load.toFixed(2)} (> ${maxLoad}); waiting a minute for a quiet machine`);
    await sleep(60_000);
    load = os.loadavg()[0];
  }
  return os.loadavg();
}

/** Composes the supergraph of the real schema files with the fixtures' URLs. */
function composeFor(fixtures, dir) {
  const { composeSupergraph, readRoverConfig } = rootRequire('./supergraph/dist/compose.js');
  const entries = readRoverConfig(path.join(repoRoot, 'rover.yaml')).map((entry) => ({
    ...entry,
    routingUrl: fixtures.find((f) => f.name === entry.name).url,
  }));
  const file = path.join(dir, 'supergraph.graphql');
  fs.writeFileSync(file, composeSupergraph(entries));
  return file;
}

/** One round against one target, with the CPU and memory its processes used. */
async function measure(target, operation, load) {
  const pids = processTree(target.pid);
  const cpuBefore = cpuSeconds(pids);
  const subgraphCpuBefore = cpuSeconds(fixturePids);
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, ...rssMb(processTree(target.pid)));
  }, 200);
  const result = await runLoad({
    url: target.url,
    query: operation.query,
    variants: operation.variants,
    seconds,
    ...load,
    check: target.checks[operation.query],
  });
  clearInterval(sampler);
  const cpu = cpuSeconds(processTree(target.pid)) - cpuBefore;
  const subgraphCpu = cpuSeconds(fixturePids) - subgraphCpuBefore;
  const perRequest = (seconds) => (seconds * 1000) / Math.max(1, result.requests);
  return {
    ...result,
    cpuMsPerRequest: perRequest(cpu),
    subgraphCpuMsPerRequest: perRequest(subgraphCpu),
    peakRss,
  };
}

/** Interleaved rounds: ABC, BCA, CAB, ... so drift in the machine hits every target alike. */
async function compare(label, targets, operation, load) {
  const results = Object.fromEntries(targets.map((t) => [t.label, []]));
  for (const target of targets) {
    say(`${label}: warming up ${target.label}`);
    await runLoad({
      url: target.url,
      query: operation.query,
      variants: operation.variants,
      concurrency: load.concurrency,
      seconds: 3,
      check: target.checks[operation.query],
    });
  }
  for (let round = 0; round < rounds; round += 1) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]);
    for (const target of order) {
      const result = await measure(target, operation, load);
      say(
        `${label} round ${round + 1}/${rounds} ${target.label}: ${result.throughput.toFixed(1)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, invalid ${result.invalid}, failed ${result.failed}`,
      );
      results[target.label].push(result);
    }
  }
  return {
    label,
    operation: operation.name,
    concurrency: load.concurrency,
    rows: targets.map((target) => summarize(target, results[target.label])),
  };
}

function summarize(target, runs) {
  const pick = (key) => median(runs.map((r) => r[key]));
  return {
    target: target.label,
    processes: target.processes,
    throughput: pick('throughput'),
    p50: pick('p50'),
    p90: pick('p90'),
    p99: pick('p99'),
    cpuMsPerRequest: pick('cpuMsPerRequest'),
    subgraphCpuMsPerRequest: pick('subgraphCpuMsPerRequest'),
    peakRss: Math.max(...runs.map((r) => r.peakRss)),
    vmHwm: Math.max(0, ...peakRssMb(processTree(target.pid))),
    requests: runs.reduce((sum, r) => sum + r.requests, 0),
    invalid: runs.reduce((sum, r) => sum + r.invalid + r.failed, 0),
    throughputs: runs.map((r) => r.throughput),
  };
}

/** Both gateways must give the same complete answer before any timing counts. */
async function checkAnswers(targets, operation) {
  const answers = [];
  for (const target of targets) {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: operation.query, variables: operation.variants?.[7] }),
    });
    const body = await response.json();
    if (body.errors || !operation.isComplete(body.data)) {
      throw new Error(
        `${target.label} answered ${operation.name} incompletely: ${JSON.stringify(body).slice(0, 500)}`,
      );
    }
    answers.push(JSON.stringify(body.data));
  }
  if (new Set(answers).size !== 1)
    throw new Error(`the targets answered ${operation.name} differently`);
}

async function main() {
  for (const built of ['supergraph/dist/index.js', 'kit/dist/index.js']) {
    if (!fs.existsSync(path.join(repoRoot, built)))
      throw new Error(`${built} is missing: run \`npm run build\` first`);
  }
  const loadBefore = await waitForQuiet();
  const startedAt = new Date();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'renku-bench-'));
  say(`logs and the composed supergraph in ${dir}`);

  const fixtures = await Promise.all(subgraphNames.map((name) => startFixture(name, dir)));
  fixturePids = fixtures.map((f) => f.pid);
  const supergraphFile = composeFor(fixtures, dir);
  const subgraphUrls = Object.fromEntries(fixtures.map((f) => [f.name, f.url]));

  const withChecks = (target, label, processes) => ({
    ...target,
    label,
    processes,
    checks: {
      [fanOutPages.query]: bodyChecker(fanOutPages.isComplete),
      [fanOut.query]: bodyChecker(fanOut.isComplete),
      [small.query]: bodyChecker(small.isComplete),
    },
  });
  const start = async (kind, workers, env = {}, note = '') => {
    const port = await freePort();
    const oursEnv = { NODE_OPTIONS: deployedNodeOptions, ...env };
    const running =
      kind === 'ours'
        ? await startOurGateway({
            port,
            supergraphFile,
            subgraphUrls,
            workers,
            logDir: dir,
            env: oursEnv,
          })
        : await startHiveGateway({ port, supergraphFile, workers, logDir: dir });
    const name = kind === 'ours' ? 'our gateway (@apollo/gateway)' : 'Hive Gateway';
    return withChecks(
      running,
      `${name}, ${workers} worker${workers > 1 ? 's' : ''}${note}`,
      workers,
    );
  };

  // Our gateway plans the benchmark's operations at start, as it does the known operations of
  // a deployment (WARM_UP_OPERATIONS); once more without, to show what that saves.
  const operations = path.join(dir, 'known-operations.json');
  fs.writeFileSync(operations, JSON.stringify(manifestOf([fanOut, fanOutPages, small])));
  const warmUp = await firstRequestAfterStart(
    (env) => start('ours', 1, env),
    { with: { WARM_UP_OPERATIONS: operations }, without: { WARM_UP_OPERATIONS: '' } },
    fanOut.query,
  );
  const ours = await start('ours', 1, { WARM_UP_OPERATIONS: operations });
  const hive = await start('hive', 1);
  const unlimited = await start('ours', 1, { NODE_OPTIONS: '' }, ', no heap limit');
  const projects = fixtures.find((f) => f.name === 'projects');
  const direct = withChecks(projects, 'projects subgraph, called directly', 1);
  const idleRss = (target) => Math.max(...rssMb(processTree(target.pid)));
  const evidence = {
    rssAtStart: { ours: idleRss(ours), hive: idleRss(hive), direct: idleRss(direct) },
    hiveProcesses: processTree(hive.pid).length,
    firstRequest: {
      ours: await firstRequestCost(ours.url, fanOut.query),
      hive: await firstRequestCost(hive.url, fanOut.query),
      warmUp,
      planning: await planningCost(supergraphFile, fanOut.query),
    },
    compression: await compressionCost(ours.url, fanOut.query),
    traces: await subgraphTraces(projects.url),
  };
  await checkAnswers([ours, hive, unlimited], fanOut);
  await checkAnswers([ours, hive, direct], small);
  await checkAnswers([ours, hive], fanOutPages);

  const scenarios = [];
  scenarios.push(
    await compare('fan-out, 1 worker', [ours, hive, unlimited], fanOut, { concurrency }),
  );
  scenarios.push(
    await compare('fan-out, different pages, 1 worker', [ours, hive], fanOutPages, { concurrency }),
  );
  await unlimited.stop();
  scenarios.push(
    await compare('small query, one at a time', [direct, ours, hive], small, { concurrency: 1 }),
  );
  await ours.stop();
  await hive.stop();

  const cores = os.availableParallelism();
  const oursN = await start('ours', cores);
  const hiveN = await start('hive', cores);
  await checkAnswers([oursN, hiveN], fanOut);
  await checkAnswers([oursN, hiveN], fanOutPages);
  scenarios.push(
    await compare(`fan-out, ${cores} workers`, [oursN, hiveN], fanOut, { concurrency }),
  );
  scenarios.push(
    await compare(`fan-out, different pages, ${cores} workers`, [oursN, hiveN], fanOutPages, {
      concurrency,
    }),
  );

  await oursN.stop();
  await hiveN.stop();
  const loadAfter = os.loadavg();

  say('profiling our gateway on the fan-out query');
  const profileDir = fs.mkdtempSync(path.join(dir, 'profile-'));
  const profile = await profileGateway({
    fixtures,
    supergraphFile,
    operation: fanOut,
    seconds: 2 * seconds,
    dir: profileDir,
  });
  say(`profile in ${profile.file}`);
  await stopAll();
  writeReport(out, {
    startedAt,
    seconds,
    rounds,
    loadBefore,
    loadAfter,
    scenarios,
    evidence,
    profile,
    fanOut,
    small,
    deployedNodeOptions,
  });
  say(`results written to ${path.relative(repoRoot, out)}`);
}

process.once('SIGINT', () => stopAll().then(() => process.exit(130)));
main().catch(async (error) => {
  say(error.stack ?? String(error));
  await stopAll();
  process.exit(1);
});
