import { ConfigError, readPort, readString, readUrl } from '@renku-supergraph/kit';

type Env = Record<string, string | undefined>;

export interface Neo4jConfig {
  /** `NEO4J_URI`, default `bolt://127.0.0.1:7687`. */
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

export interface ProjectsConfig {
  /** `PORT`, default 4002; 0 picks a free port. */
  port: number;
  /** `HOST`, default `127.0.0.1`. */
  host: string;
  neo4j: Neo4jConfig;
  /** Where `updateProject` changes a project first. */
  gitlab: {
    /** `GITLAB_URL`, default `http://127.0.0.1:8929` (the local stand-in), without `/api/v4`. */
    url: string;
    /** `GITLAB_TIMEOUT_MS`, default 10000: how long a change waits for GitLab's answer. */
    timeoutMs: number;
  };
  auth: {
    /** `KEYCLOAK_ISSUER`, default `http://127.0.0.1:8080/realms/renku`. */
    issuer: string;
    /** `KEYCLOAK_JWKS_URL`, default: the issuer's `/protocol/openid-connect/certs`. */
    jwksUrl?: string;
    /** `KEYCLOAK_AUDIENCE`, default `renku-supergraph`. */
    audience: string;
  };
}

const boltSchemes = ['bolt:', 'bolt+s:', 'bolt+ssc:', 'neo4j:', 'neo4j+s:', 'neo4j+ssc:'];

export function readProjectsConfig(env: Env): ProjectsConfig {
  const uri = readUrl(env, 'NEO4J_URI', 'bolt://127.0.0.1:7687');
  if (!boltSchemes.includes(new URL(uri).protocol)) {
    throw new ConfigError('NEO4J_URI', `must be a bolt:// or neo4j:// URI, not "${uri}"`);
  }

  return {
    port: readPort(env, 'PORT', 4002),
    host: readString(env, 'HOST', '127.0.0.1'),
    neo4j: {
      uri,
      credentials: readCredentials(env),
      database: readString(env, 'NEO4J_DATABASE', 'neo4j'),
      retryTimeoutMs: readMilliseconds(env, 'NEO4J_RETRY_TIMEOUT_MS', 5000),
    },
    gitlab: {
      url: readUrl(env, 'GITLAB_URL', 'http://127.0.0.1:8929'),
      timeoutMs: readMilliseconds(env, 'GITLAB_TIMEOUT_MS', 10_000),
    },
    auth: {
      issuer: readUrl(env, 'KEYCLOAK_ISSUER', 'http://127.0.0.1:8080/realms/renku'),
      jwksUrl: env.KEYCLOAK_JWKS_URL ? readUrl(env, 'KEYCLOAK_JWKS_URL') : undefined,
      audience: readString(env, 'KEYCLOAK_AUDIENCE', 'renku-supergraph'),
    },
  };
}

function readCredentials(env: Env): Neo4jConfig['credentials'] {
  const user = env.NEO4J_USER || undefined;
  const password = env.NEO4J_PASSWORD || undefined;
  if (user === undefined && password === undefined) return undefined;
  if (user === undefined) throw new ConfigError('NEO4J_USER', 'is required with NEO4J_PASSWORD');
  if (password === undefined) {
    throw new ConfigError('NEO4J_PASSWORD', 'is required with NEO4J_USER');
  }
  return { user, password };
}

function readMilliseconds(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigError(name, `must be a whole number of milliseconds, not "${raw}"`);
  }
  return value;
}
