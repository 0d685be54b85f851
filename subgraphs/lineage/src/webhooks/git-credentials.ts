import type { GitLabApiConfig } from '../config';

/**
 * git's environment for cloning `gitUrl` with GitLab's service token, when the URL is on
 * GitLab (same scheme, host and port as GITLAB_URL): a private project's repository needs it.
 * The token travels as an HTTP header that git's configuration limits to that origin (so a
 * redirect elsewhere does not carry it), through the environment rather than the command line
 * or the URL, where process lists and git's own error messages would show it. GitLab takes a
 * token as the password of HTTP basic authentication, with any user name (`oauth2`).
 */
export function gitCredentialEnv(
  gitUrl: string,
  gitlab: GitLabApiConfig | undefined,
): Record<string, string> {
  if (!gitlab) return {};
  let origin: string;
  try {
    origin = new URL(gitUrl).origin;
  } catch {
    return {};
  }
  if (origin === 'null' || origin !== new URL(gitlab.url).origin) return {};
  const basic = Buffer.from(`oauth2:${gitlab.serviceToken}`).toString('base64');
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${origin}/.extraHeader`,
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
  };
}
