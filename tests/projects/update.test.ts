import neo4j, { type Driver } from 'neo4j-driver';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createLogger, type Running } from '../../kit/src';
import { startGitLabStandin, type GitLabStandin } from '../../stack/src/services/gitlab';
import { provisionNeo4j, startNeo4j } from '../../stack/src/services/neo4j';
import {
  gitlabTokenHeader,
  readProjectsConfig,
  startProjectsSubgraph,
} from '../../subgraphs/projects/src';
import { startIssuer, type Issuer } from './issuer';

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

const log = createLogger('projects-update-test', 'silent');
const audience = 'renku-supergraph';
const zhbikes = 'ada.analyst/tutorial-zhbikes';
// Ada is a developer there: GitLab lets only maintainers and owners edit a project.
const bikeCounts = 'sdsc/teaching/hs2026/bike-counts';
// Private in GitLab, to Ada a project that does not exist; public in this test's graph.
const examQuestions = 'ben.bayes/exam-questions';
const tokens = {
  ada: 'glpat-standin-ada-analyst-api',
  benReadOnly: 'glpat-standin-ben-bayes-read-api',
};

const mutation = `
  mutation ($path: String!, $description: String, $keywords: [String!], $visibility: Visibility) {
    updateProject(
      path: $path
      description: $description
      keywords: $keywords
      visibility: $visibility
    ) {
      path
      description
      keywords
      visibility
      modified
    }
  }
`;

