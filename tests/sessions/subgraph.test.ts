import neo4j, { type Driver } from 'neo4j-driver';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createLogger, type Running } from '../../kit/src';
import { freePort } from '../../stack/src/ports';
import { sleep } from '../../stack/src/process';
import {
  hubOAuthClient,
  provisionJupyterHub,
  startJupyterHub,
  type JupyterHub,
} from '../../stack/src/services/jupyterhub';
import { keycloakDemoUsers, startKeycloak, type Keycloak } from '../../stack/src/services/keycloak';
import { provisionNeo4j, startNeo4j, type Neo4j } from '../../stack/src/services/neo4j';
import { passwordGrant } from '../../stack/src/tokens';
import { readProjectsConfig, startProjectsSubgraph } from '../../subgraphs/projects/src';
import { HubClient, readSessionsConfig, startSessionsSubgraph } from '../../subgraphs/sessions/src';
import { Browser } from './browser';
import { allowHubCallback } from './hub-callback';

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

const project = 'ada.analyst/tutorial-zhbikes';
const oddProject = 'Group.With.Dots/sub_group/Odd.Name_v2';
const privateProject = 'ada.analyst/secret-notes';
const internalProject = 'sdsc/staff-course';
/** The knowledge graph's catalogue, which decides who may see what (#4). */
const catalogue: [string, string][] = [
  [project, 'public'],
  [oddProject, 'public'],
  [privateProject, 'private'],
  [internalProject, 'internal'],
];
const log = createLogger('sessions-test', 'silent');

let dataDir: string;
let hub: JupyterHub;
let keycloak: Keycloak;
let graph: Neo4j;
let driver: Driver;
let subgraph: Running;
let projects: Running;
let ada: string;
let bob: string;
let commit: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessions-subgraph-'));
  await Promise.all([provisionJupyterHub(), provisionNeo4j()]);
  // The hub needs Keycloak's address before Keycloak answers: both start at once.
  const keycloakPort = await freePort();
  [hub, keycloak, graph] = await Promise.all([
    startJupyterHub({
      dataDir: path.join(dataDir, 'hub'),
      keycloak: {
        issuer: `http://127.0.0.1:${keycloakPort}/realms/renku`,
        clientSecret: hubOAuthClient.devSecret,
      },
    }),
    startKeycloak({ httpPort: keycloakPort }),
    startNeo4j({ dataDir: path.join(dataDir, 'neo4j') }),
  ]);
  await allowHubCallback(keycloak, `${hub.url}/hub/oauth_callback`);
  driver = neo4j.driver(graph.url);
  await driver.executeQuery(
    `UNWIND $catalogue AS row
     MERGE (p:Project {path: row[0]}) SET p.visibility = row[1]
     WITH p WHERE p.path = $privateProject
     MERGE (:Member {username: 'ada.analyst'})-[:MEMBER_OF {role: 'owner'}]->(p)`,
    { catalogue, privateProject },
  );
  commit = makeRepository(path.join(dataDir, 'git', `${project}.git`));
  subgraph = await startSessionsSubgraph(
    readSessionsConfig({
      PORT: '0',
      JUPYTERHUB_API_URL: hub.apiUrl,
      JUPYTERHUB_URL: hub.url,
      JUPYTERHUB_API_TOKEN: hub.serviceToken,
      JUPYTERHUB_SESSIONS_DIR: hub.sessionsDir,
      KEYCLOAK_ISSUER: keycloak.issuer,
      NEO4J_URI: graph.url,
      SESSIONS_GIT_URL: `file://${path.join(dataDir, 'git')}`,
    }),
    log,
  );
  // What the projects subgraph answers for the same caller is what sessions must agree with.
  projects = await startProjectsSubgraph(
    readProjectsConfig({ PORT: '0', NEO4J_URI: graph.url, KEYCLOAK_ISSUER: keycloak.issuer }),
    log,
  );
  const signIn = ({ username, password }: { username: string; password: string }) =>
    passwordGrant({ issuer: keycloak.issuer, username, password });
  [ada, bob] = await Promise.all([signIn(keycloakDemoUsers.ada), signIn(keycloakDemoUsers.bob)]);
});

