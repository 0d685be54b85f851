// Ingestion A/B: the lineage write path of a git revision (the base) against the built working
// tree, on the same generated graph, in one run, so that both meet the same machine load.
//
//   node bench/lineage/ingest-ab.mjs [--base HEAD] [--entities 200000] [--rounds 3]
//                                    [--projects 20] [--concurrency 2] [--base-dir DIR]
//                                    [--work-concurrency N]
//
// Each round ingests the graph once with each side, in alternating order, each into a fresh
// Neo4j (same heap and page cache as run.mjs) after a warm-up graph of its own, not measured.
// Only the write path (`ingest/ingest.ts`, `ingest/write-provenance.ts`) comes from the base
// revision (or from the folder `--base-dir`, to compare with a copy not committed): it is
// transpiled on the fly and uses the working tree's other modules, generator and schema.
// Reports the median rate and CPU time of each side (Neo4j's, and this Node.js process's while
// it sends the graph), their ratio, and the node and relationship counts of each side's graph,
// so that a change of model is visible.
// Needs `npm run build` first.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { rootRequire, repoRoot } from '../root-require.mjs';
import { cpuSeconds, findNeo4jPid, ingestSegments } from './ingestion.mjs';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string', default: 'HEAD' },
    entities: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    projects: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '2' },
    'base-dir': { type: 'string' },
    // Transactions side by side for the working tree only (default: --concurrency), to
    // compare the same write path at two concurrencies: `--base-dir` a copy of it.
    'work-concurrency': { type: 'string' },
  },
});
const entities = Number(args.entities);
const concurrencyOf = {
  base: Number(args.concurrency),
  work: Number(args['work-concurrency'] ?? args.concurrency),
};

process.env.NEO4J_HEAP ??= '2g';
process.env.NEO4J_PAGECACHE ??= '2g';

const lineageDist = path.join(repoRoot, 'subgraphs/lineage/dist');
const { createLogger } = rootRequire('@renku-supergraph/kit');
const { provisionNeo4j, startNeo4j } = rootRequire(
  path.join(repoRoot, 'stack/dist/services/neo4j.js'),
);
const { applyGraphSchema } = rootRequire(path.join(lineageDist, 'index.js'));
const neo4j = rootRequire('neo4j-driver');
const ts = rootRequire('typescript');

const log = createLogger('bench-lineage-ab', 'warn');
const say = (text) => process.stderr.write(`[ingest a/b] ${text}\n`);
const work = path.join(repoRoot, '.cache', 'bench-lineage', `ab-${process.pid}`);

/** The write path: these files come from the base, everything else from the built tree. */
const writePath = ['ingest.ts', 'write-provenance.ts'];

/**
 * The base's write path, transpiled into the work folder. Its imports of the other write-path
 * files stay among themselves; all other relative imports point at the built working tree.
 */
function loadBase(revision, baseDir) {
  const dir = path.join(work, 'base');
  fs.mkdirSync(dir, { recursive: true });
  const taken = writePath.filter((name) => {
    let source;
    try {
      source = baseDir
        ? fs.readFileSync(path.join(baseDir, name), 'utf8')
        : execFileSync('git', ['show', `${revision}:subgraphs/lineage/src/ingest/${name}`], {
            cwd: repoRoot,
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'ignore'],
          });
    } catch {
      return false; // not in that revision
    }
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    });
    fs.writeFileSync(path.join(dir, name.replace(/\.ts$/, '.js')), outputText);
    return true;
  });
  for (const name of taken) {
    const file = path.join(dir, name.replace(/\.ts$/, '.js'));
    const text = fs
      .readFileSync(file, 'utf8')
      .replace(/require\("(\.{1,2}\/[^"]+)"\)/g, (call, relative) =>
        taken.includes(`${path.basename(relative)}.ts`) && relative.startsWith('./')
          ? call
          : `require(${JSON.stringify(path.join(lineageDist, 'ingest', relative))})`,
      );
    fs.writeFileSync(file, text);
  }
  return rootRequire(path.join(dir, 'ingest.js'));
}

