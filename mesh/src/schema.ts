import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type GraphQLSchema } from 'graphql';
import fs from 'node:fs';
import path from 'node:path';

import { resolvers } from './resolvers';

/** The SDL composition reads too; the same file from `src/` and from `dist/`. */
export const schemaFile = path.join(__dirname, '..', 'schema.graphql');

/**
 * The served schema is built from the advertised SDL itself, so `_service { sdl }` and what
 * composition reads cannot drift apart. The REST operations Mesh generated stay internal.
 */
export function buildGitLabSchema(): GraphQLSchema {
  const typeDefs = parse(fs.readFileSync(schemaFile, 'utf8'));
  return buildSubgraphSchema({ typeDefs, resolvers: resolvers as GraphQLResolverMap<unknown> });
}