afterAll(async () => {
  await Promise.all([subgraph?.stop(), projects?.stop(), driver?.close()]);
  await Promise.all([hub?.stop(), keycloak?.stop(), graph?.stop()]);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const sessionFields = `name state message url started commit branch image
  project { path } owner { username }`;

describe('the sessions subgraph with Keycloak tokens and a real hub', () => {
  it('starts a session for the signed-in user, runs it and stops it', async () => {
    const started = await graphql(
      `mutation ($project: String!, $commit: String!) {
        startSession(project: $project, commit: $commit, branch: "master") { ${sessionFields} }
      }`,
      { project, commit },
      ada,
    );
    expect(started.errors).toBeUndefined();
    const session = started.data?.startSession;
    expect(session).toMatchObject({
      state: 'STARTING',
      commit,
      branch: 'master',
      project: { path: project },
      owner: { username: 'ada.analyst' },
      url: `${hub.url}/user/ada.analyst/${session.name}/`,
    });

    const running = await untilState(ada, session.name, 'RUNNING');
    expect(running.started).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const checkout = path.join(dataDir, 'hub', 'sessions', 'ada.analyst', session.name);
    expect(fs.readFileSync(path.join(checkout, 'tutorial-zhbikes', 'README.md'), 'utf8')).toBe(
      '# tutorial-zhbikes\n',
    );
    const answer = await fetch(`${running.url}api`);
    expect(await answer.json()).toEqual({ version: expect.stringMatching(/^2\./) });

    // The same start again answers the running session instead of a second one.
    const again = await graphql(
      `
        mutation ($project: String!, $commit: String!) {
          startSession(project: $project, commit: $commit, branch: "master") {
            name
            state
            url
          }
        }
      `,
      { project, commit },
      ada,
    );
    expect(again.data?.startSession).toEqual({
      name: session.name,
      state: 'RUNNING',
      url: running.url,
    });

    const viaProject = await graphql(
      `
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Project {
              sessions {
                name
                state
              }
            }
          }
        }
      `,
      { representations: [{ __typename: 'Project', path: project }] },
      ada,
    );
    expect(viaProject.data?._entities).toEqual([
      { sessions: [{ name: session.name, state: 'RUNNING' }] },
    ]);

    const stopped = await graphql(
      'mutation ($name: ID!) { stopSession(name: $name) }',
      { name: session.name },
      ada,
    );
    expect(stopped).toEqual({ data: { stopSession: true } });
    await until(
      async () => (await graphql('{ sessions { name } }', {}, ada)).data?.sessions,
      (sessions) => sessions?.length === 0,
    );
  });

  it('keeps each user to their own sessions', async () => {
    const started = await graphql(
      `
        mutation ($project: String!, $commit: String!) {
          startSession(project: $project, commit: $commit) {
            name
          }
        }
      `,
      { project, commit },
      ada,
    );
    const name = started.data?.startSession.name;

    expect((await graphql('{ sessions { name } }', {}, bob)).data).toEqual({ sessions: [] });
    const seen = await graphql(
      'query ($name: ID!) { session(name: $name) { name } }',
      { name },
      bob,
    );
    expect(seen.data).toEqual({ session: null });
    const stopped = await graphql(
      'mutation ($name: ID!) { stopSession(name: $name, force: true) }',
      { name },
      bob,
    );
    expect(stopped.errors?.[0].extensions?.code).toBe('NOT_FOUND');

    const own = await graphql(
      '{ sessions(project: "ada.analyst/tutorial-zhbikes") { name } }',
      {},
      ada,
    );
    expect(own.data).toEqual({ sessions: [{ name }] });

    // Another user of the public project gets a session of their own by the same name.
    const bobs = await graphql(
      'mutation ($project: String!, $commit: String!) { startSession(project: $project, commit: $commit) { name url owner { username } } }',
      { project, commit },
      bob,
    );
    expect(bobs.data?.startSession).toEqual({
      name,
      url: `${hub.url}/user/bob.builder/${name}/`,
      owner: { username: 'bob.builder' },
    });
    expect((await graphql('{ sessions { owner { username } } }', {}, ada)).data).toEqual({
      sessions: [{ owner: { username: 'ada.analyst' } }],
    });
    await Promise.all(
      [ada, bob].map((token) =>
        graphql('mutation ($name: ID!) { stopSession(name: $name, force: true) }', { name }, token),
      ),
    );
  });

  it('gives anonymous callers no sessions and refuses their mutations', async () => {
    expect((await graphql('{ sessions { name } }')).data).toEqual({ sessions: [] });
    const viaProject = await graphql(
      `
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Project {
              sessions {
                name
              }
            }
          }
        }
      `,
      { representations: [{ __typename: 'Project', path: project }] },
    );
    expect(viaProject.data?._entities).toEqual([{ sessions: [] }]);

    const start = await graphql(
      `mutation { startSession(project: "${project}", commit: "${commit}") { name } }`,
    );
    expect(start.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const stop = await graphql('mutation { stopSession(name: "anything") }');
    expect(stop.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a token it cannot verify', async () => {
    const answer = await graphql('{ sessions { name } }', {}, `${ada.slice(0, -4)}AAAA`);
    expect(answer.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers BAD_USER_INPUT for a malformed commit id', async () => {
    const answer = await graphql(
      `mutation { startSession(project: "${project}", commit: "HEAD~1") { name } }`,
      {},
      ada,
    );
    expect(answer.errors?.[0]).toMatchObject({
      message: 'commit must be a commit id of 7 to 64 hexadecimal digits',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('lists the resource classes of its configuration to anyone', async () => {
    const answer = await graphql(`
      {
        sessionOptions {
          defaultResourceClass {
            name
          }
          resourceClasses {
            name
            cpu
            memoryGb
            storageGb
            defaultUrl
            default
          }
        }
      }
    `);
    expect(answer.data?.sessionOptions).toEqual({
      defaultResourceClass: { name: 'small' },
      resourceClasses: [
        { name: 'small', cpu: 0.5, memoryGb: 1, storageGb: 1, defaultUrl: '/lab', default: true },
        { name: 'medium', cpu: 1, memoryGb: 2, storageGb: 10, defaultUrl: '/lab', default: false },
        { name: 'large', cpu: 2, memoryGb: 4, storageGb: 20, defaultUrl: '/lab', default: false },
      ],
    });
  });

  it('answers BAD_USER_INPUT for a resource class that does not exist', async () => {
    const answer = await graphql(
      `mutation { startSession(project: "${project}", commit: "${commit}", resourceClass: "xl") { name } }`,
      {},
      ada,
    );
    expect(answer.errors?.[0]).toMatchObject({
      message: 'resource class xl does not exist (available: small, medium, large)',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('takes odd project and branch names to URL-safe session names, and refuses unusable ones', async () => {
    const odd = await graphql(
      `mutation {
        startSession(project: "Group.With.Dots/sub_group/Odd.Name_v2", branch: "feature/x+y_z.1",
                     commit: "${commit}") { name url branch project { path } }
      }`,
      {},
      ada,
    );
    expect(odd.errors).toBeUndefined();
    const session = odd.data?.startSession;
    expect(session.name).toMatch(/^odd-name-v2-[0-9a-f]{10}$/);
    expect(session.url).toBe(`${hub.url}/user/ada.analyst/${session.name}/`);
    expect(session).toMatchObject({
      branch: 'feature/x+y_z.1',
      project: { path: 'Group.With.Dots/sub_group/Odd.Name_v2' },
    });
    await graphql(
      'mutation ($name: ID!) { stopSession(name: $name, force: true) }',
      { name: session.name },
      ada,
    );

    for (const [projectPath, branch, problem] of [
      ['ada.analyst/Zürich Bikes', 'main', 'project must be a path like namespace/name'],
      [project, 'feature/../escape', 'branch is not a valid branch name'],
      [project, '-rf', 'branch is not a valid branch name'],
    ]) {
      const refused = await graphql(
        'mutation ($p: String!, $b: String!, $c: String!) { startSession(project: $p, branch: $b, commit: $c) { name } }',
        { p: projectPath, b: branch, c: commit },
        ada,
      );
      expect(refused.errors?.[0]).toMatchObject({
        message: problem,
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
  });

  it('shows the server log to the owner of a session only, in bounded lines', async () => {
    const started = await graphql(
      `
        mutation ($project: String!, $commit: String!) {
          startSession(project: $project, commit: $commit, branch: "logs") {
            name
          }
        }
      `,
      { project, commit },
      ada,
    );
    const name = started.data?.startSession.name;
    await untilState(ada, name, 'RUNNING');

    const logs = `query ($name: ID!, $lines: Int) {
      sessionLogs(name: $name, lines: $lines) { lines truncated }
    }`;
    const three = await graphql(logs, { name, lines: 3 }, ada);
    expect(three.data?.sessionLogs).toEqual({ lines: expect.any(Array), truncated: true });
    expect(three.data?.sessionLogs.lines).toHaveLength(3);
    const all = await graphql(logs, { name }, ada);
    expect(all.data?.sessionLogs.lines[0]).toMatch(/^\[session \S+\] Cloning file:\/\//);

    expect((await graphql(logs, { name, lines: 3 }, bob)).data).toEqual({ sessionLogs: null });
    expect((await graphql(logs, { name, lines: 3 })).data).toEqual({ sessionLogs: null });
    const tooMany = await graphql(logs, { name, lines: 5001 }, ada);
    expect(tooMany.errors?.[0]).toMatchObject({
      message: 'lines must be a whole number from 1 to 5000',
      extensions: { code: 'BAD_USER_INPUT' },
    });

    await graphql('mutation ($name: ID!) { stopSession(name: $name) }', { name }, ada);
  });

  it('opens JupyterLab at the session URL for its owner after signing in with Keycloak', async () => {
    const started = await graphql(
      `
        mutation ($project: String!, $commit: String!) {
          startSession(project: $project, commit: $commit, branch: "browser") {
            name
            url
          }
        }
      `,
      { project, commit },
      ada,
    );
    const { name, url } = started.data?.startSession;
    await untilState(ada, name, 'RUNNING');

    const owner = new Browser();
    const login = await owner.open(url);
    expect(login.url).toContain(`${keycloak.issuer}/protocol/openid-connect/auth`);
    const lab = await owner.submit(login, 'kc-form-login', keycloakDemoUsers.ada);
    expect(lab).toMatchObject({ status: 200, url: `${url}lab` });
    expect(lab.body).toContain('<title>JupyterLab</title>');

    // Another signed-in user of the hub gets no further than the hub's refusal.
    await new HubClient({ apiUrl: hub.apiUrl, token: hub.serviceToken }).ensureUser(
      keycloakDemoUsers.bob.username,
    );
    const stranger = new Browser();
    const refused = await stranger.submit(
      await stranger.open(url),
      'kc-form-login',
      keycloakDemoUsers.bob,
    );
    expect(refused.status).toBe(403);
    expect(refused.body).not.toContain('JupyterLab');

    await graphql('mutation ($name: ID!) { stopSession(name: $name) }', { name }, ada);
  });

  it('reports an unreachable hub as BACKEND_UNAVAILABLE on the field', async () => {
    const deadHub = `http://127.0.0.1:${await freePort()}/hub/api`;
    const orphan = await startSessionsSubgraph(
      readSessionsConfig({
        PORT: '0',
        JUPYTERHUB_API_URL: deadHub,
        JUPYTERHUB_API_TOKEN: 'unused',
        KEYCLOAK_ISSUER: keycloak.issuer,
      }),
      log,
    );
    try {
      const answer = await graphql(
        `
          query ($representations: [_Any!]!) {
            sessionOptions {
              defaultResourceClass {
                name
              }
            }
            sessions {
              name
            }
            _entities(representations: $representations) {
              ... on Project {
                path
                sessions {
                  name
                }
              }
            }
          }
        `,
        { representations: [{ __typename: 'Project', path: project }] },
        ada,
        orphan.url,
      );
      // The rest of the query answers; only the fields that need the hub are null.
      expect(answer.data).toEqual({
        sessionOptions: { defaultResourceClass: { name: 'small' } },
        sessions: null,
        _entities: [{ path: project, sessions: null }],
      });
      const unavailable = {
        message: 'jupyterhub is not answering; try again shortly',
        extensions: { code: 'BACKEND_UNAVAILABLE', backend: 'jupyterhub', subgraph: 'sessions' },
      };
      expect(answer.errors).toEqual([
        expect.objectContaining({ ...unavailable, path: ['sessions'] }),
        expect.objectContaining({ ...unavailable, path: ['_entities', 0, 'sessions'] }),
      ]);
      const health = await fetch(orphan.url.replace(/\/graphql$/, '/health'));
      expect(health.status).toBe(503);
    } finally {
      await orphan.stop();
    }
  });
});

describe('sessions of projects by their visibility (#4)', () => {
  const start = `mutation ($project: String!, $commit: String!) {
    startSession(project: $project, commit: $commit) { name state project { path } }
  }`;
  const stop = 'mutation ($name: ID!) { stopSession(name: $name, force: true) }';

  /** Whether the projects subgraph shows the project to the same caller. */
  async function catalogueShows(path: string, token?: string): Promise<boolean> {
    const query = 'query ($path: String!) { project(path: $path) { path } }';
    const answer = await graphql(query, { path }, token, projects.url);
    expect(answer.errors).toBeUndefined();
    return answer.data?.project !== null;
  }

  const notFound = (path: string) => ({
    message: `project "${path}" not found`,
    extensions: expect.objectContaining({ code: 'NOT_FOUND' }),
  });

  it("lets a private project's member start a session and answers NOT_FOUND to anyone else", async () => {
    const own = await graphql(start, { project: privateProject, commit }, ada);
    expect(own.errors).toBeUndefined();
    expect(own.data?.startSession.project).toEqual({ path: privateProject });
    expect(await catalogueShows(privateProject, ada)).toBe(true);

    // The same answer as for a project that does not exist: the hidden one is not revealed.
    const refused = await graphql(start, { project: privateProject, commit }, bob);
    expect(refused.errors?.[0]).toMatchObject(notFound(privateProject));
    expect(await catalogueShows(privateProject, bob)).toBe(false);
    const missing = await graphql(start, { project: 'bob.builder/no-such-project', commit }, bob);
    expect(missing.errors?.[0]).toMatchObject(notFound('bob.builder/no-such-project'));

    const anonymous = await graphql(start, { project: privateProject, commit });
    expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');

    await graphql(stop, { name: own.data?.startSession.name }, ada);
  });

  it('lets any signed-in user start a session of an internal project, and no anonymous caller', async () => {
    expect(await catalogueShows(internalProject, bob)).toBe(true);
    const started = await graphql(start, { project: internalProject, commit }, bob);
    expect(started.errors).toBeUndefined();
    expect(started.data?.startSession.project).toEqual({ path: internalProject });

    expect(await catalogueShows(internalProject)).toBe(false);
    const anonymous = await graphql(start, { project: internalProject, commit });
    expect(anonymous.errors?.[0]).toMatchObject({
      message: 'sign in to start or stop sessions',
      extensions: { code: 'UNAUTHENTICATED' },
    });

    await graphql(stop, { name: started.data?.startSession.name }, bob);
  });

  it('hides a session from its owner as soon as they lose access to its project', async () => {
    const started = await graphql(start, { project: privateProject, commit }, ada);
    const { name } = started.data?.startSession;
    const membership = `MATCH (:Member {username: 'ada.analyst'})-[m:MEMBER_OF]->(:Project {path: $path})`;
    await driver.executeQuery(`${membership} DELETE m`, { path: privateProject });
    try {
      const seen = await graphql(
        `
          query ($name: ID!, $representations: [_Any!]!) {
            sessions {
              name
            }
            session(name: $name) {
              name
            }
            sessionLogs(name: $name) {
              lines
            }
            _entities(representations: $representations) {
              ... on Project {
                sessions {
                  name
                }
              }
            }
          }
        `,
        { name, representations: [{ __typename: 'Project', path: privateProject }] },
        ada,
      );
      expect(seen).toEqual({
        data: { sessions: [], session: null, sessionLogs: null, _entities: [{ sessions: [] }] },
      });
      expect((await graphql(stop, { name }, ada)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
      const again = await graphql(start, { project: privateProject, commit }, ada);
      expect(again.errors?.[0]).toMatchObject(notFound(privateProject));
    } finally {
      await driver.executeQuery(
        `MATCH (m:Member {username: 'ada.analyst'}), (p:Project {path: $path})
         MERGE (m)-[:MEMBER_OF {role: 'owner'}]->(p)`,
        { path: privateProject },
      );
    }

    // Nothing was kept between requests: the restored membership shows the session again.
    expect((await graphql('{ sessions { name } }', {}, ada)).data).toEqual({
      sessions: [{ name }],
    });
    expect(await graphql(stop, { name }, ada)).toEqual({ data: { stopSession: true } });
  });

  it('reports an unreachable knowledge graph as BACKEND_UNAVAILABLE on the field', async () => {
    // A session that fails at once is listed all the same, and costs no Jupyter server.
    const started = await graphql(
      'mutation ($project: String!, $commit: String!) { startSession(project: $project, commit: $commit, image: "no/such-image") { name } }',
      { project, commit },
      ada,
    );
    const { name } = started.data?.startSession;
    const blind = await startSessionsSubgraph(
      readSessionsConfig({
        PORT: '0',
        JUPYTERHUB_API_URL: hub.apiUrl,
        JUPYTERHUB_URL: hub.url,
        JUPYTERHUB_API_TOKEN: hub.serviceToken,
        KEYCLOAK_ISSUER: keycloak.issuer,
        NEO4J_URI: `bolt://127.0.0.1:${await freePort()}`,
        NEO4J_RETRY_TIMEOUT_MS: '0',
      }),
      log,
    );
    try {
      const answer = await graphql(
        '{ sessionOptions { defaultResourceClass { name } } sessions { name } }',
        {},
        ada,
        blind.url,
      );
      // The caller has a session, whose project the graph must vouch for before it is shown.
      expect(answer.data).toEqual({
        sessionOptions: { defaultResourceClass: { name: 'small' } },
        sessions: null,
      });
      expect(answer.errors).toEqual([
        expect.objectContaining({
          message: 'neo4j is not answering; try again shortly',
          path: ['sessions'],
          extensions: expect.objectContaining({ code: 'BACKEND_UNAVAILABLE', backend: 'neo4j' }),
        }),
      ]);
    } finally {
      await blind.stop();
      await graphql(stop, { name }, ada);
    }
  });
});

async function graphql(
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
  url = subgraph.url,
): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Answer;
}

async function untilState(token: string, name: string, state: string): Promise<any> {
  const session = await until(
    async () =>
      (
        await graphql(
          `query ($name: ID!) { session(name: $name) { ${sessionFields} } }`,
          { name },
          token,
        )
      ).data?.session,
    (found) => found?.state === state || found?.state === 'FAILED',
  );
  expect(session).toMatchObject({ state });
  return session;
}

/** Polls until `done` holds; the test's own timeout bounds the wait. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await sleep(250);
  }
}

/** A one-commit repository where SESSIONS_GIT_URL leads for the project; its commit id. */
function makeRepository(folder: string): string {
  fs.mkdirSync(folder, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', folder, ...args], { encoding: 'utf8' }).trim();
  git('init', '--quiet', '--initial-branch=master');
  fs.writeFileSync(path.join(folder, 'README.md'), '# tutorial-zhbikes\n');
  git('add', 'README.md');
  git(
    '-c',
    'user.name=Test',
    '-c',
    'user.email=test@example.org',
    'commit',
    '--quiet',
    '-m',
    'Start',
  );
  return git('rev-parse', 'HEAD');
}
