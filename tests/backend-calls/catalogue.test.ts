import neo4j, { type Driver } from 'neo4j-driver';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createLogger, type Running } from '../../kit/src';
import { fullPathsPerCall, readGitLabConfig, startGitLabSubgraph } from '../../mesh/src';
import { gitLabSeedFile, startGitLabStandin } from '../../stack/src/services/gitlab';
import { provisionNeo4j, startNeo4j } from '../../stack/src/services/neo4j';
import { readGatewayConfig, startGateway } from '../../supergraph/src';
import { composeSupergraph, readRoverConfig } from '../../supergraph/src/compose';
import { applyGraphSchema } from '../../subgraphs/lineage/src/graph-schema';
import { readLineageConfig, startLineageSubgraph } from '../../subgraphs/lineage/src/index';
import { ingestDocument } from '../../subgraphs/lineage/src/ingest/ingest';
import { readProjectsConfig, startProjectsSubgraph } from '../../subgraphs/projects/src';
import { countBoltQueries, countHttpRequests, type CountingProxy } from './counting-proxies';

// Issue #7: backend calls per query must not grow with the length of a list.
// Neo4j, the subgraphs and the gateway are real; proxies in front of Neo4j (one
// per subgraph) and GitLab count what reaches them.

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

const repoRoot = path.resolve(__dirname, '../..');
const log = createLogger('backend-calls', 'silent');
const sizes = [1, 10, 100];
const projectPaths = Array.from(
  { length: 100 },
  (_, i) => `ada.analyst/calls-${String(i).padStart(3, '0')}`,
);
const tutorialFile = 'data/preprocessed/zhbikes.parquet';

let dataDir: string;
let database: Awaited<ReturnType<typeof startNeo4j>>;
let seeder: Driver;
let projectsNeo4j: CountingProxy;
let lineageNeo4j: CountingProxy;
let gitlabCalls: Awaited<ReturnType<typeof countHttpRequests>>;
const running: { stop(): Promise<void> }[] = [];
let gateway: Running;

beforeAll(async () => {
  await provisionNeo4j();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'backend-calls-'));
  database = await startNeo4j({ dataDir, logFile: path.join(dataDir, 'neo4j.log') });

  // Every project gets the demo's real renku metadata, so each has lineage.
  seeder = neo4j.driver(database.url);
  await applyGraphSchema(seeder, log);
  const tutorial = JSON.parse(
    fs.readFileSync(path.join(repoRoot, 'demo/tutorial-zhbikes/source.ld.json'), 'utf8'),
  ) as unknown;
  for (const projectPath of projectPaths) {
    await ingestDocument(seeder, { projectPath, visibility: 'public' }, tutorial);
  }

  const gitlab = await startGitLabStandin({
    seedFile: writeGitLabSeed(dataDir),
    log: createLogger('gitlab-standin', 'silent'),
  });
  running.push(gitlab);

  projectsNeo4j = await countBoltQueries(database.url);
  lineageNeo4j = await countBoltQueries(database.url);
  gitlabCalls = await countHttpRequests(gitlab.url);
  running.push(projectsNeo4j, lineageNeo4j, gitlabCalls);

  const projects = await startProjectsSubgraph(
    readProjectsConfig({ PORT: '0', NEO4J_URI: projectsNeo4j.url }),
    log,
  );
  running.push(projects);
  // The ingestion worker polls Neo4j on its own clock: off, so only queries of requests count.
  const lineage = await startLineageSubgraph(
    readLineageConfig({ PORT: '0', NEO4J_URI: lineageNeo4j.url, LINEAGE_WORKER: 'false' }),
    log,
  );
  running.push(lineage);
  const gitlabSubgraph = await startGitLabSubgraph(
    readGitLabConfig({ PORT: '0', GITLAB_URL: gitlabCalls.url }),
    log,
  );
  running.push(gitlabSubgraph);

  const supergraphFile = path.join(dataDir, 'supergraph.graphql');
  fs.writeFileSync(
    supergraphFile,
    composeSupergraph(readRoverConfig(path.join(repoRoot, 'rover.yaml'))),
  );
  gateway = await startGateway(
    readGatewayConfig({
      PORT: '0',
      SUPERGRAPH_FILE: supergraphFile,
      SUBGRAPH_PROJECTS_URL: projects.url,
      SUBGRAPH_LINEAGE_URL: lineage.url,
      SUBGRAPH_GITLAB_URL: gitlabSubgraph.url,
      // The lineage of 100 projects takes a while on a busy machine; counts need complete answers.
      SUBGRAPH_TIMEOUT_MS: '120000',
    }),
    log,
  );
});

