// The project page on the real stack: `node bench/real-stack.mjs` (after `npm run build`
// and `node stack/dist/cli.js provision`). Starts the whole local stack with the demo data
// (Neo4j, Keycloak, JupyterHub, the GitLab stand-in, the five subgraphs, the gateway), signs
// the demo user in, and compares, in interleaved rounds, the page's one federated query
// through the gateway with a client that asks the four subgraphs itself, in parallel, for the
// same facts: what federation costs on top of the backends' own work.
//
// | env | default | meaning |
// | BENCH_SECONDS | 10 | length of one round |
// | BENCH_ROUNDS | 5 | rounds per target and scenario (the median is reported) |
// | BENCH_OUT | docs/benchmarks.md | where the section goes |
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { post, runLoop } from './load.mjs';
import { machine } from './report.mjs';
import { repoRoot, rootRequire } from './root-require.mjs';
import { writeSection } from './sections.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const out = path.resolve(repoRoot, process.env.BENCH_OUT ?? 'docs/benchmarks.md');
const say = (message) => process.stderr.write(`bench: ${message}\n`);

const project = 'ada.analyst/tutorial-zhbikes';
const file = 'data/preprocessed/zhbikes.parquet';

const catalogue = 'path name description keywords visibility created datasets { name }';
const gitlab = `webUrl defaultBranch
  branches(first: 10) { totalCount edges { node { name commit { shortId title } } } }`;
const sessions = 'sessions { name state url }';
const lineage = `lineage(filePath: "${file}") { nodes { id label type } edges { source target } }`;

const pageQuery = `query ProjectPage($path: String!) {
  project(path: $path) { ${catalogue} ${gitlab} ${sessions} ${lineage} }
}`;
const entity = (fields) => `query ($r: [_Any!]!) { _entities(representations: $r) {
  ... on Project { ${fields} } } }`;

