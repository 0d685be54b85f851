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
 * Reads users through Keycloak's admin REST API as the `renku-identity`
 * service account (client credentials). The only thing kept between requests
 * is that service account's own token, never user data.
 */
export class KeycloakAdmin {
  private serviceToken?: { value: string; renewAt: number };
  private renewing?: Promise<string>;

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
  private async get<T>(resource: string, retried = false): Promise<T | null> {
    const url = `${this.config.url}/admin/realms/${encodeURIComponent(this.config.realm)}/${resource}`;
    const token = await this.token();

    let response: Response;
    try {
      response = await fetchWithin(
        url,
        { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } },
        requestTimeoutMs,
      );
    } catch (error) {
      throw this.unavailable(error);
    }
    this.log.debug({ resource, status: response.status }, 'keycloak admin API');

    if (response.status === 404) return null;
    // Keycloak may end the service account's session before the token says (a restart).
    if (response.status === 401 && !retried) {
      this.serviceToken = undefined;
      return this.get<T>(resource, true);
    }
    if (!response.ok) {
      const cause = new Error(`keycloak admin API answered ${response.status} for ${resource}`);
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
      response = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: clientSecret,
        }),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
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
