// The soak: `node bench/soak.mjs [--seconds 600] [--concurrency 8] [--url <gateway>]
// [--issuer <realm>] [--no-write]` (after `npm run build` and `node stack/dist/cli.js
// provision`). A bounded closed-loop load of one query that every subgraph answers a part of,
// against the real local stack: one it starts itself (default) or a running one (`--url`,
// e.g. `npm start`'s http://localhost:4000/graphql). Reports requests, errors (every answer
// must be complete), latency per minute and the gateway's memory over time, and writes the
// "Soak" section of docs/benchmarks.md.
//
// | option | default | meaning |
// | --seconds | 600 | length of the load, after the warm-up |
// | --warm-up | 60 | seconds of load first, reported apart: cold caches, JIT, connection pools |
// | --concurrency | 8 | requests in flight |
// | --url | none: start a stack | the gateway of a running stack |
// | --issuer | http://127.0.0.1:8080/realms/renku | its Keycloak realm, with --url |
// | --no-write | off | print the section instead of writing docs/benchmarks.md |
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { bodyChecker, runLoad } from './load.mjs';
import { processTree, rssMb } from './procstat.mjs';
import { machine } from './report.mjs';
import { repoRoot, rootRequire } from './root-require.mjs';
import { writeSection } from './sections.mjs';

