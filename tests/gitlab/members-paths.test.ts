import type { MeshInstance } from '@graphql-mesh/runtime';
import type { GraphQLError } from 'graphql';
import fs from 'node:fs';

import { createLogger } from '../../kit/src';
import { buildGitLabMesh, isMeshBuilt } from '../../mesh/src';
import { GitLabApi, type GitLabMember } from '../../mesh/src/gitlab';
import { openGitLabMesh } from '../../mesh/src/mesh';
import { GitLabProjectMembers } from '../../mesh/src/project-members';
import {
  gitLabSeedFile,
  startGitLabStandin,
  type GitLabStandin,
} from '../../stack/src/services/gitlab';

// Issue #7: the members of a list of projects come from GitLab's GraphQL API, one call per 50
// projects. Both paths must give the same members: here every project of the stand-in's seed,
// for every kind of caller, read through REST's `members/all` and through `projectMembers`.

const log = createLogger('gitlab-members', 'silent');
const seed = JSON.parse(fs.readFileSync(gitLabSeedFile, 'utf8')) as {
  projects: { namespace: string; path: string }[];
};
const paths = seed.projects.map((project) => `${project.namespace}/${project.path}`);
const callers: [string, string | undefined][] = [
  ['an anonymous caller', undefined],
  ['Ada (api)', 'glpat-standin-ada-analyst-api'],
  ['Ben (read_api)', 'glpat-standin-ben-bayes-read-api'],
  // GitLab's GraphQL API refuses this token with 401 where REST answers 403.
  ['Ada (read_user only)', 'glpat-standin-ada-analyst-read-user'],
];

describe('members of a project through REST and through GitLab GraphQL', () => {
  let gitlab: GitLabStandin;
  let mesh: MeshInstance;
  let api: GitLabApi;
  let members: GitLabProjectMembers;

  beforeAll(async () => {
    if (!isMeshBuilt()) await buildGitLabMesh(log);
    gitlab = await startGitLabStandin({ log: createLogger('gitlab-standin', 'silent') });
    mesh = await openGitLabMesh(log);
    api = new GitLabApi(mesh, gitlab.url, log);
    members = new GitLabProjectMembers(gitlab.url, log);
  });

  afterAll(async () => {
    mesh?.destroy();
    await gitlab?.stop();
  });

  it.each(callers)(
    'gives %s the same members of every seed project, or leaves the project to REST',
    async (_caller, token) => {
      // One loader for all paths, as one request of the subgraph would have.
      const loader = members.loader(token);
      const fromGraphQL = await Promise.all(paths.map((path) => loader.load(path)));

      let answered = 0;
      for (const [i, path] of paths.entries()) {
        let fromRest: GitLabMember[] | GraphQLError;
        try {
          fromRest = (await api.members(path, 1, 100, token)).items;
        } catch (error) {
          fromRest = error as GraphQLError;
        }

        if (Array.isArray(fromRest)) {
          // A project REST lists for this caller: the same members, in the same order.
          expect({ path, members: fromGraphQL[i] }).toEqual({ path, members: fromRest });
          answered += 1;
        } else {
          // Hidden, missing or refused: REST answers, with its own error.
          expect({ path, members: fromGraphQL[i] }).toEqual({ path, members: null });
        }
      }
      // Every caller but the refused token sees at least the public projects through GraphQL.
      expect(answered > 0).toBe(token !== 'glpat-standin-ada-analyst-read-user');
    },
  );

  it('gives inherited members once, with their highest role, as members/all does', async () => {
    const loader = members.loader(undefined);
    const deep = await loader.load('sdsc/teaching/hs2026/bike-counts');
    // Ben maintains the project and owns the top group `sdsc`: he is listed once, as owner.
    expect(deep!.map((member) => [member.username, member.accessLevel, member.role])).toEqual([
      ['ada.analyst', 30, 'DEVELOPER'],
      ['ben.bayes', 50, 'OWNER'],
    ]);
  });
});
