import { passwordGrant, startStack, type Stack } from '@renku-supergraph/stack';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const project = 'ada.analyst/tutorial-zhbikes';
// The head of the demo repository the stack makes for sessions (the same on every machine).
const demoCommit = '8a154153c5470e55a7c7c62856a15e6945e1e57d';

/** The README's example query: one request that every subgraph answers a part of. */
const demoQuery = /* GraphQL */ `
  query Demo($path: String!) {
    me {
      username
      name
    }
    project(path: $path) {
      path
      name
      visibility
      defaultBranch
      branches(first: 10) {
        totalCount
        edges {
          node {
            name
          }
        }
      }
      sessions {
        name
        state
        commit
      }
      lineage(filePath: "data/preprocessed/zhbikes.parquet") {
        nodes {
          id
          location
          label
          type
        }
        edges {
          source
          target
        }
      }
    }
  }
`;

interface GraphQLAnswer {
  data?: Record<string, any>;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

describe('the federated endpoint on the real stack', () => {
  let stack: Stack;
  let dataDir: string;
  let token: string;

  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as GraphQLAnswer };
  };
  const asAda = () => ({ authorization: `Bearer ${token}` });

  /** Runs a check; when it fails, the error carries the end of every service's log. */
  const withLogs = async (check: () => Promise<void>) => {
    try {
      await check();
    } catch (error) {
      const tails = fs
        .readdirSync(stack.logDir)
        .map((file) => {
          const lines = fs
            .readFileSync(path.join(stack.logDir, file), 'utf8')
            .trimEnd()
            .split('\n');
          return `--- ${file}\n${lines.slice(-15).join('\n')}`;
        })
        .join('\n');
      (error as Error).message += `\n\nservice logs:\n${tails}`;
      throw error;
    }
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'renku-e2e-'));
    stack = await startStack({ ports: 'free', dataDir });
    token = await passwordGrant({
      issuer: stack.keycloak.issuer,
      username: 'ada.analyst',
      password: 'ada-demo-password',
    });
  }, 900_000);

  afterAll(async () => {
    await stack?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers one query from all five subgraphs with the demo data', () =>
    withLogs(async () => {
      const started = await post(
        {
          query: `mutation Start($project: String!, $commit: String!) {
          startSession(project: $project, commit: $commit) { name state }
        }`,
          variables: { project, commit: demoCommit },
        },
        asAda(),
      );
      expect(started.body.errors).toBeUndefined();
      const sessionName = started.body.data!.startSession.name as string;

      // A start is pending (STARTING) until the server answers; follow it to the end.
      let session: { state: string; message: string } | undefined;
      for (let attempt = 0; attempt < 120; attempt += 1) {
        const polled = await post(
          { query: `{ session(name: "${sessionName}") { state message } }` },
          asAda(),
        );
        session = polled.body.data?.session;
        if (session?.state !== 'STARTING') break;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      expect(session).toMatchObject({ state: 'RUNNING' });

      const { status, body } = await post(
        { query: demoQuery, variables: { path: project } },
        asAda(),
      );

      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      const data = body.data!;
      // identity, from Keycloak
      expect(data.me).toEqual({ username: 'ada.analyst', name: 'Ada Analyst' });
      // projects, from Neo4j
      expect(data.project).toMatchObject({ path: project, visibility: 'PUBLIC' });
      // gitlab, from GitLab REST through Mesh
      expect(data.project.defaultBranch).toBe('master');
      expect(data.project.branches.totalCount).toBeGreaterThan(0);
      expect(data.project.branches.edges.map((edge: any) => edge.node.name)).toContain('master');
      // sessions, from JupyterHub
      expect(data.project.sessions).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: sessionName, commit: demoCommit }),
        ]),
      );
      // lineage, from Neo4j
      const { nodes, edges } = data.project.lineage;
      const clean = nodes.find(
        (node: any) => node.type === 'ProcessRun' && /clean_data\.py/.test(node.label),
      );
      expect(clean).toBeDefined();
      expect(nodes).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: 'data/zhbikes', type: 'Directory' }),
          expect.objectContaining({ id: 'data/preprocessed/zhbikes.parquet', type: 'File' }),
        ]),
      );
      expect(edges).toEqual(
        expect.arrayContaining([
          { source: 'data/zhbikes', target: clean.id },
          { source: clean.id, target: 'data/preprocessed/zhbikes.parquet' },
        ]),
      );

      const stopped = await post(
        { query: `mutation { stopSession(name: "${sessionName}") }` },
        asAda(),
      );
      expect(stopped.body.errors).toBeUndefined();
    }));

  it('starts a session where the lineage of the 2.x demo says a file was made, as the README shows (#6)', () =>
    withLogs(async () => {
      const bikes = 'ada.analyst/bike-counts';
      const lineage = await post(
        {
          query: `{ lineage(projectPath: "${bikes}", filePath: "top.csv", direction: UPSTREAM) {
            nodes { type label projectPath commit } } }`,
        },
        asAda(),
      );
      expect(lineage.body.errors).toBeUndefined();
      const head = lineage.body.data!.lineage.nodes.find(
        (node: any) => node.label === 'head -n 3 ranked.csv > top.csv',
      );
      // The commit the README names; demo/bike-counts/make.sh makes new ones.
      expect(head).toEqual({
        type: 'ProcessRun',
        label: 'head -n 3 ranked.csv > top.csv',
        projectPath: bikes,
        commit: 'c2ebb84a1f15029865bd6d5f983fe5beae95a65b',
      });

      const started = await post(
        {
          query: `mutation ($project: String!, $commit: String!) {
            startSession(project: $project, commit: $commit) { name } }`,
          variables: { project: head.projectPath, commit: head.commit },
        },
        asAda(),
      );
      expect(started.body.errors).toBeUndefined();
      const name = started.body.data!.startSession.name as string;
      let session: { state: string } | undefined;
      for (let attempt = 0; attempt < 120 && session?.state !== 'RUNNING'; attempt += 1) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
        const polled = await post({ query: `{ session(name: "${name}") { state } }` }, asAda());
        session = polled.body.data?.session;
        if (session?.state === 'FAILED') break;
      }
      expect(session).toEqual({ state: 'RUNNING' });

      // The checkout holds top.csv as that run wrote it.
      const checkout = path.join(dataDir, 'jupyterhub', 'sessions', 'ada.analyst', name);
      const written = execFileSync(
        'git',
        ['-C', path.join(dataDir, 'git', `${bikes}.git`), 'show', `${head.commit}:top.csv`],
        { encoding: 'utf8' },
      );
      expect(fs.readFileSync(path.join(checkout, 'bike-counts', 'top.csv'), 'utf8')).toBe(written);

      await post({ query: `mutation { stopSession(name: "${name}") }` }, asAda());
    }));

  it("shows a private project's lineage to its member only, to two users at once", async () => {
    const privateProject = 'ada.analyst/bike-forecast';
    execFileSync(
      process.execPath,
      [
        path.resolve(__dirname, '../../subgraphs/lineage/dist/ingest-cli.js'),
        ...['--project', privateProject, '--visibility', 'private'],
        ...['--member', 'ada.analyst:owner'],
        path.resolve(__dirname, '../../demo/tutorial-zhbikes/source.ld.json'),
      ],
      { env: { ...process.env, NEO4J_URI: stack.neo4jUrl }, stdio: 'ignore' },
    );
    const bob = await passwordGrant({
      issuer: stack.keycloak.issuer,
      username: 'bob.builder',
      password: 'bob-demo-password',
    });
    const query = {
      query: `{ lineage(projectPath: "${privateProject}", filePath: "data/zhbikes") { nodes { id } } }`,
    };

    const rounds = await Promise.all(
      Array.from({ length: 5 }, () =>
        Promise.all([
          post(query, asAda()),
          post(query, { authorization: `Bearer ${bob}` }),
          post(query),
        ]),
      ),
    );
    for (const [ada, asBob, anonymous] of rounds) {
      expect(ada.body.errors).toBeUndefined();
      expect(ada.body.data!.lineage.nodes.length).toBeGreaterThan(1);
      expect(asBob.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect(anonymous.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    }
  });

  it('changes a project in GitLab and the graph as the signed-in user, as the README shows', async () => {
    const change = (keywords: string[]) =>
      post(
        {
          query: `mutation ($keywords: [String!]) {
            updateProject(path: "${project}", keywords: $keywords) { keywords }
          }`,
          variables: { keywords },
        },
        asAda(),
      );
    const before = await post({ query: `{ project(path: "${project}") { keywords } }` });
    const original = before.body.data!.project.keywords as string[];

    const changed = await change(['bikes', 'zurich']);
    expect(changed.body.errors).toBeUndefined();
    expect(changed.body.data!.updateProject.keywords).toEqual(['bikes', 'zurich']);

    const anonymous = await post({
      query: `mutation { updateProject(path: "${project}", keywords: ["x"]) { keywords } }`,
    });
    expect(anonymous.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');

    expect((await change(original)).body.errors).toBeUndefined();
  });

  it('answers anonymous callers with public data and no identity', async () => {
    const { status, body } = await post({
      query:
        '{ me { username } project(path: "ada.analyst/tutorial-zhbikes") { name defaultBranch } }',
    });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      me: null,
      project: { name: expect.any(String), defaultBranch: 'master' },
    });
  });

  it('refuses a tampered token at the gateway with HTTP 401', async () => {
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, preferred_username: 'grace.admin' }));
    const { status, body } = await post(
      { query: '{ me { username } }' },
      { authorization: `Bearer ${header}.${forged.toString('base64url')}.${signature}` },
    );
    expect(status).toBe(401);
    expect(body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(body.data ?? null).toBeNull();
  });

  it('refuses a malformed query with HTTP 400 and a GraphQL error', async () => {
    const { status, body } = await post({ query: '{ project(path: ' });
    expect(status).toBe(400);
    expect(body.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('refuses an unknown field with HTTP 400', async () => {
    const { status, body } = await post({ query: '{ project(path: "x/y") { nope } }' });
    expect(status).toBe(400);
    expect(body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses variables of the wrong type with HTTP 400', async () => {
    const { status, body } = await post({
      query: 'query ($path: String!) { project(path: $path) { name } }',
      variables: { path: 42 },
    });
    expect(status).toBe(400);
    expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a body that is not JSON with HTTP 400 and a JSON error', async () => {
    const { status, body } = await post('{"query": ');
    expect(status).toBe(400);
    expect(body.errors?.[0]).toMatchObject({ message: 'the request body is not valid JSON' });
  });

  it('answers the health endpoint', async () => {
    const response = await fetch(stack.gatewayUrl.replace(/\/graphql$/, '/health'));
    expect(response.status).toBe(200);
  });
});
