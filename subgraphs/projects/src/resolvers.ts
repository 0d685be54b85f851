import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { DateTime, ErrorCode, apiError, type BaseContext } from '@renku-supergraph/kit';
import type { GraphQLError } from 'graphql';

import type { Catalogue } from './catalogue';
import { decodeCursor, encodeCursor } from './cursor';
import type { Dataset } from './dataset';
import type { Loaders } from './loader';
import { pageSize } from './paging';
import { isProjectPath, type Project } from './project';
import type { SearchIndex, Workflow } from './search';
import { searchResolvers } from './search-resolvers';
import { updateProject, type ProjectUpdater } from './update';
import { memberOf, visibleTo, type Caller } from './visibility';

export interface ProjectsContext extends BaseContext, Loaders {
  /** Why the caller's token did not verify; every root field fails with it. */
  authFailure?: GraphQLError;
  caller: Caller;
  catalogue: Catalogue;
  searchIndex: SearchIndex;
  updater: ProjectUpdater;
  /** The caller's GitLab token, from the `x-gitlab-token` header the gateway sets. */
  gitlabToken?: string;
}

function checkPath(path: string, argument: string): void {
  if (!isProjectPath(path)) {
    throw apiError(ErrorCode.BadUserInput, `\`${argument}\` must look like namespace/project`, {
      argument,
    });
  }
}

/** The project of something the caller saw a moment ago; NOT_FOUND if it has gone since. */
async function projectOf(path: string, context: ProjectsContext): Promise<Project> {
  const project = await context.projects.load(path);
  if (project === null) throw apiError(ErrorCode.NotFound, `project ${path} is no longer visible`);
  return project;
}

export const resolvers: GraphQLResolverMap<ProjectsContext> = {
  DateTime,

  Visibility: { PUBLIC: 'public', INTERNAL: 'internal', PRIVATE: 'private' },

  Query: {
    project: (_: unknown, args: { path: string }, context: ProjectsContext) => {
      checkPath(args.path, 'path');
      return context.projects.load(args.path);
    },

    projects: async (
      _: unknown,
      args: { first?: number | null; after?: string | null },
      context: ProjectsContext,
    ) => {
      const first = pageSize(args.first);
      const after = args.after == null ? null : decodeCursor('path', args.after);

      const access = {
        visibilities: visibleTo(context.caller),
        memberOf: memberOf(context.caller),
      };
      const page = await context.catalogue.page(access, first, after);
      const edges = page.projects.map((project) => {
        // Fields other subgraphs add to these projects then need no second lookup.
        context.projects.prime(project.path, project);
        return { cursor: encodeCursor('path', project.path), node: project };
      });

      return {
        edges,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
        // Counted only when asked for: it is a query of its own.
        totalCount: () => context.catalogue.count(access),
      };
    },

    dataset: (
      _: unknown,
      args: { projectPath: string; identifier?: string | null; slug?: string | null },
      context: ProjectsContext,
    ) => {
      checkPath(args.projectPath, 'projectPath');
      const { identifier, slug } = args;
      if ((identifier == null) === (slug == null)) {
        throw apiError(ErrorCode.BadUserInput, 'give exactly one of `identifier` and `slug`', {
          argument: identifier == null ? 'identifier' : 'slug',
        });
      }
      return context.datasets.load(
        identifier != null
          ? { projectPath: args.projectPath, by: 'identifier', value: identifier }
          : { projectPath: args.projectPath, by: 'slug', value: slug as string },
      );
    },

    ...searchResolvers.Query,
  },

  Mutation: { updateProject },

  Project: {
    __resolveReference: (reference: Pick<Project, 'path'>, context: ProjectsContext) =>
      context.projects.load(reference.path),

    datasets: (project: Project, _: unknown, context: ProjectsContext) =>
      context.datasetsOf.load(project.path),
  },

  Dataset: {
    __resolveReference: (
      reference: Pick<Dataset, 'projectPath' | 'identifier'>,
      context: ProjectsContext,
    ) =>
      context.datasets.load({
        projectPath: reference.projectPath,
        by: 'identifier',
        value: reference.identifier,
      }),

    files: (dataset: Dataset, _: unknown, context: ProjectsContext) =>
      context.files.load(dataset.key),

    project: (dataset: Dataset, _: unknown, context: ProjectsContext) =>
      projectOf(dataset.projectPath, context),

    usedIn: (dataset: Dataset, _: unknown, context: ProjectsContext) =>
      context.usedIn.load(dataset.origin),
  },

  Workflow: {
    project: (workflow: Workflow, _: unknown, context: ProjectsContext) =>
      projectOf(workflow.projectPath, context),
  },

  ...searchResolvers.types,
};
