import { defaultWebhookConfig, readLineageConfig } from './config';

describe('readLineageConfig', () => {
  it('defaults to the local stack', () => {
    expect(readLineageConfig({})).toEqual({
      port: 4003,
      host: '127.0.0.1',
      neo4j: { uri: 'bolt://127.0.0.1:7687', user: undefined, password: undefined },
      auth: {
        issuer: 'http://127.0.0.1:8080/realms/renku',
        jwksUrl: undefined,
        audience: 'renku-supergraph',
        clockToleranceSec: 30,
      },
      webhooks: { ...defaultWebhookConfig, renkuCommand: undefined },
      observability: { logLevel: 'info', metrics: undefined, tracing: undefined },
    });
  });

  it('names the setting that is wrong', () => {
    expect(() => readLineageConfig({ NEO4J_URI: 'not a url' })).toThrow(/NEO4J_URI/);
    expect(() => readLineageConfig({ PORT: 'high' })).toThrow(/PORT/);
    expect(() => readLineageConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => readLineageConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel:4318' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    expect(() => readLineageConfig({ NEO4J_USER: 'neo4j' })).toThrow(/NEO4J_PASSWORD/);
    expect(() => readLineageConfig({ LINEAGE_WORKER_POLL_MS: '0' })).toThrow(
      /LINEAGE_WORKER_POLL_MS/,
    );
  });

  it('reads the webhook settings', () => {
    const { webhooks } = readLineageConfig({
      LINEAGE_WORKER: 'false',
      LINEAGE_RENKU_CLI: '/opt/renku/bin/renku',
      LINEAGE_CLONE_URL_PREFIXES: 'http://127.0.0.1:8929/, file:///srv/git/',
      LINEAGE_MAX_EXPORT_MB: '5',
    });
    expect(webhooks).toMatchObject({
      worker: false,
      renkuCommand: '/opt/renku/bin/renku',
      cloneUrlPrefixes: ['http://127.0.0.1:8929/', 'file:///srv/git/'],
      maxExportBytes: 5 * 1024 * 1024,
    });
  });

  it('refuses a clone URL prefix that does not end with a slash', () => {
    expect(() =>
      readLineageConfig({ LINEAGE_CLONE_URL_PREFIXES: 'https://gitlab.example.org' }),
    ).toThrow(/LINEAGE_CLONE_URL_PREFIXES.*"https:\/\/gitlab.example.org" must end with "\/"/);
  });
});
