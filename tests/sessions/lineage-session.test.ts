import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import neo4j, { type Driver } from 'neo4j-driver';

import { createLogger, readTokenVerifierOptions, type Running } from '../../kit/src';
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
import { provisionRenkuCli, renkuCli } from '../../stack/src/services/renku-cli';
import { passwordGrant } from '../../stack/src/tokens';
import {
  activateLineage,
  setMembers,
  startLineageSubgraph,
} from '../../subgraphs/lineage/src/index';
import { readSessionsConfig, startSessionsSubgraph } from '../../subgraphs/sessions/src';
import { startRenkuProject } from '../lineage/renku-project';
import { Browser } from './browser';
import { allowHubCallback } from './hub-callback';

/**
 * Issue #6, "from a lineage node, a way to start a session at the commit that produced that
 * file", end to end: a renku 2.x project made by the real CLI, pushed to the lineage subgraph
 * (which exports it with the CLI and finds the commits in its clone), then a session started
 * where the lineage says the file was made, on a real hub, opened by its owner.
 */
const project = 'ada.analyst/weather';
const log = createLogger('lineage-session-test', 'silent');

/** summary.csv as each run wrote it. */
const written = { first: 'b,2\na,1\n', second: 'a,1\nc,3\n', third: 'a,1\nb,2\nc,3\n' };

let dataDir: string;
let hub: JupyterHub;
let keycloak: Keycloak;
let graph: Neo4j;
let driver: Driver;
let lineage: Running;
let sessions: Running;
let ada: string;
/** The commit each run made. */
let commits: { first: string; second: string; third: string };

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lineage-session-'));
  await Promise.all([provisionJupyterHub(), provisionNeo4j(), provisionRenkuCli()]);
  const keycloakPort = await freePort();
  [hub, keycloak, graph, commits] = await Promise.all([
    startJupyterHub({
      dataDir: path.join(dataDir, 'hub'),
      keycloak: {
        issuer: `http://127.0.0.1:${keycloakPort}/realms/renku`,
        clientSecret: hubOAuthClient.devSecret,
      },
    }),
    startKeycloak({ httpPort: keycloakPort }),
    startNeo4j({ dataDir: path.join(dataDir, 'neo4j') }),
    makeProject(path.join(dataDir, 'git', `${project}.git`)),
  ]);
  await allowHubCallback(keycloak, `${hub.url}/hub/oauth_callback`);
  driver = neo4j.driver(graph.url);
  const auth = readTokenVerifierOptions({ KEYCLOAK_ISSUER: keycloak.issuer });
  [lineage, sessions] = await Promise.all([
    startLineageSubgraph(
      {
        port: 0,
        host: '127.0.0.1',
        neo4j: { uri: graph.url },
        auth,
        webhooks: {
          pollMs: 200,
          renkuCommand: renkuCli().command,
          cloneUrlPrefixes: [`file://${dataDir}/git/`],
        },
      },
      log,
    ),
    startSessionsSubgraph(
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
    ),
  ]);
  ada = await passwordGrant({ issuer: keycloak.issuer, ...keycloakDemoUsers.ada });
});

