import { readGitLabConfig } from './config';

describe('readGitLabConfig', () => {
  it('defaults to the local stand-in with metrics and traces off', () => {
    expect(readGitLabConfig({})).toEqual({
      port: 4005,
      host: '127.0.0.1',
      gitlabUrl: 'http://127.0.0.1:8929',
      repositoriesPerRequest: 1,
      observability: { logLevel: 'info', metrics: undefined, tracing: undefined },
    });
  });

  it('reads the observability settings and names a bad one', () => {
    const config = readGitLabConfig({ LOG_LEVEL: 'debug', METRICS_PORT: '0' });

    expect(config.observability.logLevel).toBe('debug');
    expect(config.observability.metrics?.port).toBe(0);
    expect(() => readGitLabConfig({ LOG_LEVEL: 'chatty' })).toThrow(/LOG_LEVEL/);
  });

  it('reads how many repositories one request may read and refuses none', () => {
    expect(readGitLabConfig({ GITLAB_REPOSITORIES_PER_REQUEST: '5' }).repositoriesPerRequest).toBe(
      5,
    );
    for (const bad of ['0', '-1', '1.5', '2.0', '0x10', '1e3', 'two', '9007199254740993']) {
      expect(() => readGitLabConfig({ GITLAB_REPOSITORIES_PER_REQUEST: bad })).toThrow(
        /GITLAB_REPOSITORIES_PER_REQUEST/,
      );
    }
  });
});
