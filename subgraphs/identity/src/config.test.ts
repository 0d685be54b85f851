import { readIdentityConfig } from './config';

describe('identity configuration', () => {
  it('derives the issuer from the internal Keycloak address by default', () => {
    const config = readIdentityConfig({ IDENTITY_CLIENT_SECRET: 's' });

    expect(config).toEqual({
      port: 4001,
      host: '127.0.0.1',
      keycloak: {
        url: 'http://127.0.0.1:8080',
        realm: 'renku',
        issuer: 'http://127.0.0.1:8080/realms/renku',
        audience: 'renku-supergraph',
        clockToleranceSec: 30,
        clientId: 'renku-identity',
        clientSecret: 's',
      },
      observability: { logLevel: 'info', metrics: undefined, tracing: undefined },
    });
  });

  it('keeps a public issuer apart from the internal address', () => {
    const config = readIdentityConfig({
      KEYCLOAK_URL: 'http://127.0.0.1:18080/',
      KEYCLOAK_ISSUER: 'http://localhost:8080/realms/renku',
      IDENTITY_CLIENT_SECRET: 's',
    });

    expect(config.keycloak.url).toBe('http://127.0.0.1:18080');
    expect(config.keycloak.issuer).toBe('http://localhost:8080/realms/renku');
  });

  it('requires the service account secret', () => {
    expect(() => readIdentityConfig({})).toThrow('IDENTITY_CLIENT_SECRET is required');
  });

  it('names a bad setting', () => {
    expect(() => readIdentityConfig({ IDENTITY_CLIENT_SECRET: 's', PORT: 'x' })).toThrow('PORT');
    expect(() => readIdentityConfig({ IDENTITY_CLIENT_SECRET: 's', KEYCLOAK_URL: 'nope' })).toThrow(
      'KEYCLOAK_URL',
    );
  });
});

describe('observability settings of the identity subgraph', () => {
  it('are read here, once, and stop start-up naming a bad one', () => {
    const config = readIdentityConfig({
      IDENTITY_CLIENT_SECRET: 's',
      LOG_LEVEL: 'debug',
      METRICS_PORT: '9464',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318',
    });

    expect(config.observability).toEqual({
      logLevel: 'debug',
      metrics: { port: 9464, host: '127.0.0.1', maxOperations: 100 },
      tracing: { endpoint: 'http://otel:4318', serviceName: 'identity' },
    });
    expect(() => readIdentityConfig({ IDENTITY_CLIENT_SECRET: 's', LOG_LEVEL: 'loud' })).toThrow(
      /LOG_LEVEL/,
    );
  });
});