afterAll(async () => {
  await Promise.all([lineage?.stop(), sessions?.stop()]);
  await driver?.close();
  await Promise.all([hub?.stop(), keycloak?.stop(), graph?.stop()]);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/**
 * data/raw.csv, then three runs that each write summary.csv anew. The push names the second
 * run's commit; the branch has moved on to the third since, as it does while GitLab's push
 * events wait in the queue.
 */
async function makeProject(dir: string): Promise<typeof commits> {
  const { run, renkuRun } = await startRenkuProject(dataDir, dir, renkuCli());
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data', 'raw.csv'), 'b,2\na,1\nc,3\n');
  await run('git', ['add', 'data']);
  await run('git', ['commit', '-q', '-m', 'raw data']);
  return {
    first: await renkuRun('first', ['head', '-n', '2', 'data/raw.csv'], 'summary.csv'),
    second: await renkuRun('second', ['tail', '-n', '2', 'data/raw.csv'], 'summary.csv'),
    third: await renkuRun('third', ['sort', 'data/raw.csv'], 'summary.csv'),
  };
}

describe('a session at the commit a lineage node names (#6)', () => {
  it('starts where the file was made and holds the file as that run wrote it', async () => {
    const repository = path.join(dataDir, 'git', `${project}.git`);
    expect(fs.readFileSync(path.join(repository, 'summary.csv'), 'utf8')).toBe(written.third);
    await pushAndWait(`file://${repository}`, commits.second);
    // The project stays private: Ada sees its lineage and may start sessions as its owner.
    await setMembers(driver, project, [{ username: 'ada.analyst', role: 'owner' }]);

    const answer = await graphql(
      lineage.url,
      `
        query ($project: String!) {
          lineage(projectPath: $project, filePath: "summary.csv", direction: UPSTREAM) {
            nodes {
              type
              label
              projectPath
              commit
            }
          }
        }
      `,
      { project },
    );
    expect(answer.errors).toBeUndefined();
    const nodes: { type: string; label: string; projectPath: string; commit: string }[] =
      answer.data?.lineage.nodes;
    const producer = nodes.find((node) => node.type === 'ProcessRun');
    expect(producer).toEqual({
      type: 'ProcessRun',
      label: 'tail -n 2 data/raw.csv > summary.csv',
      projectPath: project,
      commit: commits.second,
    });
    expect(nodes.find((node) => node.label === 'summary.csv')?.commit).toBe(commits.second);

    const started = await graphql(
      sessions.url,
      `
        mutation ($project: String!, $commit: String!) {
          startSession(project: $project, commit: $commit) {
            name
            state
            url
            commit
          }
        }
      `,
      { project: producer!.projectPath, commit: producer!.commit },
    );
    expect(started.errors).toBeUndefined();
    const { name, url } = started.data?.startSession;
    expect(started.data?.startSession.commit).toBe(commits.second);
    const session = await untilSettled(name);
    expect(session).toMatchObject({ state: 'RUNNING', url });

    // What Ada sees in her session, through its server after signing in at the hub.
    const owner = new Browser();
    const login = await owner.open(url);
    await owner.submit(login, 'kc-form-login', keycloakDemoUsers.ada);
    const file = await owner.open(`${url}api/contents/weather/summary.csv?content=1&type=file`);
    expect(file.status).toBe(200);
    expect(JSON.parse(file.body)).toMatchObject({ path: 'weather/summary.csv' });
    expect(JSON.parse(file.body).content).toBe(written.second);

    const stopped = await graphql(
      sessions.url,
      'mutation ($name: ID!) { stopSession(name: $name) }',
      { name },
    );
    expect(stopped).toEqual({ data: { stopSession: true } });
  });
});

async function pushAndWait(gitUrl: string, after: string): Promise<void> {
  const secret = await activateLineage(driver, project);
  const response = await fetch(lineage.url.replace(/\/graphql$/, '/webhooks/gitlab'), {
    method: 'POST',
    headers: { 'x-gitlab-token': secret, 'x-gitlab-event': 'Push Hook' },
    body: JSON.stringify({
      object_kind: 'push',
      after,
      ref: 'refs/heads/master',
      project: { id: 11, path_with_namespace: project, git_http_url: gitUrl },
    }),
  });
  expect(response.status).toBe(202);
  for (;;) {
    // Ada may not read the private project before she is its member: ask the graph itself.
    const { records } = await driver.executeQuery(
      `MATCH (e:IngestEvent {projectPath: $project}) WHERE e.status IN ['done', 'failed']
       RETURN e.status AS status, e.message AS message`,
      { project },
    );
    if (records.length > 0) {
      expect(records[0].toObject()).toEqual({
        status: 'done',
        message: expect.stringMatching(`^ingested commit ${after}: 2 runs`),
      });
      return;
    }
    await sleep(500);
  }
}

async function untilSettled(name: string): Promise<{ state: string; url: string }> {
  for (;;) {
    const answer = await graphql(
      sessions.url,
      'query ($name: ID!) { session(name: $name) { state message url } }',
      { name },
    );
    const session = answer.data?.session;
    if (session && session.state !== 'STARTING') return session;
    await sleep(250);
  }
}

async function graphql(
  url: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<{ data?: Record<string, any> | null; errors?: { message: string }[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ada}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, any> | null };
}
