import fs from 'node:fs';
import path from 'node:path';
import { Kind, parse, print, type DefinitionNode, type DirectiveNode } from 'graphql';

import { createLogger, type Running } from '../../kit/src';
import {
  buildGitLabMesh,
  gitlabTokenHeader,
  isMeshBuilt,
  readGitLabConfig,
  startGitLabSubgraph,
} from '../../mesh/src';
import { startGitLabStandin, type GitLabStandin } from '../../stack/src/services/gitlab';
import { countHttpRequests, type CountingProxy } from '../backend-calls/counting-proxies';

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

const demo = 'ada.analyst/tutorial-zhbikes';
const privateProject = 'ada.analyst/bike-forecast';
const deepProject = 'sdsc/teaching/hs2026/bike-counts';
const tokens = {
  ada: 'glpat-standin-ada-analyst-api',
  adaProfileOnly: 'glpat-standin-ada-analyst-read-user',
  ben: 'glpat-standin-ben-bayes-read-api',
};

/** One project's GitLab fields beyond the branches; `$path` is a representation's key. */
const repositoryQuery = `
  query Repository(
    $representations: [_Any!]!
    $ref: String
    $folder: String
    $recursive: Boolean
    $file: String!
    $first: Int
    $after: String
  ) {
    _entities(representations: $representations) {
      ... on Project {
        path
        starCount
        forksCount
        statistics { commitCount repositorySize storageSize wikiSize }
        commits(ref: $ref, first: $first, after: $after) {
          edges { cursor node {
            id shortId title message parentIds authorName authoredDate webUrl } }
          pageInfo { hasNextPage endCursor }
          totalCount
        }
        tree(ref: $ref, path: $folder, recursive: $recursive, first: $first, after: $after) {
          edges { node { id name path type mode } }
          pageInfo { hasNextPage endCursor }
          totalCount
        }
        file(path: $file, ref: $ref) {
          path name ref size blobId commitId lastCommitId contentSha256 content contentBase64
        }
        members(first: $first, after: $after) {
          edges { node { username name accessLevel role user { username } expiresAt } }
          pageInfo { hasNextPage endCursor }
          totalCount
        }
      }
    }
  }
`;

const entitiesQuery = `
  query Entities($representations: [_Any!]!, $first: Int, $after: String) {
    _entities(representations: $representations) {
      ... on Project {
        path
        webUrl
        defaultBranch
        branches(first: $first, after: $after) {
          edges {
            cursor
            node { name default protected commit { id shortId title authoredDate } }
          }
          pageInfo { hasNextPage endCursor }
          totalCount
        }
      }
    }
  }
`;

const log = createLogger('gitlab', 'silent');

async function startPair(): Promise<{ gitlab: GitLabStandin; subgraph: Running }> {
  const gitlab = await startGitLabStandin({ log: createLogger('gitlab-standin', 'silent') });
  const subgraph = await startGitLabSubgraph(
    readGitLabConfig({ PORT: '0', GITLAB_URL: gitlab.url }),
    log,
  );
  return { gitlab, subgraph };
}

async function ask(
  subgraph: Running,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<Answer> {
  const response = await fetch(subgraph.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { [gitlabTokenHeader]: token } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Answer;
}

function repository(
  subgraph: Running,
  projectPath: string,
  variables: {
    ref?: string;
    folder?: string;
    recursive?: boolean;
    file: string;
    first?: number;
    after?: string;
  },
  token?: string,
): Promise<Answer> {
  const representations = [{ __typename: 'Project', path: projectPath }];
  return ask(subgraph, repositoryQuery, { representations, ...variables }, token);
}

function entities(
  subgraph: Running,
  paths: string[],
  options: { token?: string; first?: number; after?: string } = {},
): Promise<Answer> {
  const representations = paths.map((each) => ({ __typename: 'Project', path: each }));
  const { token, ...page } = options;
  return ask(subgraph, entitiesQuery, { representations, ...page }, token);
}

/**
 * The types and the schema link of an SDL, one line each and without descriptions, leaving
 * out what the federation library adds itself (`_entities`, `_service`, `federation__*`).
 */
function definitions(sdl: string): string[] {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key]) => key !== 'description' && key !== 'loc')
        .map(([key, value]) => [key, strip(value)]),
    );
  };
  const federationOwn = (name: string) => name.startsWith('_') || name.includes('__');

  const lines: string[] = [];
  for (const definition of parse(sdl).definitions) {
    if (definition.kind === Kind.DIRECTIVE_DEFINITION) continue;
    if (definition.kind === Kind.SCHEMA_EXTENSION) {
      for (const directive of definition.directives ?? []) {
        const url = directive.arguments?.find((argument) => argument.name.value === 'url');
        if (url && print(url.value).includes('/link/')) continue;
        lines.push(print(strip(directive) as DirectiveNode));
      }
      continue;
    }
    if (!('name' in definition) || !definition.name || federationOwn(definition.name.value)) {
      continue;
    }
    const fields = 'fields' in definition ? definition.fields : undefined;
    const kept = fields?.filter((field) => !federationOwn(field.name.value));
    if (fields && kept!.length === 0) continue;
    lines.push(
      print(strip({ ...definition, fields: kept }) as DefinitionNode).replace(/\s+/g, ' '),
    );
  }
  return lines.sort();
}

