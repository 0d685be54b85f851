import { backendError, type Logger } from '@renku-supergraph/kit';
import { createHash } from 'node:crypto';

/** A caller's GitLab access token and, when known, when it stops working. */
export interface GitLabCredential {
  token: string;
  /** Milliseconds since the epoch. */
  expiresAt?: number;
}

export interface GitLabTokenSource {
  /** Keycloak's broker token endpoint: `<issuer>/broker/<alias>/token`. */
  brokerTokenUrl: string;
  /**
   * The local stack's fallback for users who never signed in with GitLab: a userinfo claim
   * mapped from a user attribute (stack/keycloak/README.md). Off unless both are set.
   */
  userinfoUrl?: string;
  userinfoClaim?: string;
  log: Logger;
}

/**
 * Looks the caller's GitLab token up as the caller: first the token Keycloak stored when the
 * user signed in through the identity provider `gitlab`, then, where configured, the userinfo
 * claim. Undefined when the user has neither (GitLab then answers as to anyone).
 */
export function gitLabTokenLookup(
  source: GitLabTokenSource,
): (authorization: string) => Promise<GitLabCredential | undefined> {
  const { userinfoUrl, userinfoClaim } = source;
  return async (authorization) => {
    const brokered = await fetchBrokeredGitLabToken(
      source.brokerTokenUrl,
      authorization,
      source.log,
    );
    if (brokered || !userinfoUrl || !userinfoClaim) return brokered;
    return fetchGitLabTokenClaim(userinfoUrl, userinfoClaim, authorization);
  };
}

/**
 * Reads the stored broker token with the caller's own access token, which Keycloak accepts
 * when it carries the `broker` client role `read-token`. Keycloak answers the token response
 * GitLab gave it, refreshed at GitLab first when it is about to expire.
 */
export async function fetchBrokeredGitLabToken(
  url: string,
  authorization: string,
  log: Logger,
): Promise<GitLabCredential | undefined> {
  const response = await ask(url, authorization);

  // 400: no GitLab identity linked to this user (or Keycloak's session of the token is gone);
  // 404: linked before tokens were stored. Either way the caller has no GitLab token.
  if (response.status === 400 || response.status === 404) return undefined;
  if (response.status === 403) {
    log.warn(
      'Keycloak refused to hand out a stored GitLab token: give users the broker client role read-token',
    );
    return undefined;
  }
  // 502 is Keycloak failing to refresh the token at GitLab: GitLab is out of reach, or the
  // refresh token was revoked there.
  if (!response.ok) {
    throw backendError('keycloak', new Error(`keycloak broker token answered ${response.status}`));
  }

  let stored: { access_token?: unknown; accessTokenExpiration?: unknown };
  try {
    stored = (await response.json()) as typeof stored;
  } catch {
    throw backendError('keycloak', new Error('keycloak broker token is not a token response'));
  }
  if (typeof stored.access_token !== 'string' || stored.access_token === '') return undefined;
  // Keycloak adds `accessTokenExpiration` (seconds since the epoch) when it stores a response.
  const expiration = stored.accessTokenExpiration;
  return {
    token: stored.access_token,
    expiresAt: typeof expiration === 'number' && expiration > 0 ? expiration * 1000 : undefined,
  };
}

/**
 * Asks Keycloak's userinfo endpoint, as the caller, for a claim holding a GitLab token. Only
 * userinfo carries such a claim, never the access token, so the subgraphs, which all see the
 * access token, never see a GitLab token.
 */
export async function fetchGitLabTokenClaim(
  userinfoUrl: string,
  claim: string,
  authorization: string,
): Promise<GitLabCredential | undefined> {
  const response = await ask(userinfoUrl, authorization);
  if (!response.ok) {
    throw backendError('keycloak', new Error(`keycloak userinfo answered ${response.status}`));
  }
  const claims = (await response.json()) as Record<string, unknown>;
  const token = claims[claim];
  return typeof token === 'string' && token !== '' ? { token } : undefined;
}

async function ask(url: string, authorization: string): Promise<Response> {
  try {
    return await fetch(url, {
      headers: { authorization, accept: 'application/json' },
      signal: AbortSignal.timeout(5000),
    });
  } catch (error) {
    throw backendError('keycloak', error);
  }
}

interface Remembered {
  token: Promise<string | undefined>;
  until: number;
}

/** A token is not handed to a subgraph in its last half minute: the request may outlast it. */
const expiryMarginMs = 30_000;

/**
 * The callers' GitLab tokens, each remembered for a short while under a hash of the caller's
 * own access token: a page of requests costs Keycloak one lookup, not one per request. Keyed
 * by the credential itself, so an entry can only ever answer the same caller; a token changed
 * in Keycloak shows after `ttlMs` at the latest, and a token about to expire is asked for
 * again (Keycloak then refreshes it at GitLab). Failed lookups are not remembered.
 */
export class GitLabTokens {
  private readonly entries = new Map<string, Remembered>();

  constructor(
    private readonly lookup: (authorization: string) => Promise<GitLabCredential | undefined>,
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
    const entry: Remembered = { token: Promise.resolve(undefined), until: now + this.ttlMs };
    entry.token = this.lookup(authorization).then(
      (credential) => {
        // Shorten the entry to the token's own life, less the margin.
        if (credential?.expiresAt !== undefined) {
          entry.until = Math.min(entry.until, credential.expiresAt - expiryMarginMs);
        }
        return credential?.token;
      },
      (error: unknown) => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
        throw error;
      },
    );
    this.entries.set(key, entry);
    return entry.token;
  }
}
