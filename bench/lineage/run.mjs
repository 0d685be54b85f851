// Lineage at scale: generates a provenance graph, ingests it into a real Neo4j through the
// lineage subgraph's own write path, then asks a depth-10 lineage through the real gateway.
//
//   node bench/lineage/run.mjs [--entities 1000000] [--projects 20] [--queries 2000]
//                              [--concurrency 2] [--out docs/benchmarks.md] [--no-write]
//
// Needs `npm run build` first (it loads the workspaces' dist/). Neo4j runs in a throw-away
// folder under .cache/bench-lineage/, removed at the end.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { rootRequire, repoRoot } from '../root-require.mjs';
import { cpuSeconds, findNeo4jPid, ingestSegments } from './ingestion.mjs';
import { profileTraversal } from './profile.mjs';
import { writeSection } from './report.mjs';

const { values: args } = parseArgs({
  options: {
    entities: { type: 'string', default: '1000000' },
    projects: { type: 'string', default: '20' },
    queries: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '2' },
    out: { type: 'string', default: 'docs/benchmarks.md' },
    'no-write': { type: 'boolean', default: false },
  },
});
const entities = Number(args.entities);
const projectCount = Number(args.projects);
const queryCount = Number(args.queries);
const concurrency = Number(args.concurrency);

// A million file versions need more than the stack's defaults (512m heap, 256m page cache).
process.env.NEO4J_HEAP ??= '2g';
process.env.NEO4J_PAGECACHE ??= '2g';

const lineageDist = (file) => path.join(repoRoot, 'subgraphs/lineage/dist', file);
const { createLogger } = rootRequire('@renku-supergraph/kit');
const { provisionNeo4j, startNeo4j } = rootRequire(
  path.join(repoRoot, 'stack/dist/services/neo4j.js'),
);
const { applyGraphSchema, startLineageSubgraph } = rootRequire(lineageDist('index.js'));
const { ingestExport } = rootRequire(lineageDist('ingest/ingest.js'));
const { generateProvenance } = rootRequire(lineageDist('ingest/synthetic.js'));
const { readGatewayConfig, startGateway } = rootRequire(
  path.join(repoRoot, 'supergraph/dist/index.js'),
);
const neo4j = rootRequire('neo4j-driver');

const log = createLogger('bench-lineage', 'warn');
const say = (text) => process.stderr.write(`[lineage bench] ${text}\n`);

const cleanups = [];
async function cleanUp() {
  while (cleanups.length > 0)
    await cleanups
      .pop()()
      .catch(() => undefined);
}
process.on('SIGINT', () => cleanUp().finally(() => process.exit(130)));

