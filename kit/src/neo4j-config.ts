import { ConfigError, readInteger, readString, readUrl } from './config';

type Env = Record<string, string | undefined>;

/** How a subgraph reaches the knowledge graph; read by `readNeo4jSettings`. */
export interface Neo4jSettings {
  /** `NEO4J_URI`, default `bolt://127.0.0.1:7687`; `bolt` or `neo4j` schemes, with `+s`/`+ssc`. */
  uri: string;
  /** `NEO4J_USER` and `NEO4J_PASSWORD`: both or neither; neither means no authentication. */
  credentials?: { user: string; password: string };
  /** `NEO4J_DATABASE`, default `neo4j`. */
  database: string;
  /**
   * `NEO4J_RETRY_TIMEOUT_MS`, default 5000: how long a read is retried while Neo4j is
   * unreachable before the caller gets BACKEND_UNAVAILABLE. The driver's own default (30 s)
   * outlasts the patience of a gateway waiting on a subgraph.
   */
  retryTimeoutMs: number;
}

const boltSchemes = ['bolt:', 'bolt+s:', 'bolt+ssc:', 'neo4j:', 'neo4j+s:', 'neo4j+ssc:'];

export function readNeo4jSettings(env: Env): Neo4jSettings {
  const uri = readUrl(env, 'NEO4J_URI', 'bolt://127.0.0.1:7687');
  if (!boltSchemes.includes(new URL(uri).protocol)) {
    throw new ConfigError('NEO4J_URI', `must be a bolt:// or neo4j:// URI, not "${uri}"`);
  }
  return {
    uri,
    credentials: readCredentials(env),
    database: readString(env, 'NEO4J_DATABASE', 'neo4j'),
    retryTimeoutMs: readInteger(env, 'NEO4J_RETRY_TIMEOUT_MS', 5000),
  };
}

function readCredentials(env: Env): Neo4jSettings['credentials'] {
  const user = env.NEO4J_USER || undefined;
  const password = env.NEO4J_PASSWORD || undefined;
  if (user === undefined && password === undefined) return undefined;
  if (user === undefined) throw new ConfigError('NEO4J_USER', 'is required with NEO4J_PASSWORD');
  if (password === undefined) {
    throw new ConfigError('NEO4J_PASSWORD', 'is required with NEO4J_USER');
  }
  return { user, password };
}
