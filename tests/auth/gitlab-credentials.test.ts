import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createLogger, type Running } from '../../kit/src';
import {
  buildGitLabMesh,
  isMeshBuilt,
  readGitLabConfig,
  startGitLabSubgraph,
} from '../../mesh/src';
import { freePort } from '../../stack/src/ports';
import { sleep } from '../../stack/src/process';
import { startGitLabStandin, type GitLabStandin } from '../../stack/src/services/gitlab';
import { keycloakDemoUsers, startKeycloak, type Keycloak } from '../../stack/src/services/keycloak';
import { provisionNeo4j, startNeo4j } from '../../stack/src/services/neo4j';
import { passwordGrant } from '../../stack/src/tokens';
import { readProjectsConfig, startProjectsSubgraph } from '../../subgraphs/projects/src';
import { readGatewayConfig, startGateway } from '../../supergraph/src';
import { composeSupergraph } from '../../supergraph/src/compose';
import { Browser } from './browser';
import { brokerSignIn, standinUsers } from './gitlab-sign-in';
import { RealmAdmin } from './keycloak-admin';

interface StoredToken {
  access_token: string;
  refresh_token: string;
}

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

const repo = path.resolve(__dirname, '..', '..');
const silent = (name: string) => createLogger(name, 'silent');
/** Private in the GitLab stand-in, where ada.analyst owns it. */
const privateProject = 'ada.analyst/bike-forecast';
/** Private in the stand-in, ben.bayes's alone; ben has no Keycloak user before he signs in. */
const bensProject = 'ben.bayes/exam-questions';
const query = 'query ($path: String!) { project(path: $path) { path webUrl defaultBranch } }';
/** Short, so that the test sees Keycloak refresh the GitLab token at the stand-in. */
const gitlabTokenLifetimeSec = 8;

/**
 * The GitLab token of the signed-in user reaches the gitlab subgraph through the gateway:
 * the user signs in with GitLab at Keycloak (identity brokering, tokens stored), the gateway
 * reads the stored token from Keycloak's broker endpoint as the caller and sends it to the
 * GitLab-facing subgraphs only. The local stack's fallback, a userinfo claim, is tested apart.
 */
