import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type GraphQLSchema } from 'graphql';
import fs from 'node:fs';
import path from 'node:path';

import { resolvers } from './resolvers';

/** The SDL composition reads as well; the same file from `src/` and from `dist/`. */
export const schemaFile = path.join(__dirname, '..', 'schema.graphql');

export function buildSessionsSchema(): GraphQLSchema {
  const typeDefs = parse(fs.readFileSync(schemaFile, 'utf8'));
  // Every context is a SessionsContext (see index.ts); the library's map type cannot say so.
  return buildSubgraphSchema({ typeDefs, resolvers: resolvers as GraphQLResolverMap<unknown> });
}
