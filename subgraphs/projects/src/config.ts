import {
  readInteger,
  readNeo4jSettings,
  readObservabilityConfig,
  readPort,
  readString,
  readUrl,
  type Neo4jSettings,
  type ObservabilityConfig,
} from '@renku-supergraph/kit';

type Env = Record<string, string | undefined>;

export type Neo4jConfig = Neo4jSettings;

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
  /** `LOG_LEVEL`, `METRICS_*`, `OTEL_*`: see kit's observability.ts. */
  observability: ObservabilityConfig;
}

export function readProjectsConfig(env: Env): ProjectsConfig {
  return {
    port: readPort(env, 'PORT', 4002),
    host: readString(env, 'HOST', '127.0.0.1'),
    neo4j: readNeo4jSettings(env),
    gitlab: {
      url: readUrl(env, 'GITLAB_URL', 'http://127.0.0.1:8929'),
      timeoutMs: readInteger(env, 'GITLAB_TIMEOUT_MS', 10_000),
    },
    auth: {
      issuer: readUrl(env, 'KEYCLOAK_ISSUER', 'http://127.0.0.1:8080/realms/renku'),
      jwksUrl: env.KEYCLOAK_JWKS_URL ? readUrl(env, 'KEYCLOAK_JWKS_URL') : undefined,
      audience: readString(env, 'KEYCLOAK_AUDIENCE', 'renku-supergraph'),
    },
    observability: readObservabilityConfig(env, 'projects'),
  };
}
