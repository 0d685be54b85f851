import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { ErrorCode, apiError, type BaseContext } from '@renku-supergraph/kit';

import type { Catalogue } from './catalogue';
import { decodeCursor, encodeCursor } from './cursor';
import { DateTime } from './datetime';
import type { ProjectLoader } from './loader';
import { isProjectPath, type Project } from './project';
import { visibleTo, type Caller } from './visibility';

export interface ProjectsContext extends BaseContext {
  caller: Caller;
  catalogue: Catalogue;
  projects: ProjectLoader;
}

const maxPageSize = 100;

export const resolvers: GraphQLResolverMap<ProjectsContext> = {
  DateTime,

  Visibility: { PUBLIC: 'public', INTERNAL: 'internal', PRIVATE: 'private' },

  Query: {
    project: (_: unknown, args: { path: string }, context: ProjectsContext) => {
      if (!isProjectPath(args.path)) {
        throw apiError(ErrorCode.BadUserInput, '`path` must look like namespace/project', {
          argument: 'path',
        });
      }
      return context.projects.load(args.path);
    },

    projects: async (
      _: unknown,
      args: { first?: number | null; after?: string | null },
      context: ProjectsContext,
    ) => {
      // An explicit null means the same as leaving the argument out.
      const first = args.first ?? 20;
      if (!Number.isInteger(first) || first < 1 || first > maxPageSize) {
        throw apiError(ErrorCode.BadUserInput, `\`first\` must be from 1 to ${maxPageSize}`, {
          argument: 'first',
        });
      }
      const after = args.after == null ? null : decodeCursor('path', args.after);

      const visibilities = visibleTo(context.caller);
      const page = await context.catalogue.page(visibilities, first, after);
      const edges = page.projects.map((project) => {
        // Fields other subgraphs add to these projects then need no second lookup.
        context.projects.prime(project.path, project);
        return { cursor: encodeCursor('path', project.path), node: project };
      });

      return {
        edges,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
        // Counted only when asked for: it is a query of its own.
        totalCount: () => context.catalogue.count(visibilities),
      };
    },
  },

  Project: {
    __resolveReference: (reference: Pick<Project, 'path'>, context: ProjectsContext) =>
      context.projects.load(reference.path),
  },
};