/** What was measured: the commit and the built traversal, which may hold uncommitted work. */
function codeState() {
  const git = (...gitArgs) => {
    try {
      return execFileSync('git', gitArgs, { cwd: repoRoot, encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  const dist = path.join(repoRoot, 'subgraphs/lineage/dist');
  const built = fs
    .readdirSync(dist)
    .filter((name) => /^lineage.*\.js$/.test(name))
    .map((name) => {
      const file = path.join(dist, name);
      const digest = crypto.createHash('sha1').update(fs.readFileSync(file)).digest('hex');
      return `${name} ${digest.slice(0, 10)} built ${fs.statSync(file).mtime.toISOString()}`;
    });
  return {
    commit: git('rev-parse', '--short', 'HEAD'),
    uncommitted: git('status', '--porcelain', '--', 'subgraphs/lineage/src') !== '',
    built,
  };
}

async function main() {
  const started = new Date();
  const code = codeState();
  const load = { before: os.loadavg() };
  const work = path.join(repoRoot, '.cache', 'bench-lineage', `run-${process.pid}`);
  fs.mkdirSync(work, { recursive: true });
  cleanups.push(async () => fs.rmSync(work, { recursive: true, force: true }));

  await provisionNeo4j();
  const database = await startNeo4j({ dataDir: path.join(work, 'neo4j') });
  cleanups.push(() => database.stop());
  const driver = neo4j.driver(database.url, undefined, { maxConnectionPoolSize: concurrency + 2 });
  cleanups.push(() => driver.close());
  await applyGraphSchema(driver, log);

  // A JVM just started interprets, then compiles, Neo4j's and the driver's code: the first
  // 100,000 file versions of a cold run went at a third of the later rate. A running service
  // ingests warm, so a few projects of their own go first and are not counted, as the queries'
  // warm-up requests are not.
  say(`warming up: ${count(warmUpEntities)} file versions into projects of their own`);
  const warmUp = await ingestWarmUp(driver);
  const neo4jPid = findNeo4jPid(work);
  const cpuBefore = { neo4j: cpuSeconds(neo4jPid), node: process.cpuUsage() };
  const ingestion = await ingest(driver);
  ingestion.warmUp = warmUp;
  const nodeCpu = process.cpuUsage(cpuBefore.node);
  ingestion.cpu = {
    neo4jSeconds: cpuSeconds(neo4jPid) - cpuBefore.neo4j,
    nodeSeconds: (nodeCpu.user + nodeCpu.system) / 1e6,
  };
  say(
    `ingested ${ingestion.entities} file versions, ${ingestion.runs} runs in ${ingestion.seconds.toFixed(1)} s: ` +
      `${Math.round(ingestion.entities / ingestion.seconds)} file versions/s`,
  );
  const store = await storeFacts(driver);

  const lineage = await startLineageSubgraph(
    { port: 0, host: '127.0.0.1', neo4j: { uri: database.url }, webhooks: { worker: false } },
    log,
  );
  cleanups.push(() => lineage.stop());
  const gateway = await startGateway(
    readGatewayConfig({
      PORT: '0',
      NODE_ENV: 'production',
      SUBGRAPH_LINEAGE_URL: lineage.url,
      SUPERGRAPH_FILE: path.join(repoRoot, 'supergraph/supergraph.graphql'),
    }),
    log,
  );
  cleanups.push(() => gateway.stop());

  const files = ingestion.samples;
  say(`${files.length} files to ask about; warming up`);
  await measure(gateway.url, files.slice(0, 200));
  say(`asking ${queryCount} depth-10 lineages through the gateway`);
  const viaGateway = await measure(gateway.url, files, queryCount);
  say(`p50 ${viaGateway.p50.toFixed(1)} ms, p99 ${viaGateway.p99.toFixed(1)} ms`);
  say('the same straight at the lineage subgraph');
  const direct = await measure(lineage.url, files, Math.min(queryCount, 1000));
  const profiles = [];
  for (const file of files.slice(0, 20))
    profiles.push(await profileTraversal(driver, lineage.url, file));
  const byServerMs = [...profiles].sort((a, b) => a.serverMs - b.serverMs);
  const profile = { median: byServerMs[10], all: profiles.map(({ rows, ...rest }) => rest) };

  load.after = os.loadavg();
  const run = {
    started,
    code,
    options: { entities, projectCount, queryCount, concurrency },
    heap: process.env.NEO4J_HEAP,
    pageCache: process.env.NEO4J_PAGECACHE,
    ingestion,
    store,
    viaGateway,
    direct,
    profile,
    load,
  };
  fs.writeFileSync(
    path.join(repoRoot, '.cache', 'bench-lineage', 'last-run.json'),
    JSON.stringify(run, null, 2),
  );
  if (!args['no-write']) writeSection(path.resolve(repoRoot, args.out), run);
  printSummary(run);
}

const warmUpEntities = Math.min(40_000, Math.ceil(entities / 5));
const count = (n) => n.toLocaleString('en-US');

/** The warm-up: other projects (`warmup/...`), written the way the measured ones are. */
async function ingestWarmUp(driver) {
  const options = { count: warmUpEntities, projects: 4, concurrency, prefix: 'warmup/', seed: 11 };
  const { seconds } = await ingestSegments(driver, ingestExport, options);
  return { entities: warmUpEntities, seconds };
}

/**
 * Segments of different projects are written side by side (`--concurrency`), those of one
 * project in order, each in one transaction, as a webhook event would be.
 */
async function ingest(driver) {
  const queues = Array.from({ length: concurrency }, () => []);
  const projectIndex = (projectPath) => Number(projectPath.split('-').at(-1)) - 1;
  const totals = { entities: 0, runs: 0, usages: 0, generations: 0, transactions: 0 };
  const motifs = {};
  const samples = [];
  const progress = [];
  let sampleSeen = 0;

  const generated = generateProvenance({ entities, projects: projectCount, seed: 7 });
  let done = false;
  const generatorStart = performance.now();
  let generatorMs = 0;
  /** Pulls segments from the one generator and hands them to the writer of their project. */
  const next = (writer) => {
    for (;;) {
      const queued = queues[writer].shift();
      if (queued) return queued;
      if (done) return undefined;
      const begin = performance.now();
      const step = generated.next();
      generatorMs += performance.now() - begin;
      if (step.done) {
        done = true;
        continue;
      }
      queues[projectIndex(step.value.projectPath) % concurrency].push(step.value);
    }
  };

  const start = performance.now();
  let reported = 0;
  await Promise.all(
    queues.map(async (_, writer) => {
      for (let segment = next(writer); segment; segment = next(writer)) {
        const { provenance } = segment.export;
        await ingestExport(
          driver,
          { projectPath: segment.projectPath, visibility: 'public' },
          segment.export,
        );
        totals.entities += provenance.files.length;
        totals.runs += provenance.runs.length;
        totals.usages += provenance.usages.length;
        totals.generations += provenance.generations.length;
        totals.transactions += 1;
        for (const [kind, count] of Object.entries(segment.motifs))
          motifs[kind] = (motifs[kind] ?? 0) + count;
        // A uniform sample of outputs (reservoir), so that queries spread over the whole graph.
        for (const file of provenance.files) {
          if (file.path.includes('.d/metric-') || file.path.includes('/raw-')) continue;
          sampleSeen += 1;
          if (samples.length < 5000)
            samples.push({ projectPath: segment.projectPath, filePath: file.path });
          else if (Math.random() < 5000 / sampleSeen) {
            samples[Math.floor(Math.random() * 5000)] = {
              projectPath: segment.projectPath,
              filePath: file.path,
            };
          }
        }
        if (totals.entities - reported >= 100_000) {
          reported = totals.entities;
          const seconds = (performance.now() - start) / 1000;
          progress.push({ entities: totals.entities, seconds });
          say(`${totals.entities} file versions, ${Math.round(totals.entities / seconds)}/s`);
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return {
    ...totals,
    motifs,
    seconds,
    progress,
    generatorSeconds: generatorMs / 1000,
    wallSinceGeneratorStart: (performance.now() - generatorStart) / 1000,
    samples: samples.sort(() => Math.random() - 0.5),
  };
}

async function storeFacts(driver) {
  const session = driver.session();
  try {
    const result = await session.executeRead((tx) =>
      tx.run(
        `CALL () { MATCH (f:File) RETURN count(f) AS files }
         CALL () { MATCH (r:Run) RETURN count(r) AS runs }
         CALL () { MATCH ()-[l:USED|GENERATED]->() RETURN count(l) AS links }
         CALL dbms.components() YIELD name, versions, edition
         RETURN files, runs, links, name + ' ' + versions[0] + ' ' + edition AS neo4j`,
      ),
    );
    const record = result.records[0];
    return {
      files: neo4j.integer.toNumber(record.get('files')),
      runs: neo4j.integer.toNumber(record.get('runs')),
      links: neo4j.integer.toNumber(record.get('links')),
      neo4j: record.get('neo4j'),
    };
  } finally {
    await session.close();
  }
}

const lineageQuery = `query Lineage($projectPath: String!, $filePath: String!) {
  lineage(projectPath: $projectPath, filePath: $filePath, direction: BOTH, depth: 10) {
    nodes { id location label type }
    edges { source target }
  }
}`;

/** One request at a time (closed loop, concurrency 1), so that the figures are latencies. */
async function measure(url, files, count = files.length) {
  const times = [];
  let nodes = 0;
  const sizes = [];
  const errors = [];
  for (let i = 0; i < count; i++) {
    const variables = files[i % files.length];
    const begin = performance.now();
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: lineageQuery, variables }),
    });
    const body = await response.json();
    times.push(performance.now() - begin);
    // A failed answer (a timeout under load) still took its time: it stays in the figures.
    if (body.errors || !body.data?.lineage) {
      errors.push({ variables, ms: times.at(-1), error: body.errors?.[0]?.message });
      continue;
    }
    nodes += body.data.lineage.nodes.length;
    sizes.push(body.data.lineage.nodes.length);
  }
  times.sort((a, b) => a - b);
  sizes.sort((a, b) => a - b);
  const at = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    count,
    p50: at(times, 0.5),
    p90: at(times, 0.9),
    p99: at(times, 0.99),
    max: times.at(-1),
    errors: errors.length,
    firstErrors: errors.slice(0, 3),
    meanNodes: nodes / Math.max(1, sizes.length),
    nodesP50: at(sizes, 0.5),
    nodesMax: sizes.at(-1),
  };
}

function printSummary(run) {
  const { ingestion, viaGateway, direct } = run;
  process.stdout.write(
    `${JSON.stringify(
      {
        entitiesPerSecond: Math.round(ingestion.entities / ingestion.seconds),
        entities: ingestion.entities,
        runs: ingestion.runs,
        gateway: { p50: viaGateway.p50, p99: viaGateway.p99 },
        subgraph: { p50: direct.p50, p99: direct.p99 },
        meanNodes: viaGateway.meanNodes,
      },
      null,
      2,
    )}\n`,
  );
}

main()
  .catch((error) => {
    process.exitCode = 1;
    process.stderr.write(`${error.stack ?? error}\n`);
  })
  .finally(cleanUp);
