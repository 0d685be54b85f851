import { ConfigError, readPort, readString, readUrl } from '@renku-supergraph/kit';
import path from 'node:path';

import { readResourceClasses, type ResourceClasses } from './resource-classes';

type Env = Record<string, string | undefined>;

export interface SessionsConfig {
  /** `PORT`, default 4004; 0 picks a free port. */
  port: number;
  /** `HOST`, default `127.0.0.1`. */
  host: string;
  hub: {
    /** `JUPYTERHUB_API_URL`, default `http://127.0.0.1:8081/hub/api`. */
    apiUrl: string;
    /** `JUPYTERHUB_URL`, default `http://127.0.0.1:8000`: the public proxy session URLs use. */
    publicUrl: string;
    /** `JUPYTERHUB_API_TOKEN`, required: the token of the hub service `renku-sessions`. */
    token: string;
  };
  /** The knowledge graph that says which projects a caller may see. */
  neo4j: {
    /** `NEO4J_URI`, default `bolt://127.0.0.1:7687`. */
    uri: string;
    /** `NEO4J_USER` and `NEO4J_PASSWORD`: both or neither; neither means no authentication. */
    credentials?: { user: string; password: string };
    /** `NEO4J_DATABASE`, default `neo4j`. */
    database: string;
    /**
     * `NEO4J_RETRY_TIMEOUT_MS`, default 5000: how long a read is retried while Neo4j is
     * unreachable before the caller gets BACKEND_UNAVAILABLE (the driver's own 30 s outlasts
     * a gateway's patience).
     */
    retryTimeoutMs: number;
  };
  auth: {
    /** `KEYCLOAK_ISSUER`, default `http://127.0.0.1:8080/realms/renku`. */
    issuer: string;
    /** `KEYCLOAK_JWKS_URL`, default: the issuer's `/protocol/openid-connect/certs`. */
    jwksUrl?: string;
    /** `KEYCLOAK_AUDIENCE`, default `renku-supergraph`. */
    audience: string;
  };
  /**
   * `SESSIONS_GIT_URL`, default none: the base URL (or `file://` folder) of the projects' git
   * repositories; a session of `ns/name` clones `<base>/ns/name.git`. Without it sessions start
   * in an empty working folder.
   */
  gitBaseUrl?: string;
  /**
   * `SESSIONS_RESOURCE_CLASSES_FILE`, default the committed `resource-classes.json` of this
   * workspace: the classes `sessionOptions` offers. The hub must enforce the same file.
   */
  resourceClasses: ResourceClasses;
  /**
   * `JUPYTERHUB_SESSIONS_DIR`, default none: the spawner's working folders
   * (`<dir>/<user>/<server>/`) as this process sees them. `sessionLogs` reads the servers' logs
   * there, and failure reasons outlive a hub restart through it; without it `sessionLogs` fails
   * and a failure is known only while the hub remembers it.
   */
  sessionsDir?: string;
}

/** The committed default, beside `src/` and `dist/` alike. */
export const defaultResourceClassesFile = path.join(__dirname, '..', 'resource-classes.json');

export function readSessionsConfig(env: Env): SessionsConfig {
  return {
    port: readPort(env, 'PORT', 4004),
    host: readString(env, 'HOST', '127.0.0.1'),
    hub: {
      apiUrl: readUrl(env, 'JUPYTERHUB_API_URL', 'http://127.0.0.1:8081/hub/api'),
      publicUrl: readUrl(env, 'JUPYTERHUB_URL', 'http://127.0.0.1:8000'),
      token: readString(env, 'JUPYTERHUB_API_TOKEN'),
    },
    neo4j: {
      uri: readBoltUri(env),
      credentials: readNeo4jCredentials(env),
      database: readString(env, 'NEO4J_DATABASE', 'neo4j'),
      retryTimeoutMs: readMilliseconds(env, 'NEO4J_RETRY_TIMEOUT_MS', 5000),
    },
    auth: {
      issuer: readUrl(env, 'KEYCLOAK_ISSUER', 'http://127.0.0.1:8080/realms/renku'),
      jwksUrl: env.KEYCLOAK_JWKS_URL ? readUrl(env, 'KEYCLOAK_JWKS_URL') : undefined,
      audience: readString(env, 'KEYCLOAK_AUDIENCE', 'renku-supergraph'),
    },
    gitBaseUrl: env.SESSIONS_GIT_URL ? readUrl(env, 'SESSIONS_GIT_URL') : undefined,
    resourceClasses: readResourceClasses(
      readString(env, 'SESSIONS_RESOURCE_CLASSES_FILE', defaultResourceClassesFile),
    ),
    sessionsDir: env.JUPYTERHUB_SESSIONS_DIR
      ? path.resolve(readString(env, 'JUPYTERHUB_SESSIONS_DIR'))
      : undefined,
  };
}

const boltSchemes = ['bolt:', 'bolt+s:', 'bolt+ssc:', 'neo4j:', 'neo4j+s:', 'neo4j+ssc:'];

function readBoltUri(env: Env): string {
  const uri = readUrl(env, 'NEO4J_URI', 'bolt://127.0.0.1:7687');
  if (!boltSchemes.includes(new URL(uri).protocol)) {
    throw new ConfigError('NEO4J_URI', `must be a bolt:// or neo4j:// URI, not "${uri}"`);
  }
  return uri;
}

function readNeo4jCredentials(env: Env): SessionsConfig['neo4j']['credentials'] {
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
