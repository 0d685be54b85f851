import {
  readNeo4jSettings,
  readObservabilityConfig,
  readPort,
  readString,
  readUrl,
  type Neo4jSettings,
  type ObservabilityConfig,
} from '@renku-supergraph/kit';
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
  neo4j: Neo4jSettings;
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
  /** `LOG_LEVEL`, `METRICS_*`, `OTEL_*`: see kit's observability.ts. */
  observability: ObservabilityConfig;
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
    neo4j: readNeo4jSettings(env),
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
    observability: readObservabilityConfig(env, 'sessions'),
  };
}