describe('gitlab subgraph over the GitLab stand-in', () => {
  let gitlab: GitLabStandin;
  let subgraph: Running;

  beforeAll(async () => {
    // A clean clone has no mesh artifacts yet; `npm run build -w mesh` is the usual way.
    if (!isMeshBuilt()) await buildGitLabMesh(log);
    ({ gitlab, subgraph } = await startPair());
  });

  afterAll(async () => {
    await subgraph?.stop();
    await gitlab?.stop();
  });

  it('advertises the SDL of mesh/schema.graphql in _service', async () => {
    const answer = await ask(subgraph, '{ _service { sdl } }');
    const file = fs.readFileSync(path.join(__dirname, '../../mesh/schema.graphql'), 'utf8');
    const served = definitions(answer.data!._service.sdl);
    expect(served).toEqual(definitions(file));
    expect(served).toContain(
      'type Project @key(fields: "path") { path: String! webUrl: String defaultBranch: String branches(first: Int = 20, after: String): BranchConnection commits(ref: String, first: Int = 20, after: String): CommitConnection tree(ref: String, path: String, recursive: Boolean = false, first: Int = 20, after: String): TreeEntryConnection file(path: String!, ref: String): RepositoryFile members(first: Int = 20, after: String): ProjectMemberConnection statistics: ProjectStatistics starCount: Int forksCount: Int }',
    );
  });

  it('resolves the demo project: web URL and default branch master', async () => {
    const answer = await entities(subgraph, [demo]);
    expect(answer.errors).toBeUndefined();
    expect(answer.data!._entities[0]).toMatchObject({
      path: demo,
      webUrl: `${gitlab.url}/${demo}`,
      defaultBranch: 'master',
    });
  });

  it('describes each branch with its head commit', async () => {
    const answer = await entities(subgraph, [demo]);
    const master = answer.data!._entities[0].branches.edges.find(
      (edge: any) => edge.node.name === 'master',
    );
    expect(master.node).toEqual({
      name: 'master',
      default: true,
      protected: true,
      commit: {
        id: '90c458fceb7fa2f267c797ca44c29d93aba046f6',
        shortId: '90c458fc',
        title: 'renku run python src/plot_data.py data/preprocessed/zhbikes.parquet',
        authoredDate: '2018-09-04T10:41:02.000Z',
      },
    });
  });

  it('pages through all branches with cursors built from GitLab pagination', async () => {
    const names: string[] = [];
    const cursors = new Set<string>();
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const answer = await entities(subgraph, [demo], { first: 2, after });
      expect(answer.errors).toBeUndefined();
      const branches = answer.data!._entities[0].branches;
      expect(branches.totalCount).toBe(5);
      for (const edge of branches.edges) {
        names.push(edge.node.name);
        cursors.add(edge.cursor);
      }
      if (!branches.pageInfo.hasNextPage) break;
      after = branches.pageInfo.endCursor;
    }
    expect(names).toEqual(['clean-data', 'master', 'plots', 'refactor-scripts', 'zhbikes-dataset']);
    expect(cursors.size).toBe(5);
  });

  it('continues after a cursor from the middle of a GitLab page', async () => {
    const firstPage = await entities(subgraph, [demo], { first: 2 });
    const afterFirst = firstPage.data!._entities[0].branches.edges[0].cursor;
    const answer = await entities(subgraph, [demo], { first: 3, after: afterFirst });
    const branches = answer.data!._entities[0].branches;
    expect(branches.edges.map((edge: any) => edge.node.name)).toEqual([
      'master',
      'plots',
      'refactor-scripts',
    ]);
    expect(branches.pageInfo.hasNextPage).toBe(true);
  });

  it('refuses a page size outside 1 to 100 and a cursor it did not hand out', async () => {
    for (const options of [{ first: 0 }, { first: 101 }, { first: 2, after: 'bm90IGEgY3Vyc29y' }]) {
      const answer = await entities(subgraph, [demo], options);
      expect(answer.data!._entities[0].branches).toBeNull();
      expect(answer.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    }
  });

  it('finds a project in a namespace of three levels', async () => {
    const answer = await entities(subgraph, [deepProject]);
    expect(answer.errors).toBeUndefined();
    const project = answer.data!._entities[0];
    expect(project.webUrl).toBe(`${gitlab.url}/${deepProject}`);
    expect(project.defaultBranch).toBe('main');
    expect(project.branches.edges.map((edge: any) => edge.node.name)).toEqual([
      'main',
      'solutions',
    ]);
  });

  it('answers a public project without a token, so no Authorization header went out', async () => {
    // The stand-in, like GitLab, refuses an empty or malformed Authorization header with 401.
    const answer = await entities(subgraph, [demo], { first: 1 });
    expect(answer.errors).toBeUndefined();
    expect(answer.data!._entities[0].branches.edges).toHaveLength(1);
  });

  it('gives null and NOT_FOUND for a private project without a token, keeping the rest', async () => {
    const answer = await entities(subgraph, [privateProject, demo]);
    const [hidden, visible] = answer.data!._entities;
    expect(hidden).toEqual({
      path: privateProject,
      webUrl: null,
      defaultBranch: null,
      branches: null,
    });
    expect(visible.defaultBranch).toBe('master');

    // GitLab was asked for the hidden project's branches: that was this request's repository.
    const [limited, ...others] = answer.errors!.sort(
      (a, b) => Number(b.path![1]) - Number(a.path![1]),
    );
    expect(limited.path).toEqual(['_entities', 1, 'branches']);
    expect(limited.extensions!.code).toBe('LIMIT_EXCEEDED');
    expect(others.length).toBeGreaterThan(0);
    for (const error of others) {
      expect(error.path![1]).toBe(0);
      expect(error.extensions).toMatchObject({ code: 'NOT_FOUND', subgraph: 'gitlab' });
      // GitLab's own answer stays in the log.
      expect(JSON.stringify(error)).not.toContain('404 Project Not Found');
    }
  });

  it('reads the repository of one project per request; the next get LIMIT_EXCEEDED', async () => {
    const answer = await entities(subgraph, [demo, deepProject, demo], { first: 1 });
    const [first, second, again] = answer.data!._entities;
    expect(first.branches.edges).toHaveLength(1);
    // The same project again is the same repository; its facts are not limited.
    expect(again.branches).toEqual(first.branches);
    expect(second).toMatchObject({ defaultBranch: 'main', branches: null });

    expect(answer.errors).toHaveLength(1);
    expect(answer.errors![0]).toMatchObject({
      path: ['_entities', 1, 'branches'],
      extensions: { code: 'LIMIT_EXCEEDED', limit: 1, subgraph: 'gitlab' },
    });
    expect(answer.errors![0].message).toContain('project(path:)');
  });

  it('counts a project once whatever it reads and however its path is spelt', async () => {
    const variables = { file: 'README.md', first: 1 };
    const one = await repository(subgraph, demo, variables);
    expect(one.errors).toBeUndefined();

    const answer = await ask(subgraph, repositoryQuery, {
      representations: [demo, demo.toUpperCase()].map((each) => ({
        __typename: 'Project',
        path: each,
      })),
      ...variables,
    });
    expect(answer.errors?.map((error) => error.extensions!.code) ?? []).not.toContain(
      'LIMIT_EXCEEDED',
    );
  });

  it('resolves a private project for a member with the member token', async () => {
    const answer = await entities(subgraph, [privateProject], { token: tokens.ada });
    expect(answer.errors).toBeUndefined();
    const project = answer.data!._entities[0];
    expect(project.defaultBranch).toBe('main');
    expect(project.branches.edges.map((edge: any) => edge.node.name)).toEqual([
      'main',
      'seasonal-model',
    ]);
  });

  it('gives FORBIDDEN for branches a guest may not read while the project stays', async () => {
    const answer = await entities(subgraph, [privateProject], { token: tokens.ben });
    const project = answer.data!._entities[0];
    expect(project.webUrl).toBe(`${gitlab.url}/${privateProject}`);
    // GitLab shows the repository, its default branch included, to those who may read code.
    expect(project.defaultBranch).toBeNull();
    expect(project.branches).toBeNull();
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors![0].path).toEqual(['_entities', 0, 'branches']);
    expect(answer.errors![0].extensions!.code).toBe('FORBIDDEN');
  });

  it('refuses a token without an API scope: REST with FORBIDDEN, GraphQL with UNAUTHENTICATED', async () => {
    const answer = await entities(subgraph, [demo], { token: tokens.adaProfileOnly });
    expect(answer.data!._entities[0]).toEqual({
      path: demo,
      webUrl: null,
      defaultBranch: null,
      branches: null,
    });
    // GitLab's REST API answers 403 insufficient_scope; its GraphQL API 401 Invalid token.
    const codes = Object.fromEntries(
      answer.errors!.map((error) => [error.path![2], error.extensions!.code]),
    );
    expect(codes).toEqual({
      webUrl: 'UNAUTHENTICATED',
      defaultBranch: 'UNAUTHENTICATED',
      branches: 'FORBIDDEN',
    });
  });

  it('gives UNAUTHENTICATED for a token GitLab does not know', async () => {
    const answer = await entities(subgraph, [demo], { token: 'glpat-expired-or-revoked' });
    expect(answer.data!._entities[0].defaultBranch).toBeNull();
    expect(answer.errors![0].extensions!.code).toBe('UNAUTHENTICATED');
  });

  describe('repository, members and statistics', () => {
    it('pages through the history of a ref with cursors, newest first', async () => {
      const ids: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 5; pages++) {
        const answer = await repository(subgraph, demo, {
          ref: 'master',
          file: 'README.md',
          first: 3,
          after,
        });
        expect(answer.errors).toBeUndefined();
        const commits = answer.data!._entities[0].commits;
        expect(commits.totalCount).toBe(4);
        ids.push(...commits.edges.map((edge: any) => edge.node.id));
        if (!commits.pageInfo.hasNextPage) break;
        after = commits.pageInfo.endCursor;
      }
      expect(ids).toEqual([
        '90c458fceb7fa2f267c797ca44c29d93aba046f6',
        '07b64b6cd153cf7988e2f9cca41c58e296f57b75',
        '01f169f0beac20c7b3646b48df4010a15787adf8',
        'dda09be8bc7e60201298ad576aa72c5f9ff16bc8',
      ]);
    });

    it('describes a commit with its message, parents, author and page', async () => {
      const answer = await repository(subgraph, demo, {
        ref: 'refactor-scripts',
        file: 'README.md',
      });
      const [newest] = answer.data!._entities[0].commits.edges;
      expect(newest.node).toEqual({
        id: '01f169f0beac20c7b3646b48df4010a15787adf8',
        shortId: '01f169f0',
        title: 'added refactored scripts',
        message: 'added refactored scripts',
        parentIds: ['dda09be8bc7e60201298ad576aa72c5f9ff16bc8'],
        authorName: 'Ada Analyst',
        authoredDate: '2018-09-04T10:38:32.000Z',
        webUrl: `${gitlab.url}/${demo}/-/commit/01f169f0beac20c7b3646b48df4010a15787adf8`,
      });
    });

    it('lists the tree of the default branch, folders first, and pages it', async () => {
      const answer = await repository(subgraph, demo, { file: 'README.md', first: 3 });
      expect(answer.errors).toBeUndefined();
      const tree = answer.data!._entities[0].tree;
      expect(tree.totalCount).toBe(4);
      expect(tree.edges.map((edge: any) => [edge.node.type, edge.node.path])).toEqual([
        ['TREE', '.renku'],
        ['TREE', 'data'],
        ['TREE', 'src'],
      ]);
      expect(tree.pageInfo.hasNextPage).toBe(true);

      const next = await repository(subgraph, demo, {
        file: 'README.md',
        first: 3,
        after: tree.pageInfo.endCursor,
      });
      expect(next.data!._entities[0].tree.edges.map((edge: any) => edge.node)).toEqual([
        expect.objectContaining({ name: 'README.md', type: 'BLOB', mode: '100644' }),
      ]);
    });

    it('round-trips a file path with spaces and slashes in a namespace of three levels', async () => {
      const filePath = 'exercises/sheet 3/task 2 notes.md';
      const answer = await repository(subgraph, deepProject, {
        folder: 'exercises/sheet 3',
        file: filePath,
      });
      expect(answer.errors).toBeUndefined();
      const project = answer.data!._entities[0];
      expect(project.tree.edges.map((edge: any) => edge.node.path)).toEqual([
        'exercises/sheet 3/data',
        'exercises/sheet 3/task 1.md',
        filePath,
      ]);
      expect(project.file).toMatchObject({
        path: filePath,
        name: 'task 2 notes.md',
        ref: 'HEAD',
        commitId: '73f7ead1dbc2ce2e3fde9323f54ec4739c83a877',
        lastCommitId: '73f7ead1dbc2ce2e3fde9323f54ec4739c83a877',
      });
      expect(project.file.content).toMatch(/^# Task 2\n/);
      expect(Buffer.from(project.file.contentBase64, 'base64').toString('utf8')).toBe(
        project.file.content,
      );
      expect(project.file.size).toBe(Buffer.byteLength(project.file.content));
    });

    it('reads a file at an older ref, and a recursive tree there', async () => {
      const answer = await repository(subgraph, deepProject, {
        ref: 'solutions',
        recursive: true,
        file: 'solutions/sheet 3.md',
      });
      expect(answer.errors).toBeUndefined();
      const project = answer.data!._entities[0];
      expect(project.file.commitId).toBe('f75a88e3d4dff58810d5f6d7cc610e1afa85466f');
      expect(project.tree.edges.map((edge: any) => edge.node.path)).toContain(
        'exercises/sheet 3/data/counts per day.csv',
      );
    });

    it('gives null and NOT_FOUND for a missing file, keeping the rest', async () => {
      const answer = await repository(subgraph, demo, { file: 'no/such file.txt' });
      const project = answer.data!._entities[0];
      expect(project.file).toBeNull();
      expect(project.commits.edges).toHaveLength(4);
      expect(answer.errors).toHaveLength(1);
      expect(answer.errors![0].path).toEqual(['_entities', 0, 'file']);
      expect(answer.errors![0].extensions).toMatchObject({ code: 'NOT_FOUND', backend: 'gitlab' });
      expect(answer.errors![0].message).toContain('no/such file.txt');
    });

    it('lists members with readable roles, inherited ones included', async () => {
      const demoAnswer = await repository(subgraph, demo, { file: 'README.md' });
      expect(demoAnswer.data!._entities[0].members).toEqual({
        edges: [
          {
            node: {
              username: 'ada.analyst',
              name: 'Ada Analyst',
              accessLevel: 50,
              role: 'OWNER',
              user: { username: 'ada.analyst' },
              expiresAt: null,
            },
          },
          {
            node: {
              username: 'ben.bayes',
              name: 'Ben Bayes',
              accessLevel: 30,
              role: 'DEVELOPER',
              user: { username: 'ben.bayes' },
              expiresAt: null,
            },
          },
        ],
        pageInfo: { hasNextPage: false, endCursor: expect.any(String) },
        totalCount: 2,
      });

      const deep = await repository(subgraph, deepProject, { file: 'README.md', first: 1 });
      const members = deep.data!._entities[0].members;
      expect(members.edges.map((edge: any) => [edge.node.username, edge.node.role])).toEqual([
        ['ada.analyst', 'DEVELOPER'],
      ]);
      expect(members.pageInfo.hasNextPage).toBe(true);
      const rest = await repository(subgraph, deepProject, {
        file: 'README.md',
        first: 1,
        after: members.pageInfo.endCursor,
      });
      // An owner of the top group `sdsc`, above the maintainer role held in the project.
      expect(rest.data!._entities[0].members.edges[0].node).toMatchObject({
        username: 'ben.bayes',
        role: 'OWNER',
      });
    });

    it('gives statistics, stars and forks to a reporter and up', async () => {
      const answer = await repository(subgraph, demo, { file: 'README.md' }, tokens.ada);
      expect(answer.errors).toBeUndefined();
      const project = answer.data!._entities[0];
      expect(project).toMatchObject({ starCount: 2, forksCount: 1 });
      expect(project.statistics).toMatchObject({ commitCount: 4, wikiSize: 0 });
      expect(project.statistics.repositorySize).toBeGreaterThan(0);
      expect(project.statistics.storageSize).toBe(project.statistics.repositorySize);
    });

    it('gives null statistics without an error to anonymous callers, as GitLab withholds them', async () => {
      const answer = await repository(subgraph, demo, { file: 'README.md' });
      expect(answer.errors).toBeUndefined();
      expect(answer.data!._entities[0]).toMatchObject({
        statistics: null,
        starCount: 2,
        forksCount: 1,
      });
    });

    it('gives FORBIDDEN for the tree, commits and files of a private project to its guest', async () => {
      const answer = await repository(subgraph, privateProject, { file: 'README.md' }, tokens.ben);
      const project = answer.data!._entities[0];
      expect(project).toMatchObject({ commits: null, tree: null, file: null, statistics: null });
      expect(project.members.totalCount).toBe(2);
      const failed = answer.errors!.map((error) => [error.path![2], error.extensions!.code]);
      expect(failed.sort()).toEqual([
        ['commits', 'FORBIDDEN'],
        ['file', 'FORBIDDEN'],
        ['tree', 'FORBIDDEN'],
      ]);
    });

    it('refuses an empty file path', async () => {
      const answer = await repository(subgraph, demo, { file: '' });
      expect(answer.data!._entities[0].file).toBeNull();
      expect(answer.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    });
  });
});

