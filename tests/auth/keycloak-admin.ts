import type { Keycloak } from '../../stack/src/services/keycloak';

/** Keycloak's admin REST API as the master realm's admin, for changing a running realm. */
export class RealmAdmin {
  constructor(private readonly keycloak: Keycloak) {}

  async request<T = unknown>(method: string, resource: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.keycloak.url}/admin/realms${resource}`, {
      method,
      headers: {
        authorization: `Bearer ${await this.token()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      throw new Error(`${method} ${resource}: ${response.status} ${await response.text()}`);
    }
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A public client of the `renku` realm that signs users in with the password grant. */
  async createPasswordClient(
    clientId: string,
    options: { audience?: boolean; attributes?: Record<string, string>; mappers?: object[] } = {},
  ): Promise<void> {
    await this.request('POST', '/renku/clients', {
      clientId,
      publicClient: true,
      directAccessGrantsEnabled: true,
      standardFlowEnabled: false,
      attributes: options.attributes ?? {},
      protocolMappers: [
        ...(options.audience === false ? [] : [audienceMapper]),
        ...(options.mappers ?? []),
      ],
    });
  }

  /** A fresh admin token per call: they live a minute only. */
  private token(): Promise<string> {
    return masterAdminToken(this.keycloak);
  }
}

/** An access token of the master realm's admin (`admin-cli`), as the admin console gets one. */
export async function masterAdminToken(keycloak: Keycloak): Promise<string> {
  const response = await fetch(`${keycloak.url}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: keycloak.adminUser,
      password: keycloak.adminPassword,
    }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`admin sign-in failed: ${response.status}`);
  return body.access_token;
}

/** The mapper that gives tokens the supergraph's audience, as the committed clients have it. */
export const audienceMapper = {
  name: 'renku-supergraph audience',
  protocol: 'openid-connect',
  protocolMapper: 'oidc-audience-mapper',
  config: {
    'included.custom.audience': 'renku-supergraph',
    'access.token.claim': 'true',
    'id.token.claim': 'false',
  },
};

/** The claims of a JWT, unverified: for a test's own preconditions only. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

export function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}
