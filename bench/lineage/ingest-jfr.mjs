// Where Neo4j's CPU goes while the lineage write path ingests: Java Flight Recorder samples of
// Neo4j's threads during the ingestion of a generated graph (after a warm-up), sorted into the
// parts of the work (Bolt, Cypher runtime, commit and its steps, planning).
//
//   node bench/lineage/ingest-jfr.mjs [--entities 100000] [--projects 20] [--concurrency 2]
//                                     [--keep FILE.jfr] [--top 25]
//   node bench/lineage/ingest-jfr.mjs --summarise FILE.jfr     # a recording kept before
//
// Uses the built working tree (`npx tsc -b` first) and the JDK's `jcmd` and `jfr` tools.
// Prints the share of samples per part and the methods most often on top of the stack.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { rootRequire, repoRoot } from '../root-require.mjs';
import { findNeo4jPid, ingestSegments } from './ingestion.mjs';

const { values: args } = parseArgs({
  options: {
    entities: { type: 'string', default: '100000' },
    projects: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '2' },
    keep: { type: 'string' },
    top: { type: 'string', default: '25' },
    summarise: { type: 'string' },
  },
});
const entities = Number(args.entities);
const concurrency = Number(args.concurrency);

process.env.NEO4J_HEAP ??= '2g';
process.env.NEO4J_PAGECACHE ??= '2g';

const lineageDist = path.join(repoRoot, 'subgraphs/lineage/dist');
const { createLogger } = rootRequire('@renku-supergraph/kit');
const { provisionNeo4j, startNeo4j } = rootRequire(
  path.join(repoRoot, 'stack/dist/services/neo4j.js'),
);
const { applyGraphSchema } = rootRequire(path.join(lineageDist, 'index.js'));
const { ingestExport } = rootRequire(path.join(lineageDist, 'ingest/ingest.js'));
const neo4j = rootRequire('neo4j-driver');

const log = createLogger('bench-lineage-jfr', 'warn');
const say = (text) => process.stderr.write(`[ingest jfr] ${text}\n`);
const work = path.join(repoRoot, '.cache', 'bench-lineage', `jfr-${process.pid}`);

/**
 * Parts of the work, by frames anywhere on the stack (and the thread); the first part that
 * matches wins, so the steps of a commit come before the commit itself.
 */
const parts = [
  ['commit: record changes', /extractCommands/],
  ['commit: transaction log', /TransactionAppender|appendToLog/],
  ['commit: index updates', /IndexTransactionApplierFactory|IndexingService|OnlineIndexUpdates/],
  ['commit: id generators', /IdGenerator/],
  ['commit: store records', /NeoStoreTransactionApplier|StorageEngine\.apply/],
  ['commit: other', /KernelTransactionImplementation\.commit/],
  ['planning', /compileAndCache|CypherPlanner\./],
  ['uniqueness checks', /validateNoExistingNodeWithExactValues|LockingUniqueIndexSeek/],
  ['index look-ups', /IndexSeek|EntityIndexSeeker/],
  ['transaction state', /TxState|IndexTxStateUpdater/],
  ['bolt: network threads', /^thread .*BoltNetworkIO/],
  ['cypher runtime: other', /cypher\.internal\.runtime|cypher\.operations/],
  ['bolt: worker, other', /bolt/],
];

async function main() {
  fs.mkdirSync(work, { recursive: true });
  await provisionNeo4j();
  const dataDir = path.join(work, 'neo4j');
  const database = await startNeo4j({ dataDir });
  const driver = neo4j.driver(database.url, undefined, { maxConnectionPoolSize: concurrency + 2 });
  const recording = path.resolve(args.keep ?? path.join(work, 'ingest.jfr'));
  try {
    await applyGraphSchema(driver, log);
    const warmUp = Math.min(40_000, Math.ceil(entities / 5));
    const options = { concurrency, projects: concurrency * 2 };
    await ingestSegments(driver, ingestExport, { ...options, count: warmUp, prefix: 'warmup/' });
    const pid = findNeo4jPid(dataDir);
    execFileSync('jcmd', [String(pid), 'JFR.start', 'name=ingest', 'settings=profile']);
    const { seconds } = await ingestSegments(driver, ingestExport, {
      concurrency,
      count: entities,
      projects: Number(args.projects),
    });
    execFileSync('jcmd', [String(pid), 'JFR.stop', 'name=ingest', `filename=${recording}`]);
    say(`${entities} file versions in ${seconds.toFixed(1)} s, recording in ${recording}`);
  } finally {
    await driver.close();
    await database.stop();
  }
  summarise(recording);
}

/** Reads the execution samples and prints the share of each part and the top methods. */
function summarise(recording) {
  const text = execFileSync(
    'jfr',
    ['print', '--events', 'jdk.ExecutionSample', '--stack-depth', '200', recording],
    { encoding: 'utf8', maxBuffer: 2 ** 31 - 1 },
  );
  const byPart = new Map();
  const byTop = new Map();
  const byThread = new Map();
  let total = 0;
  for (const event of text.split('jdk.ExecutionSample').slice(1)) {
    const frames = [...event.matchAll(/^\s+([\w$.<>/]+)\(/gm)].map((match) => match[1]);
    if (frames.length === 0) continue;
    total += 1;
    const thread = /sampledThread = "([^"]*)"/.exec(event)?.[1].replace(/\d+/g, 'N') ?? '?';
    byThread.set(thread, (byThread.get(thread) ?? 0) + 1);
    const stack = [`thread ${thread}`, ...frames].join('\n');
    const part = parts.find(([, pattern]) => pattern.test(stack))?.[0] ?? 'other';
    byPart.set(part, (byPart.get(part) ?? 0) + 1);
    byTop.set(frames[0], (byTop.get(frames[0]) ?? 0) + 1);
  }
  const table = (map, limit) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, n]) => `${((100 * n) / total).toFixed(1).padStart(5)} %  ${name}`)
      .join('\n');
  process.stdout.write(
    `${total} samples\n\nby part:\n${table(byPart, 30)}\n\nby thread:\n${table(byThread, 10)}` +
      `\n\ntop of stack:\n${table(byTop, Number(args.top))}\n`,
  );
}

(args.summarise ? Promise.resolve().then(() => summarise(args.summarise)) : main())
  .catch((error) => {
    process.exitCode = 1;
    process.stderr.write(`${error.stack ?? error}\n`);
  })
  .finally(() => fs.rmSync(work, { recursive: true, force: true }));