describe('gitlab subgraph when GitLab is down', () => {
  let gitlab: GitLabStandin;
  let subgraph: Running;

  beforeAll(async () => {
    if (!isMeshBuilt()) await buildGitLabMesh(log);
    ({ gitlab, subgraph } = await startPair());
    await gitlab.stop();
  });

  afterAll(async () => {
    await subgraph?.stop();
  });

  it('gives null and BACKEND_UNAVAILABLE naming gitlab', async () => {
    const answer = await entities(subgraph, [demo]);
    expect(answer.data!._entities[0]).toEqual({
      path: demo,
      webUrl: null,
      defaultBranch: null,
      branches: null,
    });
    for (const error of answer.errors!) {
      expect(error.extensions).toMatchObject({ code: 'BACKEND_UNAVAILABLE', backend: 'gitlab' });
      expect(error.message).toMatch(/gitlab/);
      expect(JSON.stringify(error)).not.toContain(gitlab.url);
    }
  });
});

/** The facts of each representation; the lists come from REST and are left out. */
const factsQuery = `
  query Facts($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Project {
        path
        webUrl
        defaultBranch
        starCount
        forksCount
        statistics { commitCount }
      }
    }
  }
`;

function facts(subgraph: Running, paths: string[], token?: string): Promise<Answer> {
  const representations = paths.map((each) => ({ __typename: 'Project', path: each }));
  return ask(subgraph, factsQuery, { representations }, token);
}

