// Writes the results as docs/benchmarks.md. The sections other benchmarks own
// (bench/sections.mjs) are kept as they are, after ours.
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { repoRoot, rootRequire } from './root-require.mjs';
import { keptSections } from './sections.mjs';

/** Read from the file: some packages' export maps hide their package.json from require. */
function version(name, root = repoRoot) {
  try {
    const file = path.join(root, 'node_modules', name, 'package.json');
    return JSON.parse(fs.readFileSync(file, 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

export function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  let memory = `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`;
  try {
    memory = execSync('free -h', { encoding: 'utf8' }).split('\n')[1].trim().split(/\s+/)[1];
  } catch {
    // free is missing: keep os.totalmem
  }
  return { cores: os.availableParallelism(), cpu, memory, kernel: os.release() };
}

const fixed = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const loads = (values) => values.map((v) => v.toFixed(2)).join(', ');

function table(scenario) {
  const lines = [
    `### ${scenario.label}`,
    '',
    `${scenario.operation}; ${scenario.concurrency} request${scenario.concurrency > 1 ? 's' : ''} in flight.`,
    '',
    '| target | req/s | p50 ms | p90 ms | p99 ms | gateway CPU ms/req | subgraphs CPU ms/req | peak RSS MB (sampled / VmHWM) | requests | invalid |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of scenario.rows) {
    lines.push(
      `| ${row.target} | ${fixed(row.throughput)} | ${fixed(row.p50, 2)} | ${fixed(row.p90, 2)} | ${fixed(row.p99, 2)} | ${fixed(row.cpuMsPerRequest, 2)} | ${fixed(row.subgraphCpuMsPerRequest, 2)} | ${fixed(row.peakRss, 0)} / ${fixed(row.vmHwm, 0)} | ${row.requests} | ${row.invalid} |`,
    );
  }
  lines.push(
    '',
    `Throughput of each round: ${scenario.rows.map((r) => `${r.target}: ${r.throughputs.map((t) => fixed(t)).join(', ')}`).join('; ')}.`,
    '',
  );
  return lines.join('\n');
}

function targets(run) {
  const find = (label) => run.scenarios.find((s) => s.label.startsWith(label));
  const row = (scenario, prefix) => scenario?.rows.find((r) => r.target.startsWith(prefix));
  const lines = ['| target | measured | met |', '| --- | --- | --- |'];
  for (const scenario of run.scenarios.filter((s) => s.label.startsWith('fan-out'))) {
    const ours = row(scenario, 'our gateway');
    const hive = row(scenario, 'Hive Gateway');
    lines.push(
      `| ${scenario.label}: our throughput ≥ Hive Gateway's | ${fixed(ours.throughput)} vs ${fixed(hive.throughput)} req/s (${fixed((ours.throughput / hive.throughput) * 100, 0)} %) | ${ours.throughput >= hive.throughput ? 'yes' : 'no'} |`,
      `| ${scenario.label}: our p99 no worse than Hive Gateway's | ${fixed(ours.p99, 0)} vs ${fixed(hive.p99, 0)} ms | ${ours.p99 <= hive.p99 ? 'yes' : 'no'} |`,
    );
  }
  const smallRun = find('small');
  const direct = row(smallRun, 'projects subgraph');
  const ours = row(smallRun, 'our gateway');
  const overhead = ours.p50 - direct.p50;
  lines.push(
    `| small query: gateway overhead over a direct call at p50 ≤ 2 ms | ${fixed(overhead, 2)} ms (${fixed(ours.p50, 2)} − ${fixed(direct.p50, 2)}); gateway CPU ${fixed(ours.cpuMsPerRequest, 2)} ms per request | ${overhead <= 2 ? 'yes' : 'no'} |`,
  );
  const oursRows = run.scenarios.flatMap((s) =>
    s.rows.filter((r) => r.target.startsWith('our gateway') && !r.target.includes('no heap limit')),
  );
  const peak = Math.max(...oursRows.map((r) => r.peakRss));
  lines.push(
    `| peak RSS per gateway worker under load ≤ 300 MB, as deployed (\`${run.deployedNodeOptions}\`) | ${fixed(peak, 0)} MB | ${peak <= 300 ? 'yes' : 'no'} |`,
  );
  const fanOut1 = find('fan-out, 1 worker');
  const unlimited = fanOut1?.rows.find((r) => r.target.includes('no heap limit'));
  if (unlimited) {
    const base = row(fanOut1, 'our gateway');
    lines.push(
      `| for comparison, without the heap limits | ${fixed(unlimited.peakRss, 0)} MB at ${fixed(unlimited.throughput)} req/s and ${fixed(unlimited.cpuMsPerRequest, 2)} ms CPU per request (with them ${fixed(base.peakRss, 0)} MB, ${fixed(base.throughput)} req/s, ${fixed(base.cpuMsPerRequest, 2)} ms) | - |`,
    );
  }
  return lines.join('\n');
}

function evidence(run) {
  const e = run.evidence;
  const profile = run.profile;
  const share = (rows) => rows.map((r) => `| ${r.what} | ${fixed(r.share * 100)} % |`).join('\n');
  return `## Tuning evidence

- **Memory.** Resident size right after start, before any load: our gateway ${fixed(e.rssAtStart.ours, 0)} MB,
  Hive Gateway ${fixed(e.rssAtStart.hive, 0)} MB (${e.hiveProcesses} process${e.hiveProcesses > 1 ? 'es' : ''} with \`--fork 1\`), a fixture subgraph ${fixed(e.rssAtStart.direct, 0)} MB.

- **Plan cache warm-up.** Our gateway plans the known operations at start (\`WARM_UP_OPERATIONS\`,
  a persisted query manifest; \`supergraph/known-operations.json\` by default) before it opens its
  port. Planning is a small part of a new process's first request: the fan-out query's plans (with
  and without its name) took ${fixed(e.firstRequest.planning.ms, 0)} ms to make in a process that had planned nothing before.
  The first fan-out request after a start took ${fixed(e.firstRequest.warmUp.without.medianMs, 0)} ms without the warm-up and ${fixed(e.firstRequest.warmUp.with.medianMs, 0)} ms
  with it (median of ${e.firstRequest.warmUp.with.values.length} starts each, alternating; each: ${e.firstRequest.warmUp.without.values.map((v) => fixed(v, 0)).join(', ')} and
  ${e.firstRequest.warmUp.with.values.map((v) => fixed(v, 0)).join(', ')} ms), the next ones ${fixed(e.firstRequest.ours.warmMs, 0)} ms at the median (Hive Gateway: ${fixed(e.firstRequest.hive.firstMs, 0)} ms
  first, then ${fixed(e.firstRequest.hive.warmMs, 0)} ms). The rest of the first request's cost is a cold process: code V8 has
  not compiled yet, new connections to the subgraphs. Plans are cached per operation for the
  life of the process, so the warm-up saves its part once per start and per worker.
- **Compression.** The fan-out answer is ${fixed(e.compression.bytes / 1024)} KiB, ${fixed(e.compression.gzipBytes / 1024)} KiB gzipped; gzip (level 6)
  costs ${fixed(e.compression.gzipMs, 2)} ms of CPU per answer. On loopback or a LAN that CPU buys nothing; it pays
  only for clients on slow links (at 10 Mbit/s the saving is about ${fixed(((e.compression.bytes - e.compression.gzipBytes) * 8) / 10_000, 0)} ms), so it belongs in
  the reverse proxy in front of the gateway, not in the gateway's event loop.
- **Field-level tracing.** A subgraph asked for an inline trace (\`apollo-federation-include-trace:
  ftv1\`) ${e.traces ? 'ADDS one: the subgraphs trace every field' : 'answers without one: the subgraphs have inline tracing off (kit/src/serve.ts)'}; the gateway asks
  for traces only with Apollo usage reporting, which is not configured.
- **Keep-alive.** The gateway calls subgraphs with Node's \`fetch\` (undici), which keeps
  connections alive per origin by default, so every subgraph gets its own pool of reused
  connections without an explicit agent.
- **Workers.** Compare the 1-worker and ${os.availableParallelism()}-worker fan-out tables above.

### Where our gateway spends its CPU on the fan-out query

\`node --cpu-prof\` of the gateway over ${run.profile.seconds} s of the fan-out load (\`node bench/profile.mjs\`);
self time, start-up included:

| package | share |
| --- | ---: |
${share(profile.packages.slice(0, 12))}

| function | share |
| --- | ---: |
${share(profile.functions.slice(0, 12))}
`;
}

// Deterministic, so asserted by tests/backend-calls rather than measured here; the
// numbers are what `BACKEND_CALLS_DEBUG=1 npx jest tests/backend-calls` printed.
const backendCalls = `## Backend calls per query

Counted by proxies in front of the real backends (a Bolt proxy counting RUN messages per
subgraph, HTTP proxies for GitLab, JupyterHub, Keycloak's admin API and our Keycloak
extension), through the real subgraphs; \`tests/backend-calls/\` asserts these numbers.

| query | backend | 1 item | 10 items | 100 items | grows with the list |
| --- | --- | ---: | ---: | ---: | --- |
| \`projects(first: n) { name visibility }\` | Neo4j (projects) | 1 | 1 | 1 | no |
| \`projects(first: n) { datasets { files } }\` | Neo4j (projects) | 2 | 2 | 2 | no |
| \`projects(first: n) { lineage(filePath) { nodes { run } } }\` | Neo4j (lineage) | 2 | 2 | 2 | no: one query per step of the longest walk, for all projects together, and one for the runs of all nodes (was 13 per project) |
| \`projects(first: n) { lineageStatus }\` | Neo4j (lineage) | 2 | 2 | 2 | no: who may read, then the events of the readable projects, each one query for all projects (was a transaction of two queries per project: 2, 20, 200) |
| \`projects(first: n) { workflowGraph(first: m) }\` | Neo4j (lineage) | 3 | 3 | 3 | no: who may read, the pages with their totals, and the runs, each one query for all projects (was four per project: 4, 40, 400) |
| \`project { branches(first: n) }\` | GitLab | 1 | 1 | 1 | no |
| \`projects(first: n) { webUrl defaultBranch starCount forksCount statistics }\` | GitLab | 1 | 1 | 2 | no: one GraphQL \`projects(fullPaths:)\` call per 50 projects, shared by all their facts (was one REST call per project: 1, 10, 100) |
| \`projects(first: n) { members(first: m) }\` | GitLab | 1 | 1 | 2 | no: one GraphQL \`projects(fullPaths:) { projectMembers }\` call per 50 projects for the first pages (was one REST \`members/all\` call per project: 1, 10, 100); pages after a cursor, and the members of a project with more than 100, stay REST (only a whole list can be put in REST's order) and count as the reads below |
| \`projects(first: n) { branches }\`, \`{ commits }\`, \`{ tree }\`, \`{ file(path) }\` | GitLab | 1 | 1 | 1 | no: read for one project of a list (\`GITLAB_REPOSITORIES_PER_REQUEST\`), the others get \`LIMIT_EXCEEDED\` (was one REST call per project: 1, 10, 100), see below |
| \`Project.sessions\` for n projects (one entity fetch) | JupyterHub | 1 | 1 | 1 | no (0 for anonymous callers) |
| \`users(first: n)\` | Keycloak admin API | 2 | 2 | 2 | no |
| \`User\` references by n distinct usernames | Keycloak (user-lookup extension) | 1 | 1 | 1 | no: one call of our extension per 500 ids and usernames (was one admin API call per distinct user: 1, 10, 100, as still without the extension) |

The lineage subgraph's N+1 is gone: a page of 50 projects with lineage made 650 Neo4j
queries before and took longer than the gateway's 10 s subgraph timeout under load; now the
walks of all projects of a request share one query per step, and their lineage statuses and
workflow graphs are read together as well. The GitLab facts and the first
pages of members of a list go through GitLab's GraphQL API, which looks up to 50 projects at
once where REST takes one per call; the members are the same, in the same order, as REST's
(\`tests/gitlab/members-paths.test.ts\`). Branches, commits, folders and files have no
such call: GitLab's REST API reads them for one project per call, and its GraphQL API lists no
commits, gives a file without the commits REST names (\`commit_id\`, \`last_commit_id\`) or its
bytes in Base64, has no branch with its commit or \`protected\`, and prices \`branchNames\` at 170
of the 250 points an authenticated query may cost (\`app/graphql/types/repository_type.rb\`,
\`app/graphql/gitlab_schema.rb\`), so two projects' branch names do not fit in one call. As
GitLab's own GraphQL API caps how often a request may resolve its fields that read Git
(\`Gitlab::Graphql::Limit::FieldCallCount\`, ten commits' diffs for instance), the gitlab
subgraph reads them for one project per request it gets (the gateway sends one per list of
projects and one per \`project(path:)\` field); for each project more they are null with
\`LIMIT_EXCEEDED\` and a message that says to ask with \`project(path:)\`, and the rest of the
answer stands. The same read asked twice in a request (a project that appears again in a list
of sessions, an alias) is one call. A project page asks them for its one project; operators may allow more with
\`GITLAB_REPOSITORIES_PER_REQUEST\`, at one GitLab call per project more. The fan-out benchmark
above asks branches for 50 projects of its in-memory subgraphs, which answer them all: it
measures federation, not GitLab. Keycloak's admin API looks users up one at a time, so the stack installs our Keycloak extension (\`keycloak/user-lookup\`), which looks
up to 500 users by id and username in one call
with the admin API's own authorization; a Keycloak without it costs one call per distinct user
again (docs/operations.md, section 3). A session list only ever holds the caller's own
sessions, so its owners are one distinct user.
`;

export function writeReport(file, run) {
  const m = machine();
  const body = `# Benchmarks

Written by \`node bench/run.mjs\` (see \`bench/README.md\`); do not edit by hand.
Run of ${run.startedAt.toISOString()}.

## Machine

| | |
| --- | --- |
| cores (\`nproc\`) | ${m.cores} |
| CPU | ${m.cpu} |
| memory (\`free -h\`) | ${m.memory} |
| kernel | ${m.kernel} |
| Node.js | ${process.version} |
| load average (1, 5, 15 min) before / after | ${loads(run.loadBefore)} / ${loads(run.loadAfter)} |
| @apollo/gateway, @apollo/server, @apollo/subgraph | ${version('@apollo/gateway')}, ${version('@apollo/server')}, ${version('@apollo/subgraph')} |
| graphql | ${version('graphql')} |
| @graphql-hive/gateway | ${version('@graphql-hive/gateway', path.join(repoRoot, 'bench'))} |

## Method

- **Subgraphs**: the five subgraphs' real \`schema.graphql\` files, built with \`buildSubgraphSchema\`
  and served by the same \`serveGraphQL\` (Apollo Server on Express) as the real subgraphs, one
  process each, with resolvers over generated in-memory data (\`bench/fixtures/\`): no Neo4j,
  Keycloak, JupyterHub or GitLab, so only federation is measured.
- **Supergraph**: composed from those schema files with \`@apollo/composition\` (as \`npm run
  compose\` does) and served by both gateways from the same file.
- **Gateways**: ours is \`supergraph/dist/main.js\` as deployed (\`NODE_ENV=production\`,
  \`LOG_LEVEL=warn\`, \`NODE_OPTIONS=${run.deployedNodeOptions}\` from the Helm chart's
  \`gateway.nodeOptions\`, \`SUBGRAPH_<NAME>_URL\` pointing at the fixtures; "no heap limit"
  leaves \`NODE_OPTIONS\` empty); with several workers,
  \`bench/gateway-cluster.mjs\` runs \`startGateway\` in \`node:cluster\` workers sharing the
  port. Hive Gateway is \`hive-gateway supergraph <file> --fork <workers>\`, default options.
- **Load**: a closed-loop client in Node (\`bench/load.mjs\`): a fixed number of requests in
  flight over keep-alive connections, ${run.seconds} s per round. Every answer is read and
  checked: complete data and no \`errors\`, else it counts as invalid (the \`invalid\` column
  counts those plus transport failures). Before timing, both gateways must give the same answer.
- **Rounds**: ${run.rounds} rounds per target after a 3 s warm-up, interleaved (A B, then B A, ...)
  so that drift of the machine hits every target alike; the table shows the median round.
  Peak RSS is the largest resident size sampled every 200 ms over all rounds (the largest
  worker's when there are several) and the process's own high-water mark (VmHWM) since start.
  Gateway CPU ms/req is the user+system CPU time of the gateway's processes over the round
  divided by the requests answered: unlike latency, it hardly depends on what else runs on
  the machine.
- Everything (client, gateway, five subgraphs) shares the same ${m.cores} cores, as in The Guild's
  federation benchmark on one machine; absolute numbers are only comparable within one run.

## Fan-out query

\`\`\`graphql
${run.fanOut.query}
\`\`\`

"Different pages" sends the same operation with \`projects(first: 50, after: $after)\` over 140
different pages in turn, so that no two requests in flight are alike. With the identical
query, Hive Gateway merges identical subgraph requests that are in flight at the same time
(its subgraphs then do a fraction of the work: see "subgraphs CPU ms/req"); @apollo/gateway
sends every request on. Real traffic carries different callers' tokens and arguments, so the
"different pages" rows are the fair comparison of federation work.

## Targets

${targets(run)}

## Results

${run.scenarios.map(table).join('\n')}
${evidence(run)}
${backendCalls}`;

  const kept = keptSections(file);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${body.trimEnd()}\n${kept}`);
}
