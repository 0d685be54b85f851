// Writes the "Lineage at scale" section of docs/benchmarks.md: the last section of that file,
// which bench/run.mjs keeps when it rewrites the rest.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { repoRoot, rootRequire } from '../root-require.mjs';

const heading = '\n## Lineage at scale';

const ms = (value) => value.toFixed(1);
const count = (value) => value.toLocaleString('en-US');

/** The warm-up ingestion, when the run had one. */
const warmUpRow = (warmUp) =>
  warmUp
    ? `${count(warmUp.entities)} file versions in other projects, ${ms(warmUp.seconds)} s (${count(Math.round(warmUp.entities / warmUp.seconds))}/s)`
    : 'none';

/** File versions a second between one progress mark and the next. */
function stepRates(progress = []) {
  const rates = progress.map(({ entities, seconds }, index) => {
    const before = progress[index - 1] ?? { entities: 0, seconds: 0 };
    return count(Math.round((entities - before.entities) / (seconds - before.seconds)));
  });
  return rates.length > 0 ? `${rates.join(', ')} /s` : 'not recorded';
}
const verdict = (ok) => (ok ? 'met' : '**missed**');

export function writeSection(file, run) {
  const { ingestion, store, viaGateway, direct, profile } = run;
  const rate = ingestion.entities / ingestion.seconds;
  const version = (name) => rootRequire(`${name}/package.json`).version;
  const median = profile.median;

  const section = `${heading}

Written by \`node bench/lineage/run.mjs\` (see \`bench/README.md\`); run of
${run.started.toISOString()}, ${count(run.options.entities)} file versions asked for.

### Machine and versions

| | |
| --- | --- |
| cores, memory | ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB |
| load average (1, 5, 15 min) before / after | ${run.load.before.map((l) => l.toFixed(2)).join(', ')} / ${run.load.after.map((l) => l.toFixed(2)).join(', ')} |
| Node.js | ${process.version} |
| Neo4j | ${store.neo4j} (embedded, \`stack/src/services/neo4j.ts\`), heap ${run.heap}, page cache ${run.pageCache} |
| neo4j-driver, @apollo/gateway, graphql | ${version('neo4j-driver')}, ${version('@apollo/gateway')}, ${version('graphql')} |
| code measured | commit ${run.code.commit}${run.code.uncommitted ? ' with uncommitted changes in subgraphs/lineage/src' : ''}; ${run.code.built.map((b) => `\`${b}\``).join(', ')} |

### Method

