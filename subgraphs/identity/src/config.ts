import {
  ConfigError,
  readObservabilityConfig,
  readPort,
  readString,
  readUrl,
  type ObservabilityConfig,
} from '@renku-supergraph/kit';

type Env = Record<string, string | undefined>;

export interface IdentityConfig {
  /** `PORT`, default 4001; 0 picks a free port. */
  port: number;
  /** `HOST`, default `127.0.0.1`. */
  host: string;
  keycloak: KeycloakConfig;
  /** `LOG_LEVEL`, `METRICS_*`, `OTEL_*`: see kit's observability.ts. */
  observability: ObservabilityConfig;
}

export interface KeycloakConfig {
  /** `KEYCLOAK_URL`, default `http://127.0.0.1:8080`: where this service reaches Keycloak. */
  url: string;
  /** `KEYCLOAK_REALM`, default `renku`. */
  realm: string;
  /**
   * `KEYCLOAK_ISSUER`, default `<KEYCLOAK_URL>/realms/<KEYCLOAK_REALM>`: the issuer that
   * tokens name, which differs from the internal address when browsers reach Keycloak elsewhere.
   */
  issuer: string;
  /** `KEYCLOAK_AUDIENCE`, default `renku-supergraph`: the audience access tokens must carry. */
  audience: string;
  /** `KEYCLOAK_CLOCK_TOLERANCE_SEC`, default 30: clock skew allowed for `exp` and `nbf`. */
  clockToleranceSec: number;
  /** `IDENTITY_CLIENT_ID`, default `renku-identity`: the service account's client. */
  clientId: string;
  /** `IDENTITY_CLIENT_SECRET`, required. */
  clientSecret: string;
}

export function readIdentityConfig(env: Env): IdentityConfig {
  const url = readUrl(env, 'KEYCLOAK_URL', 'http://127.0.0.1:8080');
  const realm = readString(env, 'KEYCLOAK_REALM', 'renku');

  return {
    port: readPort(env, 'PORT', 4001),
    host: readString(env, 'HOST', '127.0.0.1'),
    keycloak: {
      url,
      realm,
      issuer: readUrl(env, 'KEYCLOAK_ISSUER', `${url}/realms/${encodeURIComponent(realm)}`),
      audience: readString(env, 'KEYCLOAK_AUDIENCE', 'renku-supergraph'),
      clockToleranceSec: readSeconds(env, 'KEYCLOAK_CLOCK_TOLERANCE_SEC', 30),
      clientId: readString(env, 'IDENTITY_CLIENT_ID', 'renku-identity'),
      clientSecret: readString(env, 'IDENTITY_CLIENT_SECRET'),
    },
    observability: readObservabilityConfig(env, 'identity'),
  };
}

function readSeconds(env: Env, name: string, fallback: number): number {
  const value = Number(readString(env, name, String(fallback)));
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigError(name, 'must be a whole number of seconds');
  }
  return value;
}
