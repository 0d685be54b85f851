import { backendError } from '@renku-supergraph/kit';

/** The user attribute (and userinfo claim) holding a user's GitLab token; see stack/keycloak/README.md. */
export const gitlabTokenClaim = 'gitlab_token';

/**
 * Asks Keycloak's userinfo endpoint, as the caller, for the caller's GitLab
 * token. Only userinfo carries the claim, never the access token, so the
 * other subgraphs, which all see the access token, never see a GitLab token.
 * Undefined when the user has none (GitLab then answers as to anyone).
 */
export async function fetchGitLabToken(
  userinfoUrl: string,
  authorization: string,
): Promise<string | undefined> {
  let response: Response;
  try {
    response = await fetch(userinfoUrl, {
      headers: { authorization, accept: 'application/json' },
      signal: AbortSignal.timeout(5000),
    });
  } catch (error) {
    throw backendError('keycloak', error);
  }
  if (!response.ok) {
    throw backendError('keycloak', new Error(`keycloak userinfo answered ${response.status}`));
  }
  const claims = (await response.json()) as Record<string, unknown>;
  const token = claims[gitlabTokenClaim];
  return typeof token === 'string' && token !== '' ? token : undefined;
}
