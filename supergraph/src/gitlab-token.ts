import { backendError } from '@renku-supergraph/kit';
import { createHash } from 'node:crypto';

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

interface Remembered {
  token: Promise<string | undefined>;
  until: number;
}

/**
 * The callers' GitLab tokens, each remembered for a short while under a hash of
 * the caller's own access token: a page of requests costs Keycloak one userinfo
 * call, not one per request. Keyed by the credential itself, so an entry can
 * only ever answer the same caller; a token changed in Keycloak shows after
 * `ttlMs` at the latest. Failed lookups are not remembered.
 */
export class GitLabTokens {
  private readonly entries = new Map<string, Remembered>();

  constructor(
    private readonly lookup: (authorization: string) => Promise<string | undefined>,
    /** Default 60 s. */
    private readonly ttlMs = 60_000,
    /** Default 10,000 callers; the oldest entry goes first. */
    private readonly maxEntries = 10_000,
  ) {}

  get(authorization: string, now = Date.now()): Promise<string | undefined> {
    const key = createHash('sha256').update(authorization).digest('base64url');
    const known = this.entries.get(key);
    if (known && known.until > now) return known.token;

    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    const token = this.lookup(authorization);
    this.entries.set(key, { token, until: now + this.ttlMs });
    token.catch(() => {
      if (this.entries.get(key)?.token === token) this.entries.delete(key);
    });
    return token;
  }
}
