import { gitCredentialEnv, inheritedEnv } from './git-credentials';

const gitlab = { url: 'https://gitlab.example.org/', serviceToken: 'glpat-service' };

describe('gitCredentialEnv', () => {
  it("gives git GitLab's token for a repository on GitLab, for that origin only", () => {
    expect(gitCredentialEnv('https://gitlab.example.org/ada/flights.git', gitlab)).toEqual({
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'http.https://gitlab.example.org/.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from('oauth2:glpat-service').toString('base64')}`,
      GIT_CONFIG_KEY_1: 'http.followRedirects',
      GIT_CONFIG_VALUE_1: 'false',
    });
  });

  it('gives nothing for another host, port or scheme, a file URL or no GitLab', () => {
    for (const url of [
      'https://gitlab.example.org.evil.example/ada/flights.git',
      'https://gitlab.example.org:8443/ada/flights.git',
      'http://gitlab.example.org/ada/flights.git',
      'file:///srv/repositories/flights',
      'not a url',
    ]) {
      expect(gitCredentialEnv(url, gitlab)).toEqual({});
    }
    expect(gitCredentialEnv('https://gitlab.example.org/ada/flights.git', undefined)).toEqual({});
  });

  it("passes git and renku the environment they need, none of the service's secrets", () => {
    expect(
      inheritedEnv({
        PATH: '/usr/bin',
        LANG: 'C.UTF-8',
        LC_ALL: 'C.UTF-8',
        HTTPS_PROXY: 'http://proxy:3128',
        no_proxy: 'localhost',
        SSL_CERT_FILE: '/etc/ssl/ca.pem',
        GITLAB_SERVICE_TOKEN: 'glpat-service',
        GITLAB_SYSTEM_HOOK_TOKEN: 'system-hook-secret',
        NEO4J_PASSWORD: 'secret',
        KEYCLOAK_GATEWAY_CLIENT_SECRET: 'secret',
        PATHOLOGICAL: 'x',
      }),
    ).toEqual({
      PATH: '/usr/bin',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      HTTPS_PROXY: 'http://proxy:3128',
      no_proxy: 'localhost',
      SSL_CERT_FILE: '/etc/ssl/ca.pem',
    });
  });
});