const { values: options } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    'warm-up': { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '8' },
    url: { type: 'string' },
    issuer: { type: 'string', default: 'http://127.0.0.1:8080/realms/renku' },
    'no-write': { type: 'boolean', default: false },
  },
});
const seconds = Number(options.seconds);
const concurrency = Number(options.concurrency);
const warmUpSeconds = Number(options['warm-up']);
const out = path.resolve(repoRoot, process.env.BENCH_OUT ?? 'docs/benchmarks.md');
const say = (message) => process.stderr.write(`soak: ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const project = 'ada.analyst/tutorial-zhbikes';
const soakQuery = `query Soak($path: String!) {
  me { username name }
  sessions { name }
  project(path: $path) {
    path name visibility keywords
    defaultBranch branches(first: 5) { totalCount }
    sessions { name }
    lineage(filePath: "data/preprocessed/zhbikes.parquet") { nodes { id } }
  }
}`;

/** Complete: every subgraph's part is there (the checker already refused any `errors`). */
const complete = (data) =>
  data.me?.username === 'ada.analyst' &&
  Array.isArray(data.sessions) &&
  data.project?.name &&
  data.project.defaultBranch === 'master' &&
  data.project.branches?.totalCount > 0 &&
  Array.isArray(data.project.sessions) &&
  data.project.lineage?.nodes?.length > 2;

/** The process listening on this loopback TCP port, from /proc (Linux only). */
function listeningPid(port) {
  const inodes = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(table)) continue;
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // st 0A is LISTEN; the local address ends in the port in hex.
      if (fields[3] === '0A' && parseInt(fields[1]?.split(':')[1], 16) === port) {
        inodes.add(fields[9]);
      }
    }
  }
  for (const pid of fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) return Number(pid);
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

/**
 * The gateway's V8 heap (in use and reserved), from a diagnostic report it writes on SIGUSR2 (Node's
 * `--report-on-signal`): readable from outside without any endpoint in the gateway. Only a
 * gateway started by this script has the option; otherwise undefined.
 */
function heapMb(pid, reportDir) {
  if (!reportDir) return undefined;
  const before = new Set(fs.readdirSync(reportDir));
  process.kill(pid, 'SIGUSR2');
  return (async () => {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      await sleep(100);
      const file = fs.readdirSync(reportDir).find((name) => !before.has(name));
      if (!file) continue;
      try {
        const report = JSON.parse(fs.readFileSync(path.join(reportDir, file), 'utf8'));
        fs.rmSync(path.join(reportDir, file));
        const { usedMemory, totalMemory } = report.javascriptHeap;
        return { used: usedMemory / 2 ** 20, total: totalMemory / 2 ** 20 };
      } catch {
        // still being written
      }
    }
    return undefined;
  })();
}

async function signIn(issuer) {
  const { passwordGrant } = rootRequire('@renku-supergraph/stack');
  return passwordGrant({ issuer, username: 'ada.analyst', password: 'ada-demo-password' });
}

/** Mean of the samples in the first and the last third of the time after warm-up. */
function thirds(samples, key, from, to) {
  const third = (to - from) / 3;
  const mean = (list) => list.reduce((sum, s) => sum + s[key], 0) / list.length;
  const usable = samples.filter((s) => s[key] !== undefined && s.at >= from);
  return {
    first: mean(usable.filter((s) => s.at < from + third)),
    last: mean(usable.filter((s) => s.at >= to - third)),
  };
}

async function main() {
  let stack;
  let dataDir;
  let reportDir;
  let url = options.url;
  let issuer = options.issuer;
  if (!url) {
    const { startStack } = rootRequire('@renku-supergraph/stack');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'renku-soak-'));
    reportDir = path.join(dataDir, 'reports');
    fs.mkdirSync(reportDir);
    // Every Node service of the stack inherits this; only the gateway is ever signalled.
    process.env.NODE_OPTIONS = [
      process.env.NODE_OPTIONS ?? '',
      '--report-on-signal --report-signal=SIGUSR2 --report-compact',
      `--report-directory=${reportDir}`,
    ].join(' ');
    say('starting the local stack with the demo data (about 2 minutes)');
    stack = await startStack({ ports: 'free', dataDir });
    delete process.env.NODE_OPTIONS;
    url = stack.gatewayUrl;
    issuer = stack.keycloak.issuer;
  }
  const pid = listeningPid(Number(new URL(url).port || 80));
  if (!pid) say(`no process of ours listens on ${url}: memory is not sampled`);

  const samples = [];
  const minutes = [];
  const started = performance.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling && pid) {
      const at = (performance.now() - started) / 1000;
      const rss = rssMb(processTree(pid)).reduce((sum, mb) => sum + mb, 0);
      const heap = await heapMb(pid, reportDir);
      samples.push({ at, rss, heap: heap?.used, heapTotal: heap?.total });
      await sleep(5000);
    }
  })();

  let warmUp;
  let measuredFrom;
  try {
    const check = bodyChecker(complete);
    if (warmUpSeconds > 0) {
      warmUp = await runLoad({
        url,
        query: soakQuery,
        variants: [{ path: project }],
        headers: { authorization: `Bearer ${await signIn(issuer)}` },
        concurrency,
        seconds: warmUpSeconds,
        check,
      });
      say(`warm-up: ${warmUp.requests} requests, ${warmUp.invalid + warmUp.failed} errors`);
    }
    measuredFrom = (performance.now() - started) / 1000;
    for (let done = 0; done < seconds; done += 60) {
      // Keycloak's access tokens live 5 minutes: a fresh one per minute.
      const token = await signIn(issuer);
      const result = await runLoad({
        url,
        query: soakQuery,
        variants: [{ path: project }],
        headers: { authorization: `Bearer ${token}` },
        concurrency,
        seconds: Math.min(60, seconds - done),
        check,
      });
      minutes.push(result);
      say(
        `minute ${minutes.length}: ${result.requests} requests, ${result.invalid + result.failed} errors, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, RSS ${samples.at(-1)?.rss.toFixed(0) ?? '?'} MB`,
      );
    }
  } finally {
    sampling = false;
    await sampler;
    if (stack) await stack.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const elapsed = (performance.now() - started) / 1000;
  const section = report({
    minutes,
    warmUp,
    samples,
    measuredFrom,
    elapsed,
    startedStack: Boolean(stack),
  });
  if (options['no-write']) process.stdout.write(`${section}\n`);
  else {
    writeSection(out, '## Soak', section);
    say(`wrote ${path.relative(repoRoot, out)}`);
  }
  const errors = minutes.reduce((sum, m) => sum + m.invalid + m.failed, 0);
  if (errors > 0) {
    say(`${errors} requests failed or were incomplete`);
    process.exitCode = 1;
  }
}

function report({ minutes, warmUp, samples, measuredFrom, elapsed, startedStack }) {
  const m = machine();
  const requests = minutes.reduce((sum, minute) => sum + minute.requests, 0);
  const errors = minutes.reduce((sum, minute) => sum + minute.invalid + minute.failed, 0);
  const rss = thirds(samples, 'rss', measuredFrom, elapsed);
  const heap = thirds(samples, 'heap', measuredFrom, elapsed);
  const heapTotal = thirds(samples, 'heapTotal', measuredFrom, elapsed);
  // Memory follows the allocation rate: a change of throughput between the thirds explains
  // some change of memory without any leak.
  const third = Math.max(1, Math.floor(minutes.length / 3));
  const rate = (list) => list.reduce((sum, minute) => sum + minute.throughput, 0) / list.length;
  const change = ({ first, last }) =>
    Number.isFinite(first) && Number.isFinite(last)
      ? `${first.toFixed(1)} MB -> ${last.toFixed(1)} MB (${(((last - first) / first) * 100).toFixed(1)} %)`
      : 'not sampled';
  return [
    `Written by \`node bench/soak.mjs --seconds ${seconds} --warm-up ${warmUpSeconds} --concurrency ${concurrency}\``,
    `on ${new Date().toISOString()} (${m.cores} cores, ${m.cpu}, Node.js ${process.version}), against`,
    startedStack
      ? 'a local stack the script started (real Neo4j, Keycloak, JupyterHub, the GitLab stand-in,'
      : `the running stack at ${options.url} (real Neo4j, Keycloak, JupyterHub, the GitLab stand-in,`,
    'the five subgraphs and the gateway, all on this machine), signed in as the demo user. A',
    'closed loop keeps the requests in flight; every answer must hold every part without',
    '`errors`, else it counts as an error. `tests/soak/` runs a short version in CI.',
    '',
    '```graphql',
    soakQuery,
    '```',
    '',
    `**${requests} requests, ${errors} errors** in ${((elapsed - measuredFrom) / 60).toFixed(1)} minutes`,
    warmUp
      ? `after ${warmUpSeconds} s of warm-up (${warmUp.requests} requests, ${warmUp.invalid + warmUp.failed} errors, p99 ${warmUp.p99.toFixed(0)} ms: cold caches, JIT, connection pools; not counted).`
      : 'without warm-up.',
    '',
    '| minute | requests | req/s | errors | p50 ms | p99 ms | RSS MB, last | heap in use MB, lowest |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...minutes.map((minute, i) => {
      // The lowest in-use sample of a minute is the nearest to what survives collection.
      const inMinute = samples.filter(
        (s) => s.at >= measuredFrom + 60 * i && s.at < measuredFrom + 60 * (i + 1),
      );
      const heaps = inMinute.map((s) => s.heap).filter((mb) => mb !== undefined);
      const lowest = heaps.length ? Math.min(...heaps).toFixed(1) : '-';
      const rss = inMinute.at(-1)?.rss.toFixed(1) ?? '-';
      return `| ${i + 1} | ${minute.requests} | ${minute.throughput.toFixed(1)} | ${minute.invalid + minute.failed} | ${minute.p50.toFixed(1)} | ${minute.p99.toFixed(1)} | ${rss} | ${lowest} |`;
    }),
    '',
    `Gateway memory, sampled every 5 s (RSS from /proc; the V8 heap in use and reserved from a`,
    `diagnostic report on SIGUSR2, so "in use" includes garbage not yet collected), mean of the`,
    `first and of the last third of the measured run (time 0 is the start of the warm-up):`,
    '',
    `- RSS: ${change(rss)}`,
    `- heap in use: ${change(heap)}`,
    `- heap reserved: ${change(heapTotal)}`,
    `- throughput meanwhile: ${rate(minutes.slice(0, third)).toFixed(1)} req/s -> ${rate(minutes.slice(-third)).toFixed(1)} req/s`,
    '',
    '| time s | RSS MB | heap in use MB | heap reserved MB |',
    '| ---: | ---: | ---: | ---: |',
    ...samples
      .filter((_, i) => i % 6 === 0 || i === samples.length - 1)
      .map(
        (s) =>
          `| ${s.at.toFixed(0)} | ${s.rss.toFixed(1)} | ${s.heap?.toFixed(1) ?? '-'} | ${s.heapTotal?.toFixed(1) ?? '-'} |`,
      ),
  ].join('\n');
}

main().catch((error) => {
  process.stderr.write(`soak: ${error.stack ?? error}\n`);
  process.exit(1);
});
