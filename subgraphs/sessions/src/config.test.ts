import { ConfigError } from '@renku-supergraph/kit';

import { readSessionsConfig } from './config';

const required = { JUPYTERHUB_API_TOKEN: 'token' };

describe('the Neo4j settings of the sessions subgraph', () => {
  it('defaults to the local graph without authentication', () => {
    expect(readSessionsConfig(required).neo4j).toEqual({
      uri: 'bolt://127.0.0.1:7687',
      credentials: undefined,
      database: 'neo4j',
      retryTimeoutMs: 5000,
    });
  });

  it('reads the URI, the credentials, the database and the retry time', () => {
    const config = readSessionsConfig({
      ...required,
      NEO4J_URI: 'neo4j+s://graph.example:7687',
      NEO4J_USER: 'sessions',
      NEO4J_PASSWORD: 'secret',
      NEO4J_DATABASE: 'renku',
      NEO4J_RETRY_TIMEOUT_MS: '0',
    });
    expect(config.neo4j).toEqual({
      uri: 'neo4j+s://graph.example:7687',
      credentials: { user: 'sessions', password: 'secret' },
      database: 'renku',
      retryTimeoutMs: 0,
    });
  });

  it.each([
    [{ NEO4J_URI: 'http://127.0.0.1:7474' }, 'NEO4J_URI'],
    [{ NEO4J_USER: 'sessions' }, 'NEO4J_PASSWORD'],
    [{ NEO4J_PASSWORD: 'secret' }, 'NEO4J_USER'],
    [{ NEO4J_RETRY_TIMEOUT_MS: 'soon' }, 'NEO4J_RETRY_TIMEOUT_MS'],
  ])('refuses %j naming %s', (env, setting) => {
    const read = () => readSessionsConfig({ ...required, ...env });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(setting);
  });
});

describe('the observability settings of the sessions subgraph', () => {
  it('are read with the rest of its configuration', () => {
    expect(readSessionsConfig({ ...required, LOG_LEVEL: 'error' }).observability).toEqual({
      logLevel: 'error',
      metrics: undefined,
      tracing: undefined,
    });
  });

  it.each([
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ METRICS_PORT: '9464', METRICS_MAX_OPERATIONS: '0' }, 'METRICS_MAX_OPERATIONS'],
  ])('refuses %j naming %s', (env, setting) => {
    const read = () => readSessionsConfig({ ...required, ...env });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(setting);
  });
});