describe('project facts of many representations, batched through GitLab GraphQL', () => {
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

  it('answers every representation in its order, from one GitLab call', async () => {
    calls.reset();
    const paths = [deepProject, privateProject, demo, 'no/such-project', demo.toUpperCase()];
    const answer = await facts(subgraph, paths);

    const noFacts = { webUrl: null, defaultBranch: null, starCount: null, forksCount: null };
    expect(answer.data!._entities).toEqual([
      {
        path: deepProject,
        webUrl: `${gitlab.url}/${deepProject}`,
        defaultBranch: 'main',
        starCount: 0,
        forksCount: 0,
        statistics: null,
      },
      // Private and unknown to an anonymous caller: null facts with typed errors.
      { path: privateProject, ...noFacts, statistics: null },
      {
        path: demo,
        webUrl: `${gitlab.url}/${demo}`,
        defaultBranch: 'master',
        starCount: 2,
        forksCount: 1,
        statistics: null,
      },
      { path: 'no/such-project', ...noFacts, statistics: null },
      // Full paths are case-insensitive to GitLab.
      {
        path: demo.toUpperCase(),
        webUrl: `${gitlab.url}/${demo}`,
        defaultBranch: 'master',
        starCount: 2,
        forksCount: 1,
        statistics: null,
      },
    ]);
    expect(calls.requests()).toEqual(['POST /api/graphql']);

    const failed = answer.errors!.map((error) => [error.path![1], error.path![2]]);
    expect(failed.sort()).toEqual(
      [1, 3].flatMap((i) =>
        ['defaultBranch', 'forksCount', 'starCount', 'statistics', 'webUrl'].map((field) => [
          i,
          field,
        ]),
      ),
    );
    for (const error of answer.errors!) {
      expect(error.extensions).toMatchObject({
        code: 'NOT_FOUND',
        backend: 'gitlab',
        subgraph: 'gitlab',
      });
      expect(error.message).toContain(paths[error.path![1] as number]);
    }
  });

  it('sends the caller GitLab token: a member sees the private project and its statistics', async () => {
    calls.reset();
    const answer = await facts(subgraph, [privateProject, demo], tokens.ada);
    expect(answer.errors).toBeUndefined();
    expect(answer.data!._entities[0]).toMatchObject({
      path: privateProject,
      defaultBranch: 'main',
      statistics: { commitCount: expect.any(Number) },
    });
    expect(answer.data!._entities[1].statistics.commitCount).toBe(4);
    expect(calls.count()).toBe(1);
  });

  it('asks GitLab once per 50 projects', async () => {
    calls.reset();
    const unknown = Array.from({ length: 60 }, (_, i) => `nobody/project-${i}`);
    const answer = await facts(subgraph, [...unknown, demo]);
    expect(answer.data!._entities[60]).toMatchObject({ path: demo, defaultBranch: 'master' });
    expect(answer.data!._entities.slice(0, 60).every((each: any) => each.webUrl === null)).toBe(
      true,
    );
    expect(calls.requests()).toEqual(['POST /api/graphql', 'POST /api/graphql']);
  });
});

