import { buildSchema, parse, validate } from 'graphql';
import fs from 'node:fs';

import { createLogger } from '../../kit/src';
import { projectFactsQuery, projectMembersQuery } from '../../mesh/src';
import { startGitLabStandin, type GitLabStandin } from '../../stack/src/services/gitlab';
import {
  maxFullPaths,
  vendoredGraphQLSchemaFile,
} from '../../stack/src/services/gitlab-standin/graphql';

const demo = 'ada.analyst/tutorial-zhbikes';
const privateProject = 'ada.analyst/bike-forecast';
const deepProject = 'sdsc/teaching/hs2026/bike-counts';
const internalProject = 'sdsc/lab-notes';
const bensPrivateProject = 'ben.bayes/exam-questions';
const tokens = {
  ada: 'glpat-standin-ada-analyst-api',
  adaProfileOnly: 'glpat-standin-ada-analyst-read-user',
  ben: 'glpat-standin-ben-bayes-read-api',
};

interface Answer {
  status: number;
  body: { data?: Record<string, any> | null; errors?: { message: string; path?: string[] }[] };
}

describe('GitLab stand-in GraphQL API', () => {
  let gitlab: GitLabStandin;
  const vendored = buildSchema(fs.readFileSync(vendoredGraphQLSchemaFile, 'utf8'));

  beforeAll(async () => {
    gitlab = await startGitLabStandin({ log: createLogger('gitlab-standin', 'silent') });
  });

  afterAll(async () => {
    await gitlab?.stop();
  });

  async function post(
    query: string,
    variables: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const response = await fetch(`${gitlab.url}/api/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }

  /** The gitlab subgraph's own operation, as it sends it. */
  function facts(fullPaths: string[], headers: Record<string, string> = {}, first = 50) {
    return post(projectFactsQuery, { fullPaths, first }, headers);
  }

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const pathsOf = (answer: Answer) =>
    answer.body.data!.projects.nodes.map((node: { fullPath: string }) => node.fullPath);

  describe('against the vendored schema', () => {
    it("validates the subgraph's operations against the vendored subset of GitLab's schema", () => {
      expect(validate(vendored, parse(projectFactsQuery))).toEqual([]);
      expect(validate(vendored, parse(projectMembersQuery))).toEqual([]);
    });

    it('serves exactly the vendored schema', async () => {
      const { body } = await post(
        '{ __schema { types { name kind fields { name type { kind name ofType { kind name ofType { kind name } } } } } } }',
      );
      const served = body.data!.__schema.types.filter(
        (type: { name: string }) => !type.name.startsWith('__'),
      );
      const expected = vendored
        .toConfig()
        .types.filter((type) => !type.name.startsWith('__'))
        .map((type) => type.name);
      expect(served.map((type: { name: string }) => type.name).sort()).toEqual(expected.sort());
      const project = served.find((type: { name: string }) => type.name === 'Project');
      expect(project.fields.map((field: { name: string }) => field.name).sort()).toEqual([
        'forksCount',
        'fullPath',
        'projectMembers',
        'repository',
        'starCount',
        'statistics',
        'webUrl',
      ]);
    });

    it('refuses fields that the vendored schema does not declare', async () => {
      const { status, body } = await post(
        `{ projects(fullPaths: ["${demo}"]) { nodes { fullPath openIssuesCount } } }`,
      );
      expect(status).toBe(200);
      expect(body.data).toBeUndefined();
      expect(body.errors![0].message).toMatch(/openIssuesCount/);
    });
  });

  describe('projects(fullPaths:)', () => {
    it('answers public projects to anonymous callers with their facts', async () => {
      const answer = await facts([demo]);
      expect(answer.status).toBe(200);
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data!.projects.nodes).toEqual([
        {
          fullPath: demo,
          webUrl: `${gitlab.url}/${demo}`,
          starCount: 2,
          forksCount: 1,
          repository: { rootRef: 'master' },
          // Statistics need the Reporter role; GitLab answers null without an error.
          statistics: null,
        },
      ]);
    });

    it('leaves out unknown paths and projects the caller may not see, as GitLab does', async () => {
      const paths = [demo, privateProject, internalProject, 'no/such-project', 'nobody'];
      const answer = await facts(paths);
      expect(answer.body.errors).toBeUndefined();
      expect(pathsOf(answer)).toEqual([demo]);
    });

    it('shows internal projects to any signed-in user and private ones to members', async () => {
      const paths = [demo, privateProject, internalProject, bensPrivateProject, deepProject];
      // GitLab's default order: newest id first.
      expect(pathsOf(await facts(paths, bearer(tokens.ada)))).toEqual([
        internalProject,
        deepProject,
        privateProject,
        demo,
      ]);
      expect(pathsOf(await facts(paths, bearer(tokens.ben)))).toEqual([
        bensPrivateProject,
        internalProject,
        deepProject,
        privateProject,
        demo,
      ]);
    });

    it('takes personal access tokens in the PRIVATE-TOKEN header too', async () => {
      const answer = await facts([privateProject], { 'PRIVATE-TOKEN': tokens.ada });
      expect(pathsOf(answer)).toEqual([privateProject]);
    });

    it('gives statistics to reporters and up, and the repository to those who may read code', async () => {
      const owner = await facts([privateProject], bearer(tokens.ada));
      expect(owner.body.data!.projects.nodes[0]).toMatchObject({
        repository: { rootRef: 'main' },
        statistics: { commitCount: expect.any(Number), wikiSize: 0, buildArtifactsSize: 0 },
      });
      expect(owner.body.data!.projects.nodes[0].statistics.repositorySize).toBeGreaterThan(0);

      // Ben is a guest of Ada's private project: he sees it, not its code or statistics.
      const guest = await facts([privateProject], bearer(tokens.ben));
      expect(guest.body.errors).toBeUndefined();
      expect(guest.body.data!.projects.nodes[0]).toMatchObject({
        fullPath: privateProject,
        repository: null,
        statistics: null,
      });
    });

    it('matches full paths regardless of case and answers with the project own case', async () => {
      const answer = await facts([deepProject.toUpperCase(), deepProject]);
      expect(pathsOf(answer)).toEqual([deepProject]);
    });

    it(`refuses more than ${maxFullPaths} full paths with GitLab's error`, async () => {
      const paths = Array.from({ length: maxFullPaths + 1 }, (_, i) => `nobody/p${i}`);
      const answer = await facts(paths);
      expect(answer.status).toBe(200);
      expect(answer.body.data).toEqual({ projects: null });
      expect(answer.body.errors![0]).toMatchObject({
        message: 'You cannot provide more than 50 full_paths',
        path: ['projects'],
      });
      expect(pathsOf(await facts(paths.slice(0, maxFullPaths)))).toEqual([]);
    });

    it('pages with first and the cursor of the last node', async () => {
      const paths = [demo, privateProject, internalProject, deepProject];
      const first = await facts(paths, bearer(tokens.ada), 2);
      expect(pathsOf(first)).toEqual([internalProject, deepProject]);
      expect(first.body.data!.projects.pageInfo.hasNextPage).toBe(true);

      const rest = await post(
        projectFactsQuery,
        { fullPaths: paths, first: 2, after: first.body.data!.projects.pageInfo.endCursor },
        bearer(tokens.ada),
      );
      expect(pathsOf(rest)).toEqual([privateProject, demo]);
      expect(rest.body.data!.projects.pageInfo.hasNextPage).toBe(false);
    });
  });

  describe('tokens', () => {
    it('refuses an unknown token with 401 Invalid token, even for public projects', async () => {
      const answer = await facts([demo], bearer('glpat-expired-or-revoked'));
      expect(answer).toEqual({ status: 401, body: { errors: [{ message: 'Invalid token' }] } });
    });

    it('refuses a token without the api or read_api scope with 401 as well', async () => {
      const answer = await facts([demo], bearer(tokens.adaProfileOnly));
      expect(answer).toEqual({ status: 401, body: { errors: [{ message: 'Invalid token' }] } });
    });
  });

  describe('Project.projectMembers', () => {
    const membersOf = `query (
      $fullPaths: [String!]!, $relations: [ProjectMemberRelation!], $first: Int, $after: String
    ) {
      projects(fullPaths: $fullPaths) { nodes { fullPath
        projectMembers(relations: $relations, first: $first, after: $after) {
        nodes { __typename id accessLevel { integerValue } expiresAt
                user { username name state avatarUrl webUrl } }
        pageInfo { hasNextPage endCursor }
      } } }
    }`;
    const listed = (answer: Answer) =>
      answer.body.data!.projects.nodes[0].projectMembers.nodes.map((node: any) => [
        node.__typename,
        node.user.username,
        node.accessLevel.integerValue,
      ]);

    it('lists direct and inherited members once, with their highest level, newest first', async () => {
      // Ben maintains the project and owns the top group `sdsc`: one row, the project's own.
      const answer = await post(membersOf, { fullPaths: [deepProject] });
      expect(answer.body.errors).toBeUndefined();
      expect(listed(answer)).toEqual([
        ['ProjectMember', 'ben.bayes', 50],
        ['ProjectMember', 'ada.analyst', 30],
      ]);
    });

    it('filters by relation as GitLab does', async () => {
      const only = async (relations: string[]) =>
        listed(await post(membersOf, { fullPaths: [deepProject], relations }));
      expect(await only(['INHERITED'])).toEqual([['GroupMember', 'ben.bayes', 50]]);
      expect(await only(['DIRECT'])).toEqual([
        ['ProjectMember', 'ben.bayes', 50],
        ['ProjectMember', 'ada.analyst', 30],
      ]);
      // The seed shares no groups with projects or their ancestors.
      expect(await only(['INVITED_GROUPS', 'SHARED_INTO_ANCESTORS'])).toEqual([]);
    });

    it("shows each user as REST's members/all does", async () => {
      const answer = await post(membersOf, { fullPaths: [demo] });
      const response = await fetch(
        `${gitlab.url}/api/v4/projects/${encodeURIComponent(demo)}/members/all`,
      );
      const rest = (await response.json()) as Record<string, unknown>[];
      const nodes = answer.body.data!.projects.nodes[0].projectMembers.nodes;
      expect(
        nodes.map((node: any) => ({ ...node.user, accessLevel: node.accessLevel.integerValue })),
      ).toEqual(
        [...rest].reverse().map((member) => ({
          username: member.username,
          name: member.name,
          state: member.state,
          avatarUrl: member.avatar_url,
          webUrl: member.web_url,
          accessLevel: member.access_level,
        })),
      );
      expect(nodes.map((node: any) => node.expiresAt)).toEqual([null, null]);
    });

    it('pages with first and the cursor of the last member', async () => {
      const first = await post(membersOf, { fullPaths: [deepProject], first: 1 });
      const page = first.body.data!.projects.nodes[0].projectMembers;
      expect(listed(first)).toEqual([['ProjectMember', 'ben.bayes', 50]]);
      expect(page.pageInfo.hasNextPage).toBe(true);

      const rest = await post(membersOf, {
        fullPaths: [deepProject],
        first: 1,
        after: page.pageInfo.endCursor,
      });
      expect(listed(rest)).toEqual([['ProjectMember', 'ada.analyst', 30]]);
      expect(rest.body.data!.projects.nodes[0].projectMembers.pageInfo.hasNextPage).toBe(false);
    });

    it('lists the members only of projects the caller may see', async () => {
      const anonymous = await post(membersOf, { fullPaths: [privateProject] });
      expect(anonymous.body.data!.projects.nodes).toEqual([]);
      // Ben is a guest of Ada's private project: guests see its members.
      const guest = await post(membersOf, { fullPaths: [privateProject] }, bearer(tokens.ben));
      expect(listed(guest)).toEqual([
        ['ProjectMember', 'ben.bayes', 10],
        ['ProjectMember', 'ada.analyst', 50],
      ]);
    });
  });
});
