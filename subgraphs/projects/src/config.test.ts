import { ConfigError } from '@renku-supergraph/kit';

import { readProjectsConfig } from './config';

describe('readProjectsConfig', () => {
  it('uses the local defaults when nothing is set', () => {
    expect(readProjectsConfig({})).toEqual({
      port: 4002,
      host: '127.0.0.1',
      neo4j: {
        uri: 'bolt://127.0.0.1:7687',
        credentials: undefined,
        database: 'neo4j',
        retryTimeoutMs: 5000,
      },
      gitlab: { url: 'http://127.0.0.1:8929', timeoutMs: 10_000 },
      auth: {
        issuer: 'http://127.0.0.1:8080/realms/renku',
        jwksUrl: undefined,
        audience: 'renku-supergraph',
      },
      observability: { logLevel: 'info', metrics: undefined, tracing: undefined },
    });
  });

  it('reads every setting from the environment', () => {
    const config = readProjectsConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      NEO4J_URI: 'neo4j://graph.internal:7688',
      NEO4J_USER: 'reader',
      NEO4J_PASSWORD: 'secret',
      NEO4J_DATABASE: 'renku',
      NEO4J_RETRY_TIMEOUT_MS: '250',
      GITLAB_URL: 'https://gitlab.internal',
      GITLAB_TIMEOUT_MS: '2000',
      KEYCLOAK_ISSUER: 'http://keycloak.internal:8080/realms/renku',
      KEYCLOAK_JWKS_URL: 'http://keycloak.internal:8080/realms/renku/certs',
      KEYCLOAK_AUDIENCE: 'renku-projects',
      LOG_LEVEL: 'warn',
      METRICS_PORT: '9464',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318',
    });

    expect(config).toEqual({
      port: 0,
      host: '0.0.0.0',
      neo4j: {
        uri: 'neo4j://graph.internal:7688',
        credentials: { user: 'reader', password: 'secret' },
        database: 'renku',
        retryTimeoutMs: 250,
      },
      gitlab: { url: 'https://gitlab.internal', timeoutMs: 2000 },
      auth: {
        issuer: 'http://keycloak.internal:8080/realms/renku',
        jwksUrl: 'http://keycloak.internal:8080/realms/renku/certs',
        audience: 'renku-projects',
      },
      observability: {
        logLevel: 'warn',
        metrics: { port: 9464, host: '127.0.0.1', maxOperations: 100 },
        tracing: { endpoint: 'http://otel:4318', serviceName: 'projects' },
      },
    });
  });

  it.each([
    [{ NEO4J_URI: 'http://127.0.0.1:7474' }, 'NEO4J_URI'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    [{ METRICS_PORT: 'ninety' }, 'METRICS_PORT'],
    [{ NEO4J_URI: 'not a uri' }, 'NEO4J_URI'],
    [{ NEO4J_USER: 'reader' }, 'NEO4J_PASSWORD'],
    [{ NEO4J_PASSWORD: 'secret' }, 'NEO4J_USER'],
    [{ NEO4J_RETRY_TIMEOUT_MS: 'soon' }, 'NEO4J_RETRY_TIMEOUT_MS'],
    [{ PORT: '70000' }, 'PORT'],
    [{ KEYCLOAK_ISSUER: 'nowhere' }, 'KEYCLOAK_ISSUER'],
    [{ GITLAB_URL: 'gitlab' }, 'GITLAB_URL'],
    [{ GITLAB_TIMEOUT_MS: 'soon' }, 'GITLAB_TIMEOUT_MS'],
  ])('refuses %p naming %s', (env, setting) => {
    expect(() => readProjectsConfig(env)).toThrow(ConfigError);
    expect(() => readProjectsConfig(env)).toThrow(setting);
  });
});
