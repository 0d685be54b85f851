import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';

import { createLogger } from '../../kit/src';
import { sleep } from '../../stack/src/process';
import { startGitLabStandin, type GitLabStandin } from '../../stack/src/services/gitlab';
import { standinUsers } from './gitlab-sign-in';

const client = { id: 'renku-keycloak', secret: 'renku-keycloak-standin-secret' };
/** Registered without a port: a loopback redirect URI matches on any port. */
const redirectUri = 'http://127.0.0.1:41234/realms/renku/broker/gitlab/endpoint';
const lifetimeSec = 2;

interface TokenResponse {
  access_token: string;
  refresh_token: string;
  id_token?: string;
  expires_in: number;
  scope: string;
  token_type: string;
}

/** The GitLab stand-in as an OAuth 2 / OpenID Connect provider, the way Keycloak uses it. */
describe('the GitLab stand-in as OpenID Connect provider', () => {
  let standin: GitLabStandin;

  beforeAll(async () => {
    standin = await startGitLabStandin({
      accessTokenLifetimeSec: lifetimeSec,
      log: createLogger('gitlab-standin', 'silent'),
    });
  });

  afterAll(() => standin?.stop());

  const authorizeUrl = (params: Record<string, string>) =>
    `${standin.url}/oauth/authorize?${new URLSearchParams({
      client_id: client.id,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'openid profile email api',
      state: 'state-1',
      ...params,
    })}`;

  /** Signs in at the form and answers the redirect's query. */
  async function authorize(
    params: Record<string, string> = {},
    user: { username: string; password: string } = standinUsers.ada,
  ): Promise<{ status: number; query?: URLSearchParams }> {
    const page = await fetch(authorizeUrl(params));
    const html = await page.text();
    const fields = new URLSearchParams();
    for (const [, name, value] of html.matchAll(
      /<input type="hidden" name="([^"]+)" value="([^"]*)">/g,
    )) {
      fields.set(
        name,
        value.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c))),
      );
    }
    fields.set('user[login]', user.username);
    fields.set('user[password]', user.password);
    const answer = await fetch(`${standin.url}/oauth/authorize`, {
      method: 'POST',
      body: fields,
      redirect: 'manual',
    });
    const location = answer.headers.get('location');
    return { status: answer.status, query: location ? new URL(location).searchParams : undefined };
  }

  async function token(body: Record<string, string>, secret = client.secret) {
    const response = await fetch(`${standin.url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.id}:${secret}`).toString('base64')}`,
      },
      body: new URLSearchParams(body),
    });
    return {
      status: response.status,
      body: (await response.json()) as TokenResponse & { error?: string },
    };
  }

  async function apiUser(accessToken: string) {
    const response = await fetch(`${standin.url}/api/v4/user`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    return { status: response.status, body: (await response.json()) as { username?: string } };
  }

  it('publishes its endpoints and keys below its own address', async () => {
    const discovery = (await (
      await fetch(`${standin.url}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;

    expect(discovery).toMatchObject({
      issuer: standin.url,
      authorization_endpoint: `${standin.url}/oauth/authorize`,
      token_endpoint: `${standin.url}/oauth/token`,
      userinfo_endpoint: `${standin.url}/oauth/userinfo`,
      jwks_uri: `${standin.url}/oauth/discovery/keys`,
      id_token_signing_alg_values_supported: ['RS256'],
    });
    const keys = (await (await fetch(`${standin.url}/oauth/discovery/keys`)).json()) as {
      keys: { kty: string; alg: string }[];
    };
    expect(keys.keys).toEqual([expect.objectContaining({ kty: 'RSA', alg: 'RS256' })]);
  });

  it('never redirects to a client or redirect URI it does not know', async () => {
    const strangers: Record<string, string>[] = [
      { client_id: 'stranger' },
      { redirect_uri: 'https://attacker.example/realms/renku/broker/gitlab/endpoint' },
      { redirect_uri: 'http://127.0.0.1:41234/realms/other/broker/gitlab/endpoint' },
    ];
    for (const params of strangers) {
      const answer = await fetch(authorizeUrl(params), { redirect: 'manual' });
      expect(answer.status).toBe(400);
      expect(answer.headers.get('location')).toBeNull();
    }
  });

  it('sends a scope the application may not ask for back as invalid_scope', async () => {
    const answer = await fetch(authorizeUrl({ scope: 'openid sudo' }), { redirect: 'manual' });

    expect(answer.status).toBe(302);
    const query = new URL(answer.headers.get('location')!).searchParams;
    expect(query.get('error')).toBe('invalid_scope');
    expect(query.get('state')).toBe('state-1');
  });

  it('refuses a wrong password with the form again', async () => {
    const answer = await authorize({}, { username: 'ada.analyst', password: 'guess' });

    expect(answer).toEqual({ status: 401, query: undefined });
  });

  it('issues tokens for a code, with an ID token naming the user, and each code once', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const { query } = await authorize({
      nonce: 'nonce-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const code = query!.get('code')!;
    expect(query!.get('state')).toBe('state-1');

    const grant = { grant_type: 'authorization_code', code, redirect_uri: redirectUri };
    const issued = await token({ ...grant, code_verifier: verifier });
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: lifetimeSec,
      scope: 'openid profile email api',
    });

    const claims = await verifiedClaims(issued.body.id_token!);
    expect(claims).toMatchObject({
      iss: standin.url,
      sub: '1',
      aud: client.id,
      nonce: 'nonce-1',
      email: 'ada.analyst@example.org',
    });
    expect((await apiUser(issued.body.access_token)).body.username).toBe('ada.analyst');
    const userinfo = await fetch(`${standin.url}/oauth/userinfo`, {
      headers: { authorization: `Bearer ${issued.body.access_token}` },
    });
    expect(await userinfo.json()).toMatchObject({
      sub: '1',
      preferred_username: 'ada.analyst',
      email: 'ada.analyst@example.org',
    });

    expect((await token({ ...grant, code_verifier: verifier })).body.error).toBe('invalid_grant');
  });

  it('refuses a code with a wrong PKCE verifier or a wrong client secret', async () => {
    const challenge = createHash('sha256').update('x'.repeat(43)).digest('base64url');
    const first = (
      await authorize({ code_challenge: challenge, code_challenge_method: 'S256' })
    ).query!.get('code')!;
    const second = (await authorize()).query!.get('code')!;

    const grant = { grant_type: 'authorization_code', redirect_uri: redirectUri };
    expect((await token({ ...grant, code: first, code_verifier: 'y'.repeat(43) })).body.error).toBe(
      'invalid_grant',
    );
    expect(await token({ ...grant, code: second }, 'wrong-secret')).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
  });

  it('lists in userinfo the groups a user belongs to, through ancestors too', async () => {
    const code = (await authorize({}, standinUsers.ben)).query!.get('code')!;
    const issued = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
    });

    const userinfo = await fetch(`${standin.url}/oauth/userinfo`, {
      headers: { authorization: `Bearer ${issued.body.access_token}` },
    });
    expect(await userinfo.json()).toMatchObject({
      sub: '2',
      nickname: 'ben.bayes',
      groups: ['sdsc', 'sdsc/teaching', 'sdsc/teaching/hs2026'],
    });
    expect(await verifiedClaims(issued.body.id_token!)).toMatchObject({ groups_direct: ['sdsc'] });
  });

  it('lets its access tokens expire and rotates them on refresh', async () => {
    const code = (await authorize()).query!.get('code')!;
    const issued = (
      await token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri })
    ).body;

    const refreshed = await token({
      grant_type: 'refresh_token',
      refresh_token: issued.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).not.toBe(issued.access_token);
    // The old pair stops working at once.
    expect((await apiUser(issued.access_token)).status).toBe(401);
    expect(
      (await token({ grant_type: 'refresh_token', refresh_token: issued.refresh_token })).body
        .error,
    ).toBe('invalid_grant');
    expect((await apiUser(refreshed.body.access_token)).status).toBe(200);

    await sleep(lifetimeSec * 1000 + 500);

    expect((await apiUser(refreshed.body.access_token)).status).toBe(401);
  });

  /** Checks the ID token's RS256 signature with the published key and answers its claims. */
  async function verifiedClaims(idToken: string): Promise<Record<string, unknown>> {
    const [header, payload, signature] = idToken.split('.');
    const { keys } = (await (await fetch(`${standin.url}/oauth/discovery/keys`)).json()) as {
      keys: (Record<string, string> & { kid: string })[];
    };
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string };
    const key = createPublicKey({ key: keys.find((each) => each.kid === kid)!, format: 'jwk' });
    const valid = verify(
      'RSA-SHA256',
      Buffer.from(`${header}.${payload}`),
      key,
      Buffer.from(signature, 'base64url'),
    );
    expect(valid).toBe(true);
    return JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  }
});
