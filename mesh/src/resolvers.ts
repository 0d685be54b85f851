import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { DateTime, type BaseContext } from '@renku-supergraph/kit';
import type DataLoader from 'dataloader';

import { pagedConnection } from './connection';
import type { GitLabApi, GitLabMember } from './gitlab';
import type { GitLabProject } from './project-facts';

export interface GitLabContext extends BaseContext {
  api: GitLabApi;
  /** The caller's GitLab token, from the `x-gitlab-token` header the gateway sets. */
  gitlabToken?: string;
  /**
   * The facts of every project of this request, by path: one GitLab GraphQL call per 50
   * projects, however many projects and fields are asked for.
   */
  projectFacts: DataLoader<string, GitLabProject>;
}

interface ProjectReference {
  path: string;
}

interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** A resolver of one of the project's facts; all facts of all projects share the loader. */
function projectFact<K extends keyof GitLabProject>(key: K) {
  return async (project: ProjectReference, _args: unknown, context: GitLabContext) =>
    (await context.projectFacts.load(project.path))[key];
}

export const resolvers: GraphQLResolverMap<GitLabContext> = {
  DateTime,
  Project: {
    // Nothing is fetched yet: each field asks GitLab for what it needs, and fails alone. The
    // facts of all representations go together; lists and files are one project's each.
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