async function counts(driver) {
  const session = driver.session();
  try {
    const nodes = await session.run(
      'MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n ORDER BY label',
    );
    const links = await session.run(
      'MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n ORDER BY type',
    );
    return Object.fromEntries([
      ...nodes.records.map((r) => [r.get('label'), neo4j.integer.toNumber(r.get('n'))]),
      ...links.records.map((r) => [`:${r.get('type')}`, neo4j.integer.toNumber(r.get('n'))]),
    ]);
  } finally {
    await session.close();
  }
}

async function measureOnce(name, ingestExport, round) {
  const concurrency = concurrencyOf[name];
  const dataDir = path.join(work, `${name}-${round}`);
  const database = await startNeo4j({ dataDir });
  const driver = neo4j.driver(database.url, undefined, { maxConnectionPoolSize: concurrency + 2 });
  try {
    await applyGraphSchema(driver, log);
    // A cold JVM compiles and plans for the first tens of thousands of rows: not measured.
    const warmup = Math.min(40_000, Math.ceil(entities / 5));
    await ingestSegments(driver, ingestExport, {
      count: warmup,
      projects: concurrency * 2,
      concurrency,
      prefix: 'warmup/',
    });
    const pid = findNeo4jPid(dataDir);
    const cpuBefore = cpuSeconds(pid);
    const { seconds, nodeCpu } = await ingestSegments(driver, ingestExport, {
      count: entities,
      projects: Number(args.projects),
      concurrency,
    });
    const neo4jCpu = cpuSeconds(pid) - cpuBefore;
    return { seconds, rate: entities / seconds, neo4jCpu, nodeCpu, graph: await counts(driver) };
  } finally {
    await driver.close();
    await database.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  fs.mkdirSync(work, { recursive: true });
  await provisionNeo4j();
  const sides = {
    base: loadBase(args.base, args['base-dir']).ingestExport,
    work: rootRequire(path.join(lineageDist, 'ingest/ingest.js')).ingestExport,
  };
  const results = { base: [], work: [] };
  for (let round = 1; round <= Number(args.rounds); round++) {
    const order = round % 2 === 1 ? ['base', 'work'] : ['work', 'base'];
    for (const name of order) {
      const result = await measureOnce(name, sides[name], round);
      results[name].push(result);
      say(
        `round ${round} ${name}: ${Math.round(result.rate)} file versions/s, ` +
          `Neo4j ${result.neo4jCpu.toFixed(1)} CPU-s, Node.js ${result.nodeCpu.toFixed(1)} CPU-s, ` +
          `load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
      );
    }
  }
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, runs]) => [
      name,
      {
        rate: Math.round(median(runs.map((r) => r.rate))),
        neo4jCpuSeconds: Number(median(runs.map((r) => r.neo4jCpu)).toFixed(1)),
        nodeCpuSeconds: Number(median(runs.map((r) => r.nodeCpu)).toFixed(1)),
        rates: runs.map((r) => Math.round(r.rate)),
        graph: runs[0].graph,
      },
    ]),
  );
  summary.ratio = {
    rate: Number((summary.work.rate / summary.base.rate).toFixed(2)),
    neo4jCpu: Number((summary.work.neo4jCpuSeconds / summary.base.neo4jCpuSeconds).toFixed(2)),
    nodeCpu: Number((summary.work.nodeCpuSeconds / summary.base.nodeCpuSeconds).toFixed(2)),
  };
  summary.options = {
    base: args['base-dir'] ?? args.base,
    entities,
    rounds: Number(args.rounds),
    concurrency: concurrencyOf,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}

main()
  .catch((error) => {
    process.exitCode = 1;
    process.stderr.write(`${error.stack ?? error}\n`);
  })
  .finally(() => fs.rmSync(work, { recursive: true, force: true }));
