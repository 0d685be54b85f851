import { backendError, fetchWithin, type Logger } from '@renku-supergraph/kit';
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

  let stored: { access_token?: unknown; accessTokenExpiration?: unknown } | null;
  try {
    stored = (await response.json()) as typeof stored;
  } catch {
    throw backendError('keycloak', new Error('keycloak broker token is not a token response'));
  }
  // `?.`: JSON's `null` is valid JSON too.
  if (typeof stored?.access_token !== 'string' || stored.access_token === '') return undefined;
  const token = headerSafe(stored.access_token, 'keycloak broker token');
  // Keycloak adds `accessTokenExpiration` (seconds since the epoch) when it stores a response.
  const expiration = stored.accessTokenExpiration;
  return {
    token,
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
  let claims: Record<string, unknown>;
  try {
    claims = (await response.json()) as Record<string, unknown>;
  } catch {
    // Not JSON, e.g. a signed userinfo (application/jwt): its text stays out of the error.
    throw backendError('keycloak', new Error('keycloak userinfo is not JSON'));
  }
  const token = claims?.[claim];
  if (typeof token !== 'string' || token === '') return undefined;
  return { token: headerSafe(token, `keycloak userinfo claim ${claim}`) };
}

/**
 * The token as it is, if it can travel in a header. Anything else is refused without its value:
 * the HTTP client's own refusal would quote it, and that message reaches the gateway's log.
 */
function headerSafe(token: string, what: string): string {
  if (/^[\x21-\x7e]+$/.test(token)) return token;
  throw backendError('keycloak', new Error(`${what} has characters no token has`));
}

async function ask(url: string, authorization: string): Promise<Response> {
  try {
    // fetchWithin: the answer comes back read and its timer goes (kit/src/fetch-within.ts).
    return await fetchWithin(url, { headers: { authorization, accept: 'application/json' } }, 5000);
  } catch (error) {
    throw backendError('keycloak', error);
  }
}

interface Remembered {
  token: Promise<string | undefined>;
  until: number;
}

/**
 * A token in its last half minute is not remembered: every request asks Keycloak for it again.
 * The request that asked still gets it, as there is nothing better to give.
 */
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
