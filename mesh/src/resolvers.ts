import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { DateTime, type BaseContext } from '@renku-supergraph/kit';

import { pagedConnection } from './connection';
import type { GitLabApi, GitLabMember, GitLabProject } from './gitlab';

export interface GitLabContext extends BaseContext {
  api: GitLabApi;
  /** The caller's GitLab token, from the `x-gitlab-token` header the gateway sets. */
  gitlabToken?: string;
  /** One GitLab call per project and request, however many of its fields are asked for. */
  projects: Map<string, Promise<GitLabProject>>;
}

interface ProjectReference {
  path: string;
}

interface PageArgs {
  first?: number | null;
  after?: string | null;
}

function gitlabProject(
  reference: ProjectReference,
  context: GitLabContext,
): Promise<GitLabProject> {
  let project = context.projects.get(reference.path);
  if (!project) {
    project = context.api.project(reference.path, context.gitlabToken);
    context.projects.set(reference.path, project);
  }
  return project;
}

/** A resolver of one fact of the project's `GET /projects/:id`, shared by all such facts. */
function projectFact<K extends keyof GitLabProject>(key: K) {
  return async (project: ProjectReference, _args: unknown, context: GitLabContext) =>
    (await gitlabProject(project, context))[key];
}

export const resolvers: GraphQLResolverMap<GitLabContext> = {
  DateTime,
  Project: {
    // Nothing is fetched yet: each field asks GitLab for what it needs, and fails alone.
    __resolveReference: (reference: ProjectReference) => ({ path: reference.path }),
    webUrl: projectFact('webUrl'),
    defaultBranch: projectFact('defaultBranch'),
    starCount: projectFact('starCount'),
    forksCount: projectFact('forksCount'),
    statistics: projectFact('statistics'),
    branches: (project: ProjectReference, args: PageArgs, { api, gitlabToken }: GitLabContext) =>
      pagedConnection(
        (page, perPage) => api.branches(project.path, page, perPage, gitlabToken),
        args.first,
        args.after,
      ),
    commits: (
      project: ProjectReference,
      args: PageArgs & { ref?: string | null },
      { api, gitlabToken }: GitLabContext,
    ) =>
      pagedConnection(
        (page, perPage) => api.commits(project.path, args.ref ?? null, page, perPage, gitlabToken),
        args.first,
        args.after,
      ),
    tree: (
      project: ProjectReference,
      args: PageArgs & { ref?: string | null; path?: string | null; recursive?: boolean | null },
      { api, gitlabToken }: GitLabContext,
    ) => {
      const options = {
        ref: args.ref ?? null,
        path: args.path ?? null,
        recursive: args.recursive ?? false,
      };
      return pagedConnection(
        (page, perPage) => api.tree(project.path, options, page, perPage, gitlabToken),
        args.first,
        args.after,
      );
    },
    // `HEAD` is the default branch to GitLab: no extra call to learn its name.
    file: (
      project: ProjectReference,
      args: { path: string; ref?: string | null },
      { api, gitlabToken }: GitLabContext,
    ) => api.file(project.path, args.path, args.ref ?? 'HEAD', gitlabToken),
    members: (project: ProjectReference, args: PageArgs, { api, gitlabToken }: GitLabContext) =>
      pagedConnection(
        (page, perPage) => api.members(project.path, page, perPage, gitlabToken),
        args.first,
        args.after,
      ),
  },
  ProjectMember: {
    // A reference the identity subgraph resolves, when a Renku user has this username.
    user: (member: GitLabMember) => ({ username: member.username }),
  },
};
