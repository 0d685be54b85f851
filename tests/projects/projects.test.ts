import neo4j, { ManagedTransaction, type Driver } from 'neo4j-driver';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createLogger, type Running } from '../../kit/src';
import { provisionNeo4j, startNeo4j } from '../../stack/src/services/neo4j';
import { readProjectsConfig, startProjectsSubgraph } from '../../subgraphs/projects/src';
import { startIssuer, type Issuer } from './issuer';

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

const deepPath = 'renku/data-science/team/zhbikes';
const privatePath = 'ada.analyst/secret-analysis';
const internalPath = 'sdsc/staff-only';
// 25 public projects in all: the paging tests walk them.
const cataloguePaths = Array.from(
  { length: 23 },
  (_, i) => `catalogue/project-${String(i + 1).padStart(2, '0')}`,
);
const publicPaths = [deepPath, 'ada.analyst/tutorial-zhbikes', ...cataloguePaths];

describe('projects subgraph on a real Neo4j', () => {
  let dataDir: string;
  let graph: Awaited<ReturnType<typeof startNeo4j>>;
  let seeder: Driver;
  let subgraph: Running;
  let issuer: Issuer;

  beforeAll(async () => {
    await provisionNeo4j();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'projects-subgraph-'));
    graph = await startNeo4j({ dataDir, logFile: path.join(dataDir, 'neo4j.log') });

    seeder = neo4j.driver(graph.url);
    await seed(seeder);

    issuer = await startIssuer('renku-supergraph');
    const config = readProjectsConfig({
      PORT: '0',
      NEO4J_URI: graph.url,
      KEYCLOAK_ISSUER: issuer.url,
      // The outage test should not wait out the production retry budget.
      NEO4J_RETRY_TIMEOUT_MS: '500',
    });
    subgraph = await startProjectsSubgraph(config, createLogger('projects', 'silent'));
  });

  afterAll(async () => {
    await subgraph?.stop();
    await issuer?.stop();
    await seeder?.close();
    await graph?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function ask(
    query: string,
    variables: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const response = await fetch(subgraph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as Answer;
  }

  it('resolves a project whose namespace has three segments', async () => {
    const answer = await ask(
      `query ($path: String!) {
        project(path: $path) {
          path name slug namespace description visibility keywords created modified
        }
      }`,
      { path: deepPath },
    );

    expect(answer.errors).toBeUndefined();
    expect(answer.data?.project).toEqual({
      path: deepPath,
      name: 'ZH Bikes',
      slug: 'zhbikes',
      namespace: 'renku/data-science/team',
      description: 'Bicycle counts in Zurich',
      visibility: 'PUBLIC',
      keywords: ['bikes', 'zurich'],
      created: '2021-03-04T09:15:00.000Z',
      modified: '2022-01-02T03:04:05.000Z',
    });
  });

  it('returns null for a path nobody created', async () => {
    const answer = await ask(`{ project(path: "nobody/nothing") { path } }`);

    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ project: null });
  });

  it('answers representations in their own order with null for a missing one, in one query', async () => {
    const order = [cataloguePaths[7], 'nobody/nothing', deepPath, privatePath, cataloguePaths[0]];
    const runs = jest.spyOn(ManagedTransaction.prototype, 'run');

    let answer: Answer | undefined;
    try {
      answer = await ask(
        `query ($representations: [_Any!]!) {
          _entities(representations: $representations) { ... on Project { path slug } }
        }`,
        { representations: order.map((p) => ({ __typename: 'Project', path: p })) },
      );
      expect(runs).toHaveBeenCalledTimes(1);
    } finally {
      runs.mockRestore();
    }

    expect(answer?.errors).toBeUndefined();
    expect(answer?.data?._entities).toEqual([
      { path: cataloguePaths[7], slug: 'project-08' },
      null,
      { path: deepPath, slug: 'zhbikes' },
      null,
      { path: cataloguePaths[0], slug: 'project-01' },
    ]);
  });

  it('walks all visible projects page by page, in path order', async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let after: string | null = null;

    for (;;) {
      const answer = await ask(
        `query ($after: String) {
          projects(first: 10, after: $after) {
            totalCount
            edges { cursor node { path } }
            pageInfo { hasNextPage endCursor }
          }
        }`,
        { after },
      );
      expect(answer.errors).toBeUndefined();

      const page = answer.data!.projects;
      expect(page.totalCount).toBe(25);
      seen.push(...page.edges.map((e: { node: { path: string } }) => e.node.path));
      sizes.push(page.edges.length);
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1).cursor);

      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }

    expect(sizes).toEqual([10, 10, 5]);
    expect(seen).toEqual([...publicPaths].sort());
  });

  it('hides internal and private projects from anonymous callers', async () => {
    const answer = await ask(
      `query ($representations: [_Any!]!) {
        private: project(path: "${privatePath}") { path }
        internal: project(path: "${internalPath}") { path }
        _entities(representations: $representations) { ... on Project { path } }
        projects(first: 100) { totalCount edges { node { path visibility } } }
      }`,
      { representations: [{ __typename: 'Project', path: privatePath }] },
    );

    expect(answer.errors).toBeUndefined();
    expect(answer.data?.private).toBeNull();
    expect(answer.data?.internal).toBeNull();
    expect(answer.data?._entities).toEqual([null]);
    expect(answer.data?.projects.totalCount).toBe(25);
    const listed = answer.data?.projects.edges.map((e: { node: { path: string } }) => e.node);
    expect(listed).toHaveLength(25);
    expect(listed.every((node: { visibility: string }) => node.visibility === 'PUBLIC')).toBe(true);
  });

  it.each([
    ['first: 0', '{ projects(first: 0) { totalCount } }'],
    ['first: 101', '{ projects(first: 101) { totalCount } }'],
    ['a made-up cursor', '{ projects(after: "bm90LWEtY3Vyc29y") { totalCount } }'],
    ['a path without namespace', '{ project(path: "lonely") { path } }'],
  ])('refuses %s with BAD_USER_INPUT', async (_label, query) => {
    const answer = await ask(query);

    expect(answer.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      subgraph: 'projects',
    });
  });

  // Stops Neo4j: keep it last.
  it('reports BACKEND_UNAVAILABLE while Neo4j is down and keeps serving', async () => {
    await graph.stop();

    const answer = await ask(`{ projects { totalCount } }`);
    expect(answer.data).toBeNull();
    expect(answer.errors?.[0].extensions).toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      backend: 'neo4j',
      subgraph: 'projects',
    });
    expect(answer.errors?.[0].message).not.toMatch(/bolt|127\.0\.0\.1|ServiceUnavailable/);

    // Signed in, the same typed error on the field, though the caller's memberships are read
    // before any field (issue #8: the whole request failed, so the gateway named no backend).
    const signedIn = await ask(
      `{ projects { totalCount } }`,
      {},
      { authorization: `Bearer ${issuer.sign()}` },
    );
    expect(signedIn.data).toEqual(answer.data);
    expect(signedIn.errors).toHaveLength(1);
    expect(signedIn.errors?.[0]).toMatchObject({
      message: answer.errors?.[0].message,
      path: ['projects'],
      extensions: { code: 'BACKEND_UNAVAILABLE', backend: 'neo4j', subgraph: 'projects' },
    });

    const health = await fetch(subgraph.url.replace(/\/graphql$/, '/health'));
    expect(health.status).toBe(503);

    const sdl = await ask('{ _service { sdl } }');
    expect(sdl.errors).toBeUndefined();
    expect(sdl.data?._service.sdl).toMatch(/type Project\s+@key\(fields: "path"\)/);
  });
});

