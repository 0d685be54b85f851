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
      'type Project @key(fields: "path") { path: String! webUrl: String defaultBranch: String branches(first: Int = 20, after: String): BranchConnection }',
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

    expect(answer.errors!.length).toBeGreaterThan(0);
    for (const error of answer.errors!) {
      expect(error.path![1]).toBe(0);
      expect(error.extensions).toMatchObject({ code: 'NOT_FOUND', subgraph: 'gitlab' });
      // GitLab's own answer stays in the log.
      expect(JSON.stringify(error)).not.toContain('404 Project Not Found');
    }
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
    expect(project.defaultBranch).toBe('main');
    expect(project.branches).toBeNull();
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors![0].path).toEqual(['_entities', 0, 'branches']);
    expect(answer.errors![0].extensions!.code).toBe('FORBIDDEN');
  });

  it('gives FORBIDDEN for a token without an API scope', async () => {
    const answer = await entities(subgraph, [demo], { token: tokens.adaProfileOnly });
    expect(answer.data!._entities[0].webUrl).toBeNull();
    expect(answer.errors![0].extensions!.code).toBe('FORBIDDEN');
  });

  it('gives UNAUTHENTICATED for a token GitLab does not know', async () => {
    const answer = await entities(subgraph, [demo], { token: 'glpat-expired-or-revoked' });
    expect(answer.data!._entities[0].defaultBranch).toBeNull();
    expect(answer.errors![0].extensions!.code).toBe('UNAUTHENTICATED');
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