/** A page is complete when every part is there and nothing failed. */
function completePage(project) {
  return (
    project?.name &&
    project.defaultBranch === 'master' &&
    project.branches?.edges?.length > 0 &&
    Array.isArray(project.sessions) &&
    project.lineage?.nodes?.length > 2
  );
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function signIn(stack) {
  const { passwordGrant } = rootRequire('@renku-supergraph/stack');
  const token = await passwordGrant({
    issuer: stack.keycloak.issuer,
    username: 'ada.analyst',
    password: 'ada-demo-password',
  });
  const userinfo = await fetch(`${stack.keycloak.issuer}/protocol/openid-connect/userinfo`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const { gitlab_token: gitlabToken } = await userinfo.json();
  return { token, gitlabToken };
}

/** The federated query, one request. */
function throughGateway(stack, agent, credentials) {
  const payload = Buffer.from(JSON.stringify({ query: pageQuery, variables: { path: project } }));
  return async () => {
    const { status, text } = await post(agent, stack.gatewayUrl, payload, {
      authorization: `Bearer ${credentials.token}`,
    });
    const body = parse(text);
    return status === 200 && !body?.errors && completePage(body?.data?.project);
  };
}

/** The same facts from the four subgraphs directly, four requests in parallel. */
function direct(stack, agent, credentials) {
  const url = (name) => `http://127.0.0.1:${stack.ports[name]}/graphql`;
  const representations = { r: [{ __typename: 'Project', path: project }] };
  const calls = [
    [
      'projects',
      `query ($path: String!) { project(path: $path) { ${catalogue} } }`,
      { path: project },
    ],
    ['gitlab', entity(gitlab), representations],
    ['sessions', entity(sessions), representations],
    ['lineage', entity(lineage), representations],
  ].map(([name, query, variables]) => ({
    url: url(name),
    payload: Buffer.from(JSON.stringify({ query, variables })),
  }));
  return async () => {
    const headers = {
      authorization: `Bearer ${credentials.token}`,
      'x-gitlab-token': credentials.gitlabToken,
    };
    const answers = await Promise.all(
      calls.map(({ url, payload }) => post(agent, url, payload, headers)),
    );
    const bodies = answers.map(({ status, text }) => (status === 200 ? parse(text) : undefined));
    if (bodies.some((body) => !body || body.errors)) return false;
    const [page, ...parts] = bodies;
    return completePage(
      Object.assign({}, page.data.project, ...parts.map((body) => body.data._entities[0])),
    );
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main() {
  const { startStack } = rootRequire('@renku-supergraph/stack');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'renku-bench-real-'));
  say('starting the local stack with the demo data (about 2 minutes)');
  const stack = await startStack({ ports: 'free', dataDir });
  const results = [];
  try {
    const targets = {
      'gateway, one federated query': throughGateway,
      'client asking the four subgraphs itself, in parallel': direct,
    };
    for (const concurrency of [1, 8]) {
      const rows = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
      for (let round = 0; round < rounds; round += 1) {
        // Keycloak's access tokens live 5 minutes: a fresh one per round.
        const credentials = await signIn(stack);
        const order = round % 2 ? Object.keys(targets).reverse() : Object.keys(targets);
        for (const name of order) {
          const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency * 4 });
          const once = targets[name](stack, agent, credentials);
          if (round === 0) await runLoop({ concurrency, seconds: 2, once });
          const result = await runLoop({ concurrency, seconds, once });
          agent.destroy();
          rows[name].push(result);
          say(
            `${concurrency} in flight, round ${round + 1}, ${name}: ${result.throughput.toFixed(1)} req/s, p50 ${result.p50.toFixed(1)} ms, invalid ${result.invalid + result.failed}`,
          );
        }
      }
      results.push({ concurrency, rows });
    }
  } finally {
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  writeSection(out, '## Project page on the real stack', report(results));
  say(`wrote ${path.relative(repoRoot, out)}`);
}

function report(results) {
  const m = machine();
  const lines = [
    `Written by \`node bench/real-stack.mjs\` on ${new Date().toISOString()} (${m.cores} cores,`,
    `${m.cpu}, Node.js ${process.version}); ${rounds} interleaved rounds of ${seconds} s per`,
    'target, the median round shown. The whole local stack runs on the same machine as the',
    'client: real Neo4j, Keycloak, JupyterHub, the GitLab stand-in, the subgraphs and the',
    'gateway, with the demo data, signed in as the demo user. A request counts only when its',
    'answer holds every part (catalogue, GitLab branches, sessions, lineage) without errors.',
    '',
    '```graphql',
    pageQuery,
    '```',
    '',
    'The peer asks the projects subgraph for the catalogue facts and the gitlab, sessions and',
    'lineage subgraphs for their `Project` fields (`_entities`), all four in parallel, with the',
    "caller's access token and GitLab token: the work federation saves a client, without the",
    "gateway's token check, query planning and merging. The gateway also has to wait for the",
    'projects subgraph to resolve `project(path)` before it can ask the other three for that',
    "project's fields: two hops in sequence where the peer, which already knows the path, makes",
    'one. Most of the difference at one request in flight is that hop.',
    '',
    '| in flight | target | req/s | p50 ms | p90 ms | p99 ms | requests | invalid |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const ratios = [];
  for (const { concurrency, rows } of results) {
    const medians = {};
    for (const [name, runs] of Object.entries(rows)) {
      const pick = (key) => median(runs.map((run) => run[key]));
      medians[name] = { throughput: pick('throughput'), p50: pick('p50') };
      const bad = runs.reduce((sum, run) => sum + run.invalid + run.failed, 0);
      const count = runs.reduce((sum, run) => sum + run.requests, 0);
      lines.push(
        `| ${concurrency} | ${name} | ${pick('throughput').toFixed(1)} | ${pick('p50').toFixed(2)} | ${pick('p90').toFixed(2)} | ${pick('p99').toFixed(2)} | ${count} | ${bad} |`,
      );
    }
    const [gateway, peer] = Object.values(medians);
    ratios.push(
      `- ${concurrency} in flight: the gateway answers at ${((gateway.throughput / peer.throughput) * 100).toFixed(0)} % of the direct client's throughput; its p50 is ${(gateway.p50 - peer.p50).toFixed(2)} ms above.`,
    );
  }
  return [...lines, '', ...ratios].join('\n');
}

main().catch((error) => {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  process.exit(1);
});
