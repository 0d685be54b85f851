import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { DateTime, type BaseContext } from '@renku-supergraph/kit';

import { branchConnection } from './branches';
import type { GitLabApi, GitLabProject } from './gitlab';

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

export const resolvers: GraphQLResolverMap<GitLabContext> = {
  DateTime,
  Project: {
    // Nothing is fetched yet: each field asks GitLab for what it needs, and fails alone.
    __resolveReference: (reference: ProjectReference) => ({ path: reference.path }),
    webUrl: async (project: ProjectReference, _args: unknown, context: GitLabContext) =>
      (await gitlabProject(project, context)).webUrl,
    defaultBranch: async (project: ProjectReference, _args: unknown, context: GitLabContext) =>
      (await gitlabProject(project, context)).defaultBranch,
    branches: (
      project: ProjectReference,
      args: { first?: number | null; after?: string | null },
      context: GitLabContext,
    ) => branchConnection(context.api, project.path, context.gitlabToken, args.first, args.after),
  },
};
