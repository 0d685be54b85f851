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
import { startGitLabStandin, type GitLabStandin } from '../../stack/src/services/gitlab';
import { keycloakDemoUsers, startKeycloak, type Keycloak } from '../../stack/src/services/keycloak';
import { provisionNeo4j, startNeo4j } from '../../stack/src/services/neo4j';
import { passwordGrant } from '../../stack/src/tokens';
import { readProjectsConfig, startProjectsSubgraph } from '../../subgraphs/projects/src';
import { readGatewayConfig, startGateway } from '../../supergraph/src';
import { composeSupergraph } from '../../supergraph/src/compose';

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

const repo = path.resolve(__dirname, '..', '..');
const silent = (name: string) => createLogger(name, 'silent');
/** Private in the GitLab stand-in, where ada.analyst owns it. */
const privateProject = 'ada.analyst/bike-forecast';

/**
 * The GitLab token of the signed-in user reaches the gitlab subgraph through
 * the gateway: Keycloak's userinfo (user attribute `gitlab_token`) -> gateway
 * -> `x-gitlab-token` -> the GitLab stand-in.
 */
describe('GitLab credentials through the gateway', () => {
  let keycloak: Keycloak;
  let graph: Awaited<ReturnType<typeof startNeo4j>>;
  let standin: GitLabStandin;
  let projects: Running;
  let gitlab: Running;
  let gateway: Running;
  let workDir: string;

  beforeAll(async () => {
    await provisionNeo4j();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-gitlab-'));
    if (!isMeshBuilt()) await buildGitLabMesh(silent('mesh'));
    [keycloak, graph, standin] = await Promise.all([
      startKeycloak(),
      startNeo4j({
        dataDir: path.join(workDir, 'neo4j'),
        logFile: path.join(workDir, 'neo4j.log'),
      }),
      startGitLabStandin({ log: silent('gitlab-standin') }),
    ]);

    // The catalogue entry, written by the lineage subgraph's own ingestion command. The catalogue
    // lists it as public so that any caller reaches the project; GitLab keeps it private.
    await ingest(
      graph.url,
      privateProject,
      path.join(repo, 'demo/tutorial-zhbikes/source.ld.json'),
    );

    const keycloakEnv = { KEYCLOAK_URL: keycloak.url, KEYCLOAK_ISSUER: keycloak.issuer };
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
    gateway = await startGateway(
      readGatewayConfig({ PORT: '0', SUPERGRAPH_FILE: supergraphFile, ...keycloakEnv }),
      silent('gateway'),
    );
  }, 600_000);

  afterAll(async () => {
    await gateway?.stop();
    await gitlab?.stop();
    await projects?.stop();
    await Promise.all([keycloak?.stop(), graph?.stop(), standin?.stop()]);
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  async function ask(token?: string): Promise<Answer> {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({
        query: 'query ($path: String!) { project(path: $path) { path webUrl defaultBranch } }',
        variables: { path: privateProject },
      }),
    });
    return (await response.json()) as Answer;
  }

  it("shows the GitLab fields of ada's private project to ada", async () => {
    const ada = await passwordGrant({ issuer: keycloak.issuer, ...keycloakDemoUsers.ada });

    const answer = await ask(ada);

    expect(answer.errors).toBeUndefined();
    expect(answer.data?.project).toEqual({
      path: privateProject,
      webUrl: `${standin.url}/${privateProject}`,
      defaultBranch: expect.any(String),
    });
  });

  it('answers NOT_FOUND for those fields to anonymous callers and to users without a GitLab token', async () => {
    const bob = await passwordGrant({ issuer: keycloak.issuer, ...keycloakDemoUsers.bob });

    for (const answer of [await ask(), await ask(bob)]) {
      expect(answer.data?.project).toEqual({
        path: privateProject,
        webUrl: null,
        defaultBranch: null,
      });
      expect(answer.errors?.map((error) => error.extensions?.code)).toEqual([
        'NOT_FOUND',
        'NOT_FOUND',
      ]);
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