- **Graph**: \`generateProvenance\` (\`subgraphs/lineage/src/ingest/synthetic.ts\`) spreads
  ${count(ingestion.entities)} file versions and ${count(ingestion.runs)} runs over
  ${run.options.projectCount} public projects, as pipelines of about 14 runs: raw files, chains,
  fan-ins (up to 3 inputs), fan-outs (4 outputs), diamonds and re-runs that write a path again;
  each pipeline starts from the last outputs of the one before, so lineage goes deeper than 10
  runs. Runs also write side files (metrics), which gives 0.3 runs per file version. Motifs:
  ${Object.entries(ingestion.motifs)
    .map(([kind, n]) => `${kind} ${count(n)}`)
    .join(', ')}.
- **Ingestion**: each segment (about 5,000 file versions of one project) goes through
  \`ingestExport\` (\`subgraphs/lineage/src/ingest/ingest.ts\`), the same function a webhook
  event or \`ingest-cli\` ends in after reading JSON-LD: one write transaction per segment,
  one indexed look-up of the runs, and of the files but a new run's outputs, the graph holds
  already, then batched \`UNWIND\`s of up to 5,000 rows that \`CREATE\` the new ones with their
  relationships and \`MERGE\` the rest, under the graph's uniqueness constraints, each statement
  with the plan it got first (\`CYPHER replan=skip\`).
  ${run.options.concurrency} transactions run side by side (different projects), after a warm-up
  of the same kind into other projects that is not counted (a Neo4j just started runs its
  code interpreted first; the lineage queries are measured after warm-up requests too). The JSON-LD
  reading (expansion with \`jsonld\`) is not part of it: the generator makes the records it would
  make. The rate is file versions over the wall time of the whole ingestion, runs and links
  included.
- **Queries**: \`lineage(projectPath, filePath, direction: BOTH, depth: 10) { nodes { id location
  label type } edges { source target } }\` over ${count(new Set(ingestion.samples.map((s) => `${s.projectPath}:${s.filePath}`)).size)}
  different generated outputs chosen uniformly, anonymous, one request at a time (latency, not
  throughput), after 200 warm-up requests, through \`startGateway\` (supergraph/) over the
  committed \`supergraph/supergraph.graphql\` with only the lineage subgraph running, all in one
  Node process beside Neo4j. Then the same against the lineage subgraph directly.

### Results

| figure | measured | target | |
| --- | ---: | ---: | --- |
| ingestion, file versions per second | ${count(Math.round(rate))} | ≥ 20,000 | ${verdict(rate >= 20_000)} |
| depth-10 lineage through the gateway, p50 | ${ms(viaGateway.p50)} ms | ≤ 20 ms | ${verdict(viaGateway.p50 <= 20)} |
| depth-10 lineage through the gateway, p99 | ${ms(viaGateway.p99)} ms | ≤ 100 ms | ${verdict(viaGateway.p99 <= 100)} |

| | value |
| --- | ---: |
| ingestion wall time | ${ms(ingestion.seconds)} s for ${count(ingestion.entities)} file versions, ${count(ingestion.runs)} runs, ${count(ingestion.usages + ingestion.generations)} links, ${count(ingestion.transactions)} transactions |
| generating the records (inside that time) | ${ms(ingestion.generatorSeconds)} s |
| warm-up before it (not counted) | ${warmUpRow(ingestion.warmUp)} |
| rate over each 100,000 file versions | ${stepRates(ingestion.progress)} |
| CPU during ingestion: Neo4j / this Node.js process | ${ms(ingestion.cpu.neo4jSeconds)} s (${count(Math.round(ingestion.entities / ingestion.cpu.neo4jSeconds))} file versions per Neo4j CPU-second) / ${ms(ingestion.cpu.nodeSeconds)} s |
| in the store afterwards | ${count(store.files)} files, ${count(store.runs)} runs, ${count(store.links)} USED/GENERATED |
| gateway p50 / p90 / p99 / max (${count(viaGateway.count)} requests) | ${ms(viaGateway.p50)} / ${ms(viaGateway.p90)} / ${ms(viaGateway.p99)} / ${ms(viaGateway.max)} ms |
| lineage subgraph alone p50 / p90 / p99 (${count(direct.count)} requests) | ${ms(direct.p50)} / ${ms(direct.p90)} / ${ms(direct.p99)} ms |
| nodes per answer: mean / median / max | ${viaGateway.meanNodes.toFixed(1)} / ${viaGateway.nodesP50} / ${viaGateway.nodesMax} |

### Where a lineage request spends its time

The Cypher statements the lineage subgraph ran for 20 of the requests (recorded in process),
each replayed on the warm database; the median request by server time:

| | median request |
| --- | ---: |
| statements (Bolt round trips) | ${median.statements} (20 requests: ${Math.min(...profile.all.map((p) => p.statements))} to ${Math.max(...profile.all.map((p) => p.statements))}) |
| request time at the subgraph | ${ms(median.requestMs)} ms |
| Neo4j's own time, all statements | ${ms(median.serverMs)} ms |
| database hits, all statements | ${count(median.dbHits)} |

| # | statement (start) | server ms | records | db hits | costliest operator |
| ---: | --- | ---: | ---: | ---: | --- |
${median.rows.map((row, i) => `| ${i + 1} | \`${row.statement.replaceAll('|', '\\|')}\` | ${row.serverMs} | ${row.records} | ${count(row.dbHits)} | ${row.top} |`).join('\n')}
`;

  // Only this section is replaced; sections other benchmarks write before or after it stay.
  const body = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const at = body.indexOf(heading);
  const end = at < 0 ? -1 : body.indexOf('\n## ', at + heading.length);
  const before = at < 0 ? body : body.slice(0, at);
  const after = end < 0 ? '' : body.slice(end);
  const notes = fs.readFileSync(new URL('./limits.md', import.meta.url), 'utf8');
  fs.writeFileSync(file, `${before.trimEnd()}\n${section}\n${notes.trimEnd()}\n${after}`);
}

// `node bench/lineage/report.mjs` writes the section again from the last run's figures.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const last = path.join(repoRoot, '.cache', 'bench-lineage', 'last-run.json');
  const run = JSON.parse(fs.readFileSync(last, 'utf8'));
  writeSection(path.join(repoRoot, 'docs', 'benchmarks.md'), {
    ...run,
    started: new Date(run.started),
  });
}
