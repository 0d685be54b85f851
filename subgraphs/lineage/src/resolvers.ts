import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import type { BaseContext } from '@renku-supergraph/kit';
import type { Driver } from 'neo4j-driver';

import { viewerOf } from './authorize';
import { findLineage, type LineageDirection } from './lineage';

export interface LineageContext extends BaseContext {
  driver: Driver;
}

interface LineageArgs {
  filePath: string;
  direction: LineageDirection;
  depth?: number | null;
}

export const resolvers: GraphQLResolverMap<LineageContext> = {
  Query: {
    lineage: (_root, args: LineageArgs & { projectPath: string }, context) =>
      findLineage(context.driver, viewerOf(context), args),
  },
  Project: {
    // Only the key is needed: lineage checks the project's visibility itself.
    __resolveReference: (reference: { path: string }) => ({ path: reference.path }),
    lineage: (project: { path: string }, args: LineageArgs, context) =>
      findLineage(context.driver, viewerOf(context), { ...args, projectPath: project.path }),
  },
};