async function seed(driver: Driver): Promise<void> {
  const projects = [
    {
      path: deepPath,
      name: 'ZH Bikes',
      visibility: 'public',
      description: 'Bicycle counts in Zurich',
      keywords: ['bikes', 'zurich'],
      // Ingestion may write either a DateTime or an ISO string: both are read.
      createdAt: new neo4j.types.DateTime(2021, 3, 4, 10, 15, 0, 0, 3600),
      modifiedAt: '2022-01-02T03:04:05Z',
    },
    { path: 'ada.analyst/tutorial-zhbikes', name: 'tutorial-zhbikes', visibility: 'public' },
    ...cataloguePaths.map((p, i) => ({ path: p, name: `Project ${i + 1}`, visibility: 'public' })),
    { path: privatePath, name: 'Secret analysis', visibility: 'private' },
    { path: internalPath, name: 'Staff only', visibility: 'internal' },
  ];

  // The graph model's key constraint, so that the plans here are the plans in production.
  await driver.executeQuery(
    'CREATE CONSTRAINT project_path IF NOT EXISTS FOR (p:Project) REQUIRE p.path IS UNIQUE',
  );

  const session = driver.session();
  try {
    await session.executeWrite(async (tx) => {
      // Created out of path order, so path order is the subgraph's doing.
      for (const project of [...projects].reverse()) {
        const segments = project.path.split('/');
        await tx.run(
          `CREATE (p:Project {path: $path, name: $name, slug: $slug, visibility: $visibility,
             description: $description, keywords: $keywords, createdAt: $createdAt,
             modifiedAt: $modifiedAt})`,
          {
            description: null,
            keywords: [],
            createdAt: null,
            modifiedAt: null,
            ...project,
            slug: segments.at(-1),
          },
        );
      }
    });
  } finally {
    await session.close();
  }
}
