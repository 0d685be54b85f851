import { backendError, fetchWithin, type Logger } from '@renku-supergraph/kit';

import type { KeycloakConfig } from './config';

/** The fields of Keycloak's UserRepresentation this subgraph reads. */
export interface KeycloakUser {
  id: string;
  username: string;
  firstName?: string;
  lastName?: string;
  email?: string;
}

/** Renew the service token this long before Keycloak says it expires. */
const renewMarginMs = 30_000;
const requestTimeoutMs = 5000;

/**
 * The most ids and usernames together that one call of the user-lookup extension takes
 * (`keycloak/user-lookup`); it refuses more.
 */
export const lookupBound = 500;
/** After Keycloak said it lacks the extension, ask again this much later (it may be installed). */
const lookupRecheckMs = 10 * 60_000;
/**
 * Answers to the lookup that mean this Keycloak lacks the extension (404: no such realm
 * resource) or runs a version of it that takes other requests (400, 405, 415), so users are
 * looked up one by one instead. 401, 403 and 5xx stay failures: they are no matter of version.
 */
const lookupMissingStatuses = new Set([400, 404, 405, 415]);

/**
 * Reads users through Keycloak's admin REST API, and many at once through our user-lookup
 * extension where Keycloak has it, as the `renku-identity` service account (client
 * credentials). Kept between requests: that service account's own token and whether the
 * extension answers, never user data.
 */
export class KeycloakAdmin {
  private serviceToken?: { value: string; renewAt: number };
  private renewing?: Promise<string>;
  /** Until when to take the user-lookup extension as missing; 0 while it answers. */
  private lookupMissingUntil = 0;
  private warnedLookupMissing = false;

  constructor(
    private readonly config: KeycloakConfig,
    private readonly log: Logger,
  ) {}

  /** Proves Keycloak answers now (the token may be cached) and accepts the service account. */
  async ready(): Promise<void> {
    await this.token();
    const realm = `${this.config.url}/realms/${encodeURIComponent(this.config.realm)}`;
    let response: Response;
    try {
      response = await fetchWithin(realm, undefined, requestTimeoutMs);
    } catch (error) {
      throw backendError('keycloak', error);
    }
    if (!response.ok) {
      throw backendError(
        'keycloak',
        new Error(`keycloak answered ${response.status} for ${realm}`),
      );
    }
  }

  async userById(id: string): Promise<KeycloakUser | null> {
    return this.get<KeycloakUser>(`users/${encodeURIComponent(id)}`);
  }

  async userByUsername(username: string): Promise<KeycloakUser | null> {
    const query = new URLSearchParams({ username, exact: 'true', briefRepresentation: 'true' });
    const found = (await this.get<KeycloakUser[]>(`users?${query}`)) ?? [];
    // Keycloak stores usernames in lower case and matches them case-insensitively.
    return found.find((user) => user.username === username.toLowerCase()) ?? null;
  }

  /**
   * The users with these ids and usernames, in one call of Keycloak's `renku-users` extension
   * (`keycloak/user-lookup`): each user found once, unknown keys absent, at most `lookupBound`
   * keys together. Null when this Keycloak lacks the extension or runs another version of it
   * (`lookupMissingStatuses`): the caller then asks per user.
   */
  async lookupUsers(ids: string[], usernames: string[]): Promise<KeycloakUser[] | null> {
    if (Date.now() < this.lookupMissingUntil) return null;
    const realm = encodeURIComponent(this.config.realm);
    const resource = 'renku-users/lookup';
    const response = await this.send(`${this.config.url}/realms/${realm}/${resource}`, resource, {
      method: 'POST',
      body: JSON.stringify({ ids, usernames }),
    });

    if (lookupMissingStatuses.has(response.status)) {
      await response.body?.cancel();
      this.lookupMissing(response.status);
      return null;
    }
    const found = await this.read<unknown>(response, resource);
    if (!isUserList(found)) {
      throw this.unavailable(new Error(`keycloak answered ${resource} with no list of users`));
    }
    if (this.warnedLookupMissing) {
      this.warnedLookupMissing = false;
      this.log.info('keycloak has the user-lookup extension now: users are looked up in batches');
    }
    return found;
  }

  private lookupMissing(status: number): void {
    this.lookupMissingUntil = Date.now() + lookupRecheckMs;
    if (this.warnedLookupMissing) return;
    this.warnedLookupMissing = true;
    this.log.warn(
      { extension: 'renku-users', status, howToInstall: 'docs/operations.md, section 3' },
      `keycloak answered ${status} for renku-users/lookup: it lacks the renku user-lookup extension or runs another version of it, so every user is looked up with a call of its own: build keycloak/user-lookup, put renku-keycloak-user-lookup.jar into Keycloak's providers/ folder and run kc.sh build`,
    );
  }