describe('GitLab credentials through the gateway', () => {
  let keycloak: Keycloak | undefined;
  let admin: RealmAdmin;
  let graph: Awaited<ReturnType<typeof startNeo4j>>;
  let standin: GitLabStandin;
  let projects: Running;
  let gitlab: Running;
  /** Brokered tokens only, browser sign-in on. */
  let gateway: Running;
  /** Brokered tokens, then the userinfo claim `gitlab_token`, as `npm start` runs it. */
  let fallbackGateway: Running;
  let publicUrl: string;
  let workDir: string;
  const gatewayLog: string[] = [];
  /** GitLab access and refresh tokens the test saw Keycloak hand out. */
  const seenTokens: string[] = [];
  const standinLog: string[] = [];

  beforeAll(async () => {
    await provisionNeo4j();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-gitlab-'));
    if (!isMeshBuilt()) await buildGitLabMesh(silent('mesh'));
    // The stand-in first: Keycloak's identity provider is written with its address.
    standin = await startGitLabStandin({
      accessTokenLifetimeSec: gitlabTokenLifetimeSec,
      log: createLogger('gitlab-standin', 'debug', { write: (line) => standinLog.push(line) }),
    });
    [keycloak, graph] = await Promise.all([
      startKeycloak({ gitlabUrl: standin.url }),
      startNeo4j({
        dataDir: path.join(workDir, 'neo4j'),
        logFile: path.join(workDir, 'neo4j.log'),
      }),
    ]);
    admin = new RealmAdmin(keycloak);

    // The catalogue entry, written by the lineage subgraph's own ingestion command. The catalogue
    // lists it as public so that any caller reaches the project; GitLab keeps it private.
    for (const project of [privateProject, bensProject]) {
      await ingest(graph.url, project, path.join(repo, 'demo/tutorial-zhbikes/source.ld.json'));
    }

    const keycloakEnv = { KEYCLOAK_URL: keycloak.url, KEYCLOAK_ISSUER: keycloak.issuer };
    // Two cores run every backend here, and other test files at once.
    const slowMachine = { SUBGRAPH_TIMEOUT_MS: '30000' };
    projects = await startProjectsSubgraph(
      readProjectsConfig({
        PORT: '0',
        NEO4J_URI: graph.url,
        GITLAB_URL: standin.url,
        ...keycloakEnv,
      }),
      silent('projects'),
    );
    gitlab = await startGitLabSubgraph(
      readGitLabConfig({ PORT: '0', GITLAB_URL: standin.url }),
      silent('gitlab'),
    );

    const supergraphFile = path.join(workDir, 'supergraph.graphql');
    fs.writeFileSync(
      supergraphFile,
      composeSupergraph([
        {
          name: 'projects',
          routingUrl: projects.url,
          schemaFile: path.join(repo, 'subgraphs/projects/schema.graphql'),
        },
        {
          name: 'gitlab',
          routingUrl: gitlab.url,
          schemaFile: path.join(repo, 'mesh/schema.graphql'),
        },
      ]),
    );

    // Browser sign-in on a test port, registered with Keycloak as a deployment would.
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    const [client] = await admin.request<{ id: string; redirectUris: string[] }[]>(
      'GET',
      '/renku/clients?clientId=renku-gateway',
    );
    await admin.request('PUT', `/renku/clients/${client.id}`, {
      ...client,
      redirectUris: [...client.redirectUris, `${publicUrl}/auth/callback`],
    });

    gateway = await startGateway(
      readGatewayConfig({
        PORT: String(port),
        SUPERGRAPH_FILE: supergraphFile,
        KEYCLOAK_GATEWAY_CLIENT_SECRET: keycloak.gatewayClientSecret,
        GATEWAY_PUBLIC_URL: publicUrl,
        ...slowMachine,
        ...keycloakEnv,
      }),
      createLogger('gateway', 'debug', { write: (line) => gatewayLog.push(line) }),
    );
    fallbackGateway = await startGateway(
      readGatewayConfig({
        PORT: '0',
        SUPERGRAPH_FILE: supergraphFile,
        GITLAB_TOKEN_USERINFO_CLAIM: 'gitlab_token',
        ...slowMachine,
        ...keycloakEnv,
      }),
      createLogger('fallback-gateway', 'debug', { write: (line) => gatewayLog.push(line) }),
    );
  }, 600_000);

  afterAll(async () => {
    await fallbackGateway?.stop();
    await gateway?.stop();
    await gitlab?.stop();
    await projects?.stop();
    await Promise.all([keycloak?.stop(), graph?.stop(), standin?.stop()]);
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  async function ask(
    url: string,
    headers: Record<string, string> = {},
    browser?: Browser,
  ): Promise<Answer> {
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables: { path: privateProject } }),
    };
    const response = browser ? await browser.fetch(url, init) : await fetch(url, init);
    return (await response.json()) as Answer;
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const signIn = (user: { username: string; password: string }) =>
    passwordGrant({ issuer: keycloak!.issuer, ...user });

  /** What Keycloak's broker endpoint answers the caller: the stored GitLab token response. */
  async function brokerToken(accessToken: string): Promise<Response> {
    return fetch(`${keycloak!.issuer}/broker/gitlab/token`, { headers: bearer(accessToken) });
  }

  async function gitlabUser(token: string): Promise<{ status: number; username?: string }> {
    const response = await fetch(`${standin.url}/api/v4/user`, { headers: bearer(token) });
    const body = (await response.json()) as { username?: string };
    return { status: response.status, username: body.username };
  }

  const hidden = { path: privateProject, webUrl: null, defaultBranch: null };
  const shown = () => ({
    path: privateProject,
    webUrl: `${standin.url}/${privateProject}`,
    defaultBranch: 'main',
  });

  it('gives GitLab no token for a user who never signed in with GitLab', async () => {
    const ada = await signIn(keycloakDemoUsers.ada);

    expect((await brokerToken(ada)).status).toBe(400);
    const answer = await ask(gateway.url, bearer(ada));
    expect(answer.data?.project).toEqual(hidden);
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual([
      'NOT_FOUND',
      'NOT_FOUND',
    ]);
  });

  it("falls back on the userinfo claim where configured, as the local stack's demo does", async () => {
    const ada = await signIn(keycloakDemoUsers.ada);

    const answer = await ask(fallbackGateway.url, bearer(ada));

    expect(answer.errors).toBeUndefined();
    expect(answer.data?.project).toEqual(shown());
  });

  it('signs a browser in with GitLab at Keycloak, links the existing user and shows her private project', async () => {
    const browser = new Browser();

    const pages = await brokerSignIn(browser, {
      gatewayUrl: publicUrl,
      gitlab: standinUsers.ada,
      keycloak: keycloakDemoUsers.ada,
    });

    // Keycloak finds its user with the same e-mail and username, and links the GitLab identity
    // only once she confirms and proves she owns that user by its password.
    expect(pages).toEqual(['confirm link', 're-authenticate']);

    const answer = await ask(`${publicUrl}/graphql`, {}, browser);
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.project).toEqual(shown());

    const [ada] = await admin.request<{ id: string }[]>(
      'GET',
      '/renku/users?username=ada.analyst&exact=true',
    );
    expect(await admin.request('GET', `/renku/users/${ada.id}/federated-identity`)).toEqual([
      { identityProvider: 'gitlab', userId: '1', userName: 'ada.analyst' },
    ]);
  });

  it('hands the stored token to every signed-in session of the linked user, bearer tokens too', async () => {
    const ada = await signIn(keycloakDemoUsers.ada);

    const answer = await ask(gateway.url, bearer(ada));

    expect(answer.errors).toBeUndefined();
    expect(answer.data?.project).toEqual(shown());
  });

  it('answers null and NOT_FOUND to another user without a linked GitLab identity', async () => {
    const bob = await signIn(keycloakDemoUsers.bob);

    const answer = await ask(gateway.url, bearer(bob));

    expect(answer.data?.project).toEqual(hidden);
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual([
      'NOT_FOUND',
      'NOT_FOUND',
    ]);
  });

  it('keeps working after the GitLab token expires: Keycloak refreshes it at the stand-in', async () => {
    const ada = await signIn(keycloakDemoUsers.ada);
    const first = (await (await brokerToken(ada)).json()) as StoredToken;
    seenTokens.push(first.access_token, first.refresh_token);
    expect(await gitlabUser(first.access_token)).toEqual({ status: 200, username: 'ada.analyst' });

    await sleep((gitlabTokenLifetimeSec + 2) * 1000);

    // The stand-in has forgotten the token, as GitLab does an expired one.
    expect((await gitlabUser(first.access_token)).status).toBe(401);
    const answer = await ask(gateway.url, bearer(ada));
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.project).toEqual(shown());
    const second = (await (await brokerToken(ada)).json()) as StoredToken;
    seenTokens.push(second.access_token, second.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect(await gitlabUser(second.access_token)).toEqual({ status: 200, username: 'ada.analyst' });
    expect(standinLog.some((line) => line.includes('OAuth tokens refreshed'))).toBe(true);
  });

  it('creates a Keycloak user for a GitLab user it does not know, who may read their own token', async () => {
    const browser = new Browser();

    const pages = await brokerSignIn(browser, { gatewayUrl: publicUrl, gitlab: standinUsers.ben });

    expect(pages).toEqual([]);

    const response = await browser.fetch(`${publicUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables: { path: bensProject } }),
    });
    const answer = (await response.json()) as Answer;
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.project).toEqual({
      path: bensProject,
      webUrl: `${standin.url}/${bensProject}`,
      defaultBranch: 'main',
    });
    const [ben] = await admin.request<{ username: string; email: string }[]>(
      'GET',
      '/renku/users?username=ben.bayes&exact=true',
    );
    expect(ben).toMatchObject({ username: 'ben.bayes', email: 'ben.bayes@example.org' });
  });

  it('answers BACKEND_UNAVAILABLE naming Keycloak when it cannot be asked for the GitLab token', async () => {
    const ada = await signIn(keycloakDemoUsers.ada);
    // Verified once while Keycloak runs, so that its signing keys are known to the gateway.
    await ask(gateway.url, bearer(ada));
    await keycloak!.stop();
    keycloak = undefined;

    const answer = await ask(gateway.url, bearer(ada));

    // Both subgraphs that are given the GitLab token (gitlab and projects) fail alike.
    expect(answer.data?.project ?? null).toBeNull();
    expect(answer.errors?.length).toBeGreaterThan(0);
    for (const error of answer.errors ?? []) {
      expect(error.extensions).toMatchObject({ code: 'BACKEND_UNAVAILABLE', backend: 'keycloak' });
    }
  });

  // Last, so that the log holds every path above, failures included.
  it('never writes a GitLab token into the logs of the gateway', () => {
    const log = gatewayLog.join('');
    expect(log).toContain('browser signed in');
    expect(seenTokens.length).toBeGreaterThanOrEqual(4);
    for (const secret of [...seenTokens, 'glpat-standin-ada-analyst-api']) {
      expect(log).not.toContain(secret);
      expect(standinLog.join('')).not.toContain(secret);
    }
  });
});

async function ingest(neo4jUri: string, project: string, document: string): Promise<void> {
  const cli = path.join(repo, 'subgraphs/lineage/dist/ingest-cli.js');
  const child = spawn(
    process.execPath,
    [cli, '--project', project, '--visibility', 'public', document],
    { env: { ...process.env, NEO4J_URI: neo4jUri }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`ingesting ${project} failed: ${stderr}`);
}
