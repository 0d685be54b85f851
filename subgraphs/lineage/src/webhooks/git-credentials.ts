import type { GitLabApiConfig } from '../config';

/**
 * git's environment for cloning `gitUrl` with GitLab's service token, when the URL is on
 * GitLab (same scheme, host and port as GITLAB_URL): a private project's repository needs it.
 * The token travels as an HTTP header for that origin, through the environment rather than the
 * command line or the URL, where process lists and git's own error messages would show it.
 * git matches the header's URL once, against the URL it was given, and after a redirect sends
 * it on to wherever the redirect led; so such a clone follows no redirects. GitLab takes a token
 * as the password of HTTP basic authentication, with any user name (`oauth2`).
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
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: `http.${origin}/.extraHeader`,
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    GIT_CONFIG_KEY_1: 'http.followRedirects',
    GIT_CONFIG_VALUE_1: 'false',
  };
}

/**
 * What git and renku get of the service's own environment: locale, time zone, temporary folder,
 * proxies and certificate authorities. Not the rest, which holds the service's secrets (the
 * GitLab token, the system hook's secret, Neo4j's password): a repository's hooks, renku's
 * plugins and whatever they start would read them.
 */
export function inheritedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const kept = [
    /^(PATH|LANG|LANGUAGE|TZ|TMPDIR)$/,
    /^LC_[A-Z]+$/,
    /^(https?|no|all)_proxy$/i,
    /^(SSL_CERT_FILE|SSL_CERT_DIR|GIT_SSL_CAINFO|REQUESTS_CA_BUNDLE)$/,
  ];
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && kept.some((name) => name.test(entry[0])),
    ),
  );
}
