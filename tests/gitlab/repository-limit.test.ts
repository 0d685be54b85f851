import { createLogger, type Running } from '../../kit/src';
import {
  buildGitLabMesh,
  isMeshBuilt,
  readGitLabConfig,
  startGitLabSubgraph,
} from '../../mesh/src';
import { startGitLabStandin, type GitLabStandin } from '../../stack/src/services/gitlab';
import { countHttpRequests, type CountingProxy } from '../backend-calls/counting-proxies';

// Hostile and careless input against GITLAB_REPOSITORIES_PER_REQUEST
// (mesh/src/repository-reads.ts), with what a review of it found.

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

const demo = 'ada.analyst/tutorial-zhbikes';
const deepProject = 'sdsc/teaching/hs2026/bike-counts';
const log = createLogger('gitlab', 'silent');

/** A cursor at `position`, as mesh/src/cursor.ts makes them. */
const cursorAt = (position: number) =>
  Buffer.from(JSON.stringify(['position', position]), 'utf8').toString('base64url');

const entities = (selection: string) =>
  `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Project { ${selection} } } }`;

describe('the repository limit against hostile input', () => {
  let gitlab: GitLabStandin;
  let calls: CountingProxy & { requests: () => string[] };
  let subgraph: Running;

  beforeAll(async () => {
    if (!isMeshBuilt()) await buildGitLabMesh(log);
    gitlab = await startGitLabStandin({ log: createLogger('gitlab-standin', 'silent') });
    calls = await countHttpRequests(gitlab.url);
    subgraph = await startGitLabSubgraph(
      readGitLabConfig({ PORT: '0', GITLAB_URL: calls.url }),
      log,
    );
  });

  afterAll(async () => {
    await subgraph?.stop();
    await calls?.stop();
    await gitlab?.stop();
  });

  async function ask(selection: string, paths: unknown[]): Promise<Answer> {
    calls.reset();
    const r = paths.map((path) =>
      path === undefined ? { __typename: 'Project' } : { __typename: 'Project', path },
    );
    const response = await fetch(subgraph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: entities(selection), variables: { r } }),
    });
    return (await response.json()) as Answer;
  }

  const codes = (answer: Answer) => (answer.errors ?? []).map((e) => e.extensions?.code);

  it('spends no budget and no GitLab call on refused arguments', async () => {
    const answer = await ask(
      `a: branches(first: 0) { totalCount } b: tree(after: "nope") { totalCount }
       c: commits(first: 101) { totalCount } d: file(path: "") { size }`,
      [demo, deepProject],
    );
    expect(calls.count()).toBe(0);
    expect(new Set(codes(answer))).toEqual(new Set(['BAD_USER_INPUT']));
  });

  it('keeps budgets apart between requests running at once', async () => {
    calls.reset();
    const one = (path: string) =>
      fetch(subgraph.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: entities('branches(first: 1) { totalCount }'),
          variables: { r: [{ __typename: 'Project', path }] },
        }),
      }).then((response) => response.json() as Promise<Answer>);
    const answers = await Promise.all([one(demo), one(deepProject), one(demo), one(deepProject)]);
    for (const answer of answers) expect(answer.errors).toBeUndefined();
  });

  it('echoes nothing of the path in LIMIT_EXCEEDED', async () => {
    const hostile = '<img src=x onerror=alert(1)>/x?private_token=glpat-secret';
    const answer = await ask('branches(first: 1) { totalCount }', [demo, hostile]);
    const limited = answer.errors!.find((e) => e.extensions?.code === 'LIMIT_EXCEEDED')!;
    expect(limited.path).toEqual(['_entities', 1, 'branches']);
    expect(JSON.stringify(limited)).not.toMatch(/img|private_token|glpat|127\.0\.0\.1/);
  });

  // The same project in a list (the sessions, datasets or lineage nodes of one project) is one
  // read, not one GitLab call per occurrence.
  it('asks GitLab once for the same project repeated in a list', async () => {
    const answer = await ask('branches(first: 1) { totalCount }', Array(10).fill(demo));
    expect(answer.errors).toBeUndefined();
    expect(calls.count()).toBe(1);
  });

  // A representation without a string path must not fail with INTERNAL_SERVER_ERROR, nor take
  // the facts of the other representations of the same batch down with it.
  it('refuses a representation without a string path, keeping the others', async () => {
    const answer = await ask('webUrl branches(first: 1) { totalCount }', [42, demo]);
    expect(codes(answer)).not.toContain('INTERNAL_SERVER_ERROR');
    expect(answer.data!._entities[1].webUrl).not.toBeNull();
  });

  // A cursor whose GitLab page passes GraphQL's Int made Mesh refuse the call, and the client's
  // own bad input came back as BACKEND_UNAVAILABLE (and was logged as GitLab failing).
  it('refuses a cursor beyond the pages GitLab can be asked for', async () => {
    const answer = await ask(
      `branches(first: 1, after: "${cursorAt(2 ** 31 - 1)}") { totalCount }`,
      [demo],
    );
    expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
  });

  // Members are batched for their first page only; with `after` each project of a list is one
  // REST call, which GITLAB_REPOSITORIES_PER_REQUEST bounds as it bounds the other reads.
  it('does not ask GitLab once per project for later pages of members', async () => {
    const paths = Array.from({ length: 10 }, (_, i) => `ada.analyst/no-such-${i}`);
    await ask(`members(first: 1, after: "${cursorAt(0)}") { totalCount }`, paths);
    expect(calls.count()).toBeLessThanOrEqual(1);
  });
});
