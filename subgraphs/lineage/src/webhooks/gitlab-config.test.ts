import { ConfigError } from '@renku-supergraph/kit';

import { readWebhookConfig } from '../config';

describe('GitLab settings of the webhook worker', () => {
  it('leaves membership sync off without GITLAB_URL', () => {
    expect(readWebhookConfig({}).gitlab).toBeUndefined();
  });

  it('reads GITLAB_URL and GITLAB_SERVICE_TOKEN together', () => {
    expect(
      readWebhookConfig({ GITLAB_URL: 'http://127.0.0.1:8929', GITLAB_SERVICE_TOKEN: 'token' })
        .gitlab,
    ).toEqual({ url: 'http://127.0.0.1:8929', serviceToken: 'token' });
  });

  it('refuses GITLAB_URL without GITLAB_SERVICE_TOKEN, naming the setting', () => {
    expect(() => readWebhookConfig({ GITLAB_URL: 'http://127.0.0.1:8929' })).toThrow(ConfigError);
    expect(() => readWebhookConfig({ GITLAB_URL: 'http://127.0.0.1:8929' })).toThrow(
      /GITLAB_SERVICE_TOKEN/,
    );
  });

  it('takes a system hook secret only with GITLAB_URL to read the members from', () => {
    const gitlab = { GITLAB_URL: 'http://127.0.0.1:8929', GITLAB_SERVICE_TOKEN: 'token' };
    const secret = 'a-system-hook-secret';
    expect(readWebhookConfig({ ...gitlab, GITLAB_SYSTEM_HOOK_TOKEN: secret }).systemHookToken).toBe(
      secret,
    );
    expect(readWebhookConfig(gitlab).systemHookToken).toBeUndefined();
    expect(() => readWebhookConfig({ GITLAB_SYSTEM_HOOK_TOKEN: secret })).toThrow(/GITLAB_URL/);
    expect(() => readWebhookConfig({ ...gitlab, GITLAB_SYSTEM_HOOK_TOKEN: 'short' })).toThrow(
      /at least 16/,
    );
  });
});
