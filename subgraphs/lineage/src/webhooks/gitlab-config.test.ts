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
});
