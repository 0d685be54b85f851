import { readPort, readString, readUrl } from '@renku-supergraph/kit';

export interface Neo4jConfig {
  /** Bolt URL; default `bolt://127.0.0.1:7687`. */
  uri: string;
  /** Absent when the database runs without authentication (the local stack). */
  user?: string;
  password?: string;
}

export interface LineageConfig {
  /** Default 4003; 0 picks a free port. */
  port: number;
  /** Default `127.0.0.1`. */
  host: string;
  neo4j: Neo4jConfig;
}

export function readLineageConfig(env: Record<string, string | undefined>): LineageConfig {
  return {
    port: readPort(env, 'PORT', 4003),
    host: readString(env, 'HOST', '127.0.0.1'),
    neo4j: readNeo4jConfig(env),
  };
}

export function readNeo4jConfig(env: Record<string, string | undefined>): Neo4jConfig {
  const user = env.NEO4J_USER || undefined;
  const password = env.NEO4J_PASSWORD || undefined;
  if (user && !password) readString(env, 'NEO4J_PASSWORD');
  return { uri: readUrl(env, 'NEO4J_URI', 'bolt://127.0.0.1:7687'), user, password };
}