afterAll(async () => {
  await gateway?.stop();
  for (const service of running.reverse()) await service.stop();
  await seeder?.close();
  await database?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The demo project's GitLab facts under each of our paths; the first has 120 branches. */
function writeGitLabSeed(dir: string): string {
  const seed = JSON.parse(fs.readFileSync(gitLabSeedFile, 'utf8'));
  const demo = seed.projects.find((p: { path: string }) => p.path === 'tutorial-zhbikes');
  const head = demo.branches[0].commit;
  seed.projects.push(
    ...projectPaths.map((projectPath, i) => ({
      ...demo,
      id: 1000 + i,
      path: projectPath.split('/')[1],
      name: projectPath.split('/')[1],
      branches:
        i === 0
          ? [
              ...demo.branches,
              ...Array.from({ length: 120 }, (_, b) => ({
                name: `topic-${String(b).padStart(3, '0')}`,
                commit: head,
              })),
            ]
          : demo.branches,
    })),
  );
  const file = path.join(dir, 'gitlab-seed.json');
  fs.writeFileSync(file, JSON.stringify(seed));
  return file;
}

async function ask(query: string, variables: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Answer;
}

/** The calls one query made, for each list size; fails on an incomplete answer. */
async function callsFor(
  proxy: CountingProxy,
  query: string,
  check: (data: Record<string, any>, n: number) => void,
): Promise<number[]> {
  const counts: number[] = [];
  for (const n of sizes) {
    proxy.reset();
    const answer = await ask(query, { n });
    expect(answer.errors).toBeUndefined();
    check(answer.data!, n);
    counts.push(proxy.count());
  }
  // BACKEND_CALLS_DEBUG=1 prints the counts, for docs/benchmarks.md.
  if (process.env.BACKEND_CALLS_DEBUG) process.stderr.write(`${query.slice(0, 80)} -> ${counts}\n`);
  return counts;
}

const projectList = `query ($n: Int!) { projects(first: $n) { edges { node { path name visibility } } } }`;

describe('backend calls per query', () => {
  it('asks Neo4j the same number of queries for 1, 10 and 100 projects', async () => {
    const counts = await callsFor(projectsNeo4j, projectList, (data, n) =>
      expect(data.projects.edges).toHaveLength(n),
    );

    expect(counts[0]).toBeGreaterThan(0);
    expect(counts).toEqual([counts[0], counts[0], counts[0]]);
  });

  it('asks Neo4j the same number of queries for the datasets of 1, 10 and 100 projects', async () => {
    const counts = await callsFor(
      projectsNeo4j,
      `query ($n: Int!) { projects(first: $n) { edges { node { path datasets { name files { location } } } } } }`,
      (data, n) => {
        expect(data.projects.edges).toHaveLength(n);
        for (const { node } of data.projects.edges)
          expect(node.datasets).toEqual(expect.any(Array));
      },
    );

    expect(counts).toEqual([counts[0], counts[0], counts[0]]);
  });

  // The walks of all projects of a list go together, one query per step, and the runs of all
  // their nodes one query (#7; the walks alone were 13 queries per project on the demo
  // metadata: 13, 130, 1300).
  it('asks Neo4j the same number of lineage queries for 1, 10 and 100 projects', async () => {
    const counts = await callsFor(
      lineageNeo4j,
      `query ($n: Int!) {
        projects(first: $n) {
          edges { node { path lineage(filePath: "${tutorialFile}") {
            nodes { id type commit run { command } }
            edges { source target }
          } } }
        }
      }`,
      (data, n) => {
        expect(data.projects.edges).toHaveLength(n);
        for (const { node } of data.projects.edges)
          expect(node.lineage.nodes.length).toBeGreaterThan(2);
      },
    );

    expect(counts[0]).toBeGreaterThan(0);
    expect(counts).toEqual([counts[0], counts[0], counts[0]]);
  });

  // A list's lineage statuses are two queries, its workflow graphs three (#7; they were one
  // transaction of two and of four queries per project).
  it.each([
    ['lineageStatus', 'lineageStatus { activated progress { done total percentage } }'],
    [
      'workflowGraph',
      'workflowGraph(first: 1) { totalCount runs { id command } pageInfo { hasNextPage } }',
    ],
  ])(
    'asks Neo4j the same number of queries for the %s of 1, 10 and 100 projects',
    async (name, field) => {
      const counts = await callsFor(
        lineageNeo4j,
        `query ($n: Int!) { projects(first: $n) { edges { node { path ${field} } } } }`,
        (data, n) => {
          expect(data.projects.edges).toHaveLength(n);
          for (const { node } of data.projects.edges) expect(node[name]).not.toBeNull();
          if (name === 'workflowGraph') {
            for (const { node } of data.projects.edges) {
              // The demo's metadata has two runs.
              expect(node.workflowGraph.runs).toHaveLength(1);
              expect(node.workflowGraph).toMatchObject({
                totalCount: 2,
                pageInfo: { hasNextPage: true },
              });
            }
          }
        },
      );

      expect(counts[0]).toBeGreaterThan(0);
      expect(counts).toEqual([counts[0], counts[0], counts[0]]);
    },
  );

  it('asks GitLab the same number of times for 1, 10 and 100 branches of a project', async () => {
    const counts = await callsFor(
      gitlabCalls,
      `query ($n: Int!) {
        project(path: "${projectPaths[0]}") { branches(first: $n) { edges { node { name commit { shortId title } } } } }
      }`,
      (data, n) => expect(data.project.branches.edges).toHaveLength(n),
    );

    expect(counts[0]).toBeGreaterThan(0);
    expect(counts).toEqual([counts[0], counts[0], counts[0]]);
  });

  // GitLab's REST API has one project per call; its GraphQL `projects(fullPaths:)` takes up to
  // 50, so the facts of a list cost one call per 50 projects (#7; REST made it 1, 10, 100).
  it('asks GitLab once per 50 projects for the facts of 1, 10 and 100 projects', async () => {
    const counts = await callsFor(
      gitlabCalls,
      `query ($n: Int!) {
        projects(first: $n) {
          edges { node {
            path webUrl defaultBranch starCount forksCount statistics { commitCount } } }
        }
      }`,
      (data, n) => {
        expect(data.projects.edges).toHaveLength(n);
        for (const { node } of data.projects.edges) {
          expect(node).toMatchObject({
            webUrl: expect.stringMatching(new RegExp(`/${node.path}$`)),
            defaultBranch: 'master',
            starCount: 2,
            forksCount: 1,
            // GitLab shows statistics to reporters and up; this caller is anonymous.
            statistics: null,
          });
        }
      },
    );

    expect(counts).toEqual(sizes.map((n) => Math.ceil(n / fullPathsPerCall)));
    expect(counts).toEqual([1, 1, 2]);
    expect(new Set(gitlabCalls.requests())).toEqual(new Set(['POST /api/graphql']));
  });

  // GitLab's GraphQL `Project.projectMembers` lists the members of every project of a
  // `projects(fullPaths:)` call, so the first pages of a list cost one call per 50 projects
  // (#7; REST's `members/all` made it 1, 10, 100).
  it('asks GitLab once per 50 projects for the members of 1, 10 and 100 projects', async () => {
    const counts = await callsFor(
      gitlabCalls,
      `query ($n: Int!) {
        projects(first: $n) {
          edges { node { path members(first: 5) {
            edges { cursor node {
              username name state accessLevel role webUrl avatarUrl expiresAt } }
            pageInfo { hasNextPage endCursor }
            totalCount
          } } }
        }
      }`,
      (data, n) => {
        expect(data.projects.edges).toHaveLength(n);
        for (const { node } of data.projects.edges) {
          // What REST's `members/all` gives for the demo project, in its order.
          expect(node.members.edges.map((edge: any) => edge.node)).toEqual([
            expect.objectContaining({ username: 'ada.analyst', accessLevel: 50, role: 'OWNER' }),
            expect.objectContaining({ username: 'ben.bayes', accessLevel: 30, role: 'DEVELOPER' }),
          ]);
          expect(node.members.totalCount).toBe(2);
          expect(node.members.pageInfo.hasNextPage).toBe(false);
        }
      },
    );

    expect(counts).toEqual(sizes.map((n) => Math.ceil(n / fullPathsPerCall)));
    expect(counts).toEqual([1, 1, 2]);
    expect(new Set(gitlabCalls.requests())).toEqual(new Set(['POST /api/graphql']));
  });

  it('answers the first page of members from GraphQL exactly as the REST pages that follow', async () => {
    const query = `query ($path: String!, $first: Int, $after: String) {
      project(path: $path) { members(first: $first, after: $after) {
        edges { cursor node { username name state accessLevel role webUrl avatarUrl expiresAt } }
        pageInfo { hasNextPage endCursor }
        totalCount
      } }
    }`;
    // Page by page with `first: 1`: the first page from GraphQL, the second from REST.
    gitlabCalls.reset();
    const first = await ask(query, { path: projectPaths[0], first: 1 });
    const second = await ask(query, {
      path: projectPaths[0],
      first: 1,
      after: first.data!.project.members.pageInfo.endCursor,
    });
    expect(gitlabCalls.requests()).toEqual([
      'POST /api/graphql',
      expect.stringMatching(/^GET \/api\/v4\/projects\/[^/]+\/members\/all\?/),
    ]);
    // One page of two from GraphQL is what two pages of one from REST give together.
    const both = await ask(query, { path: projectPaths[0], first: 2 });
    expect(both.errors).toBeUndefined();
    expect(both.data!.project.members.edges).toEqual([
      ...first.data!.project.members.edges,
      ...second.data!.project.members.edges,
    ]);
    expect(first.data!.project.members).toMatchObject({
      totalCount: 2,
      pageInfo: { hasNextPage: true },
    });
    expect(second.data!.project.members).toMatchObject({
      totalCount: 2,
      pageInfo: { hasNextPage: false },
    });
  });

  // GitLab reads branches, commits, the tree and files for one project per call, so a request
  // reads them for one project (GITLAB_REPOSITORIES_PER_REQUEST); the others of a list get
  // LIMIT_EXCEEDED instead of one GitLab call each (#7; they were 1, 10, 100 calls).
  it.each([
    ['branches', 'branches(first: 5) { edges { node { name commit { shortId } } } }'],
    ['commits', 'commits(first: 5) { edges { node { shortId } } }'],
    ['tree', 'tree(first: 5) { edges { node { path } } }'],
    ['file', 'file(path: "README.md") { size }'],
  ])('asks GitLab once for the %s of 1, 10 and 100 projects', async (name, field) => {
    const counts: number[] = [];
    for (const n of sizes) {
      gitlabCalls.reset();
      const answer = await ask(
        `query ($n: Int!) { projects(first: $n) { edges { node { path ${field} } } } }`,
        { n },
      );
      counts.push(gitlabCalls.count());

      const nodes = answer.data!.projects.edges.map((edge: any) => edge.node);
      expect(nodes).toHaveLength(n);
      expect(nodes[0][name]).not.toBeNull();
      expect(nodes.slice(1).map((node: any) => node[name])).toEqual(Array(n - 1).fill(null));
      expect(answer.errors ?? []).toHaveLength(n - 1);
      for (const [i, error] of (answer.errors ?? []).entries()) {
        expect(error.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 1 });
        expect((error as any).path).toEqual(['projects', 'edges', i + 1, 'node', name]);
      }
    }
    expect(counts).toEqual([1, 1, 1]);
  });
});