  /** A page of users ordered by username; `search` matches prefixes of username, names, e-mail. */
  async searchUsers(
    search: string | undefined,
    offset: number,
    max: number,
  ): Promise<KeycloakUser[]> {
    const query = new URLSearchParams({
      first: String(offset),
      max: String(max),
      briefRepresentation: 'true',
    });
    if (search) query.set('search', search);
    return (await this.get<KeycloakUser[]>(`users?${query}`)) ?? [];
  }

  async countUsers(search: string | undefined): Promise<number> {
    const query = new URLSearchParams(search ? { search } : {});
    return (await this.get<number>(`users/count?${query}`)) ?? 0;
  }

  /** GET on the realm's admin API; null for 404. */
  private async get<T>(resource: string): Promise<T | null> {
    const realm = encodeURIComponent(this.config.realm);
    return this.call<T>(`${this.config.url}/admin/realms/${realm}/${resource}`, resource);
  }

  /** A call as the service account; null for 404. `resource` names it in logs and errors. */
  private async call<T>(
    url: string,
    resource: string,
    init: { method?: string; body?: string } = {},
  ): Promise<T | null> {
    const response = await this.send(url, resource, init);
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    return this.read<T>(response, resource);
  }

  /** Sends a call as the service account, once more with a new token if Keycloak answers 401. */
  private async send(
    url: string,
    resource: string,
    init: { method?: string; body?: string },
    retried = false,
  ): Promise<Response> {
    const token = await this.token();
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
    };
    if (init.body !== undefined) headers['content-type'] = 'application/json';

    let response: Response;
    try {
      response = await fetchWithin(url, { ...init, headers }, requestTimeoutMs);
    } catch (error) {
      throw this.unavailable(error);
    }
    this.log.debug({ resource, status: response.status }, 'keycloak admin API');

    // Keycloak may end the service account's session before the token says (a restart).
    if (response.status === 401 && !retried) {
      await response.body?.cancel();
      this.serviceToken = undefined;
      return this.send(url, resource, init, true);
    }
    return response;
  }

  /** The JSON of a successful answer; any other answer is a backend failure. */
  private async read<T>(response: Response, resource: string): Promise<T> {
    if (!response.ok) {
      await response.body?.cancel();
      const cause = new Error(`keycloak answered ${response.status} for ${resource}`);
      if (response.status === 403) {
        this.log.error('the identity service account lacks its realm-management roles');
      }
      throw this.unavailable(cause);
    }
    try {
      return (await response.json()) as T;
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private async token(): Promise<string> {
    if (this.serviceToken && Date.now() < this.serviceToken.renewAt) return this.serviceToken.value;
    // Concurrent requests share one renewal.
    this.renewing ??= this.requestToken().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async requestToken(): Promise<string> {
    const { url, realm, clientId, clientSecret } = this.config;
    const tokenUrl = `${url}/realms/${encodeURIComponent(realm)}/protocol/openid-connect/token`;

    let response: Response;
    try {
      response = await fetchWithin(
        tokenUrl,
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: clientId,
            client_secret: clientSecret,
          }),
        },
        requestTimeoutMs,
      );
    } catch (error) {
      throw this.unavailable(error);
    }

    const body = (await response.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
    };
    if (!response.ok || typeof body.access_token !== 'string') {
      const cause = new Error(
        `keycloak refused the service account ${clientId}: ${response.status} ${body.error ?? ''}`,
      );
      if (response.status === 400 || response.status === 401) {
        this.log.error(
          'keycloak refused the service account: check IDENTITY_CLIENT_ID and IDENTITY_CLIENT_SECRET',
        );
      }
      throw this.unavailable(cause);
    }

    const lifetimeMs = (body.expires_in ?? 60) * 1000;
    this.serviceToken = {
      value: body.access_token,
      renewAt: Date.now() + Math.max(lifetimeMs - renewMarginMs, lifetimeMs / 2),
    };
    return body.access_token;
  }

  /** Logs a failed call where it happens; the client gets only the stable code. */
  private unavailable(cause: unknown) {
    this.log.error({ err: cause }, 'keycloak call failed');
    return backendError('keycloak', cause);
  }
}

/** Whether a lookup's answer is what the extension promises: users, each with id and username. */
function isUserList(answer: unknown): answer is KeycloakUser[] {
  return (
    Array.isArray(answer) &&
    answer.every(
      (user: unknown) =>
        typeof user === 'object' &&
        user !== null &&
        typeof (user as KeycloakUser).id === 'string' &&
        typeof (user as KeycloakUser).username === 'string',
    )
  );
}
