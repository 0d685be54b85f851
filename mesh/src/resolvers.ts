import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { DateTime, ErrorCode, apiError, type BaseContext } from '@renku-supergraph/kit';
import type DataLoader from 'dataloader';

import { pagedConnection } from './connection';
import type { GitLabApi, GitLabMember, GitLabPage } from './gitlab';
import type { GitLabProject } from './project-facts';
import type { RepositoryReads } from './repository-reads';

export interface GitLabContext extends BaseContext {
  api: GitLabApi;
  /** The caller's GitLab token, from the `x-gitlab-token` header the gateway sets. */
  gitlabToken?: string;
  /**
   * The facts of every project of this request, by path: one GitLab GraphQL call per 50
   * projects, however many projects and fields are asked for.
   */
  projectFacts: DataLoader<string, GitLabProject>;
  /**
   * The members of every project of this request, by path, in REST's order (null: ask REST):
   * one GitLab GraphQL call per 50 projects for the first pages of a list.
   */
  projectMembers: DataLoader<string, GitLabMember[] | null>;
  /** GitLab's per-project reads of this request: branches, commits, folders, files, members. */
  repositoryReads: RepositoryReads;
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
    // Async, so that a refusal fails this representation alone, not the whole `_entities`.
    __resolveReference: async (reference: ProjectReference) => {
      // The gateway sends the projects subgraph's paths; a caller of this subgraph could send
      // anything, which must not reach GitLab as a project id or fail the others' facts.
      if (typeof reference.path !== 'string' || reference.path === '') {
        throw apiError(ErrorCode.BadUserInput, 'a Project representation needs its `path`');
      }
      return { path: reference.path };
    },
    webUrl: projectFact('webUrl'),
    defaultBranch: projectFact('defaultBranch'),
    starCount: projectFact('starCount'),
    forksCount: projectFact('forksCount'),
    statistics: projectFact('statistics'),
    // One GitLab call per project and page, through the request's repository reads: counted
    // just before GitLab is asked (an argument refused costs nothing), asked once if repeated.
    branches: (project: ProjectReference, args: PageArgs, context: GitLabContext) =>
      pagedConnection(
        (page, perPage) =>
          context.repositoryReads.read(project.path, 'branches', [page, perPage], () =>
            context.api.branches(project.path, page, perPage, context.gitlabToken),
          ),
        args.first,
        args.after,
      ),
    commits: (
      project: ProjectReference,
      args: PageArgs & { ref?: string | null },
      context: GitLabContext,
    ) => {
      const ref = args.ref ?? null;
      return pagedConnection(
        (page, perPage) =>
          context.repositoryReads.read(project.path, 'commits', [ref, page, perPage], () =>
            context.api.commits(project.path, ref, page, perPage, context.gitlabToken),
          ),
        args.first,
        args.after,
      );
    },
    tree: (
      project: ProjectReference,
      args: PageArgs & { ref?: string | null; path?: string | null; recursive?: boolean | null },
      context: GitLabContext,
    ) => {
      const options = {
        ref: args.ref ?? null,
        path: args.path ?? null,
        recursive: args.recursive ?? false,
      };
      const key = [options.ref, options.path, options.recursive];
      return pagedConnection(
        (page, perPage) =>
          context.repositoryReads.read(project.path, 'tree', [...key, page, perPage], () =>
            context.api.tree(project.path, options, page, perPage, context.gitlabToken),
          ),
        args.first,
        args.after,
      );
    },
    // `HEAD` is the default branch to GitLab: no extra call to learn its name.
    file: (
      project: ProjectReference,
      args: { path: string; ref?: string | null },
      context: GitLabContext,
    ) => {
      if (args.path === '') {
        throw apiError(ErrorCode.BadUserInput, '`path` names no file', { argument: 'path' });
      }
      const ref = args.ref ?? 'HEAD';
      return context.repositoryReads.read(project.path, 'file', [args.path, ref], () =>
        context.api.file(project.path, args.path, ref, context.gitlabToken),
      );
    },
    // The first page of every project comes from one GitLab GraphQL call per 50 projects, the
    // same members in the same order as REST's; later pages, and what that call cannot answer
    // exactly (more than 100 members), are REST's own, one call per project: those count as
    // the repository reads do.
    members: (project: ProjectReference, args: PageArgs, context: GitLabContext) =>
      pagedConnection(
        async (page, perPage) => {
          if (args.after == null && page === 1) {
            const all = await context.projectMembers.load(project.path);
            if (all) return firstPage(all, perPage);
          }
          return context.repositoryReads.read(project.path, 'members', [page, perPage], () =>
            context.api.members(project.path, page, perPage, context.gitlabToken),
          );
        },
        args.first,
        args.after,
      ),
  },
  ProjectMember: {
    // A reference the identity subgraph resolves, when a Renku user has this username.
    user: (member: GitLabMember) => ({ username: member.username }),
  },
};

/** GitLab's first page of a complete list, as its REST headers would describe it. */
function firstPage<T>(all: T[], perPage: number): GitLabPage<T> {
  return {
    items: all.slice(0, perPage),
    nextPage: all.length > perPage ? 2 : undefined,
    total: all.length,
  };
}