describe('updateProject against the GitLab stand-in and a real Neo4j', () => {
  let dataDir: string;
  let graph: Awaited<ReturnType<typeof startNeo4j>>;
  let driver: Driver;
  let gitlab: GitLabStandin;
  let gitlabStopped = false;
  let issuer: Issuer;
  let subgraph: Running;

  beforeAll(async () => {
    await provisionNeo4j();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'projects-update-'));
    graph = await startNeo4j({ dataDir, logFile: path.join(dataDir, 'neo4j.log') });
    driver = neo4j.driver(graph.url);
    await driver.executeQuery(
      `UNWIND $projects AS row
       CREATE (:Project {path: row.path, name: row.name, visibility: 'public',
         description: row.description, keywords: row.keywords,
         modifiedAt: '2020-01-01T00:00:00.000Z'})`,
      {
        projects: [
          { path: zhbikes, name: 'tutorial-zhbikes', description: 'Bikes', keywords: ['bikes'] },
          { path: bikeCounts, name: 'bike-counts', description: 'Counts', keywords: [] },
          { path: examQuestions, name: 'exam-questions', description: 'Exam', keywords: [] },
        ],
      },
    );

    gitlab = await startGitLabStandin({ log });
    issuer = await startIssuer(audience);
    subgraph = await startProjectsSubgraph(
      readProjectsConfig({
        PORT: '0',
        NEO4J_URI: graph.url,
        GITLAB_URL: gitlab.url,
        GITLAB_TIMEOUT_MS: '5000',
        KEYCLOAK_ISSUER: issuer.url,
        KEYCLOAK_AUDIENCE: audience,
      }),
      log,
    );
  });

  afterAll(async () => {
    await subgraph?.stop();
    await issuer?.stop();
    if (!gitlabStopped) await gitlab?.stop();
    await driver?.close();
    await graph?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function ask(
    variables: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const response = await fetch(subgraph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: mutation, variables }),
    });
    return (await response.json()) as Answer;
  }

  const signedIn = (gitlabToken?: string) => ({
    authorization: `Bearer ${issuer.sign()}`,
    ...(gitlabToken ? { [gitlabTokenHeader]: gitlabToken } : {}),
  });

  async function inGraph(projectPath: string) {
    const { records } = await driver.executeQuery(
      'MATCH (p:Project {path: $path}) RETURN p {.description, .keywords, .visibility, .modifiedAt} AS p',
      { path: projectPath },
    );
    return records[0].get('p');
  }

  async function inGitLab(projectPath: string) {
    const response = await fetch(
      `${gitlab.url}/api/v4/projects/${encodeURIComponent(projectPath)}`,
      { headers: { authorization: `Bearer ${tokens.ada}` } },
    );
    const project = (await response.json()) as Record<string, unknown>;
    return {
      description: project.description,
      topics: project.topics,
      visibility: project.visibility,
    };
  }

  it('changes GitLab, then the graph, with what GitLab answered', async () => {
    const answer = await ask(
      {
        path: zhbikes,
        description: 'Bicycle counts in Zurich, cleaned',
        keywords: ['bikes', ' zurich ', 'Bikes'],
        visibility: 'INTERNAL',
      },
      signedIn(tokens.ada),
    );

    expect(answer.errors).toBeUndefined();
    // GitLab keeps the first of topics that differ only in case; the graph takes its answer.
    expect(answer.data?.updateProject).toEqual({
      path: zhbikes,
      description: 'Bicycle counts in Zurich, cleaned',
      keywords: ['bikes', 'zurich'],
      visibility: 'INTERNAL',
      modified: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(answer.data?.updateProject.modified).not.toBe('2020-01-01T00:00:00.000Z');
    expect(await inGitLab(zhbikes)).toEqual({
      description: 'Bicycle counts in Zurich, cleaned',
      topics: ['bikes', 'zurich'],
      visibility: 'internal',
    });
    expect(await inGraph(zhbikes)).toMatchObject({
      description: 'Bicycle counts in Zurich, cleaned',
      keywords: ['bikes', 'zurich'],
      visibility: 'internal',
    });
  });

  it('changes nothing more when the same change comes again', async () => {
    const change = { path: zhbikes, description: 'Counted twice', keywords: ['bikes'] };
    const first = await ask(change, signedIn(tokens.ada));
    const graphAfterFirst = await inGraph(zhbikes);
    const second = await ask(change, signedIn(tokens.ada));

    expect(first.errors).toBeUndefined();
    expect(second).toEqual(first);
    expect(await inGraph(zhbikes)).toEqual(graphAfterFirst);
    expect((await inGitLab(zhbikes)).topics).toEqual(['bikes']);
  });

  it('writes only what was asked for, and clears a description given as null', async () => {
    const before = await inGraph(zhbikes);
    const answer = await ask({ path: zhbikes, description: null }, signedIn(tokens.ada));

    expect(answer.errors).toBeUndefined();
    expect(answer.data?.updateProject).toMatchObject({
      description: null,
      keywords: before.keywords,
      visibility: before.visibility.toUpperCase(),
    });
    expect((await inGitLab(zhbikes)).description).toBe('');
  });

  it.each([
    ['an anonymous caller', undefined],
    ['a signed-in caller without a GitLab token', signedIn],
    ['a GitLab token GitLab does not know', () => signedIn('glpat-nobody')],
  ])('refuses %s with UNAUTHENTICATED and leaves the graph alone', async (_label, headers) => {
    const before = await inGraph(bikeCounts);

    const answer = await ask({ path: bikeCounts, description: 'Vandalised' }, headers?.());

    expect(answer.errors?.[0].extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      subgraph: 'projects',
    });
    expect(await inGraph(bikeCounts)).toEqual(before);
  });

  it.each([
    ['a developer', tokens.ada],
    ['a read-only GitLab token', tokens.benReadOnly],
  ])('leaves GitLab and the graph alone when GitLab forbids %s', async (_label, token) => {
    const before = { graph: await inGraph(bikeCounts), gitlab: await inGitLab(bikeCounts) };

    const answer = await ask({ path: bikeCounts, keywords: ['counts'] }, signedIn(token));

    expect(answer.data).toBeNull();
    expect(answer.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', backend: 'gitlab' });
    expect(JSON.stringify(answer)).not.toContain('403 Forbidden');
    expect({ graph: await inGraph(bikeCounts), gitlab: await inGitLab(bikeCounts) }).toEqual(
      before,
    );
  });

  it('gives NOT_FOUND when GitLab does not show the caller the project', async () => {
    const before = await inGraph(examQuestions);

    const answer = await ask({ path: examQuestions, description: 'Leaked' }, signedIn(tokens.ada));

    expect(answer.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', backend: 'gitlab' });
    expect(await inGraph(examQuestions)).toEqual(before);
  });

  it('gives NOT_FOUND for a project the catalogue does not know, without changing GitLab', async () => {
    // GitLab has this project; the catalogue of this test does not.
    const before = await inGitLab('sdsc/lab-notes');
    const answer = await ask({ path: 'sdsc/lab-notes', description: 'x' }, signedIn(tokens.ada));

    expect(answer.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect(await inGitLab('sdsc/lab-notes')).toEqual(before);
  });

  it.each([
    ['nothing to change', { path: zhbikes }],
    ['a blank keyword', { path: zhbikes, keywords: ['  '] }],
    ['a path without namespace', { path: 'lonely', description: 'x' }],
  ])('refuses %s with BAD_USER_INPUT', async (_label, variables) => {
    const answer = await ask(variables, signedIn(tokens.ada));
    expect(answer.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  // Stops the stand-in: keep it last.
  it('gives BACKEND_UNAVAILABLE while GitLab is down and leaves the graph alone', async () => {
    const before = await inGraph(zhbikes);
    await gitlab.stop();
    gitlabStopped = true;

    const answer = await ask({ path: zhbikes, description: 'Lost' }, signedIn(tokens.ada));

    expect(answer.errors?.[0].extensions).toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      backend: 'gitlab',
    });
    expect(await inGraph(zhbikes)).toEqual(before);
  });
});
