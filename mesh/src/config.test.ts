import { readGitLabConfig } from './config';

describe('readGitLabConfig', () => {
  it('defaults to the local stand-in with metrics and traces off', () => {
    expect(readGitLabConfig({})).toEqual({
      port: 4005,
      host: '127.0.0.1',
      gitlabUrl: 'http://127.0.0.1:8929',
      observability: { logLevel: 'info', metrics: undefined, tracing: undefined },
    });
  });

  it('reads the observability settings and names a bad one', () => {
    const config = readGitLabConfig({ LOG_LEVEL: 'debug', METRICS_PORT: '0' });

    expect(config.observability.logLevel).toBe('debug');
    expect(config.observability.metrics?.port).toBe(0);
    expect(() => readGitLabConfig({ LOG_LEVEL: 'chatty' })).toThrow(/LOG_LEVEL/);
  });
});