/**
 * A GitLab whose GraphQL endpoint fails with `status` while REST keeps answering: a broken
 * proxy in front of the stand-in, for the failures the stand-in itself never makes.
 */
async function failingGraphQL(
  gitlabUrl: string,
): Promise<{ url: string; fail(status: number, body: string): void; stop(): Promise<void> }> {
  let failure = { status: 502, body: '<html><body>502 Bad Gateway</body></html>' };
  const proxy = await countHttpRequests(
    gitlabUrl,
    () => false,
    (_method, path) => (path.startsWith('/api/graphql') ? failure : undefined),
  );
  return {
    url: proxy.url,
    fail: (status, body) => {
      failure = { status, body };
    },
    stop: () => proxy.stop(),
  };
}

describe("project facts when GitLab's GraphQL API fails", () => {
  let gitlab: GitLabStandin;
  let proxy: Awaited<ReturnType<typeof failingGraphQL>>;
  let subgraph: Running;

  beforeAll(async () => {
    if (!isMeshBuilt()) await buildGitLabMesh(log);
    gitlab = await startGitLabStandin({ log: createLogger('gitlab-standin', 'silent') });
    proxy = await failingGraphQL(gitlab.url);
    subgraph = await startGitLabSubgraph(
      // Two projects' branches in each request.
      readGitLabConfig({ PORT: '0', GITLAB_URL: proxy.url, GITLAB_REPOSITORIES_PER_REQUEST: '2' }),
      log,
    );
  });

  afterAll(async () => {
    await subgraph?.stop();
    await proxy?.stop();
    await gitlab?.stop();
  });

  it('gives null facts with BACKEND_UNAVAILABLE on a 502, keeping the branches', async () => {
    proxy.fail(502, '<html><body>502 Bad Gateway</body></html>');
    const answer = await entities(subgraph, [demo, deepProject], { first: 1 });
    for (const project of answer.data!._entities) {
      expect(project).toMatchObject({ webUrl: null, defaultBranch: null });
      expect(project.branches.edges).toHaveLength(1);
    }
    expect(answer.errors).toHaveLength(4);
    for (const error of answer.errors!) {
      expect(error.extensions).toMatchObject({ code: 'BACKEND_UNAVAILABLE', backend: 'gitlab' });
      expect(JSON.stringify(error)).not.toContain('Bad Gateway');
    }
  });

  it('gives FORBIDDEN on a 403 and UNAUTHENTICATED on a 401, as the REST calls do', async () => {
    for (const [status, code] of [
      [403, 'FORBIDDEN'],
      [401, 'UNAUTHENTICATED'],
    ] as const) {
      proxy.fail(status, JSON.stringify({ errors: [{ message: 'API not accessible for user' }] }));
      const answer = await entities(subgraph, [demo], { first: 1 });
      expect(answer.data!._entities[0]).toMatchObject({ webUrl: null, defaultBranch: null });
      expect(answer.data!._entities[0].branches.edges).toHaveLength(1);
      expect(answer.errors!.map((error) => error.extensions!.code)).toEqual([code, code]);
    }
  });
});
