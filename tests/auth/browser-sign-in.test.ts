import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createLogger, type Running } from '../../kit/src';
import { freePort } from '../../stack/src/ports';
import { sleep } from '../../stack/src/process';
import { keycloakDemoUsers, startKeycloak, type Keycloak } from '../../stack/src/services/keycloak';
import { startRedis, type RedisServer } from '../../stack/src/services/redis';
import { readIdentityConfig, startIdentitySubgraph } from '../../subgraphs/identity/src';
import { readGatewayConfig, startGateway } from '../../supergraph/src';
import { composeSupergraph } from '../../supergraph/src/compose';
import { Browser, loginFormAction } from './browser';
import { RealmAdmin } from './keycloak-admin';

interface Answer {
  status: number;
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

const repo = path.resolve(__dirname, '..', '..');
const silent = (name: string) => createLogger(name, 'silent');
/** Short, so that the test sees sessions outlive their first access token. */
const accessTokenLifespanSec = 10;

/**
 * Browser sign-in at the gateway through Keycloak's real login form, with
 * sessions in Redis shared by two gateway replicas.
 */
describe('browser sign-in at the gateway', () => {
  let keycloak: Keycloak;
  let admin: RealmAdmin;
  let redis: RedisServer;
  let identity: Running;
  let gateway: Running;
  let replica: Running;
  let workDir: string;
  let publicUrl: string;
  let gatewayClient: { id: string; redirectUris: string[]; attributes: Record<string, string> };

  beforeAll(async () => {
    [keycloak, redis] = await Promise.all([startKeycloak(), startRedis()]);
    admin = new RealmAdmin(keycloak);
    identity = await startIdentitySubgraph(
      readIdentityConfig({
        PORT: '0',
        KEYCLOAK_URL: keycloak.url,
        IDENTITY_CLIENT_SECRET: keycloak.identityClientSecret,
      }),
      silent('identity'),
    );

    // The gateway's callback on its test port, registered with Keycloak as a real deployment would.
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    [gatewayClient] = await admin.request<(typeof gatewayClient)[]>(
      'GET',
      '/renku/clients?clientId=renku-gateway',
    );
    await admin.request('PUT', `/renku/clients/${gatewayClient.id}`, {
      ...gatewayClient,
      redirectUris: [...gatewayClient.redirectUris, `${publicUrl}/auth/callback`],
      attributes: {
        ...gatewayClient.attributes,
        'post.logout.redirect.uris': `${gatewayClient.attributes['post.logout.redirect.uris']}##${publicUrl}/*`,
      },
    });
    await admin.request('PUT', '/renku', { accessTokenLifespan: accessTokenLifespanSec });

    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-browser-'));
    const supergraphFile = path.join(workDir, 'supergraph.graphql');
    fs.writeFileSync(
      supergraphFile,
      composeSupergraph([
        {
          name: 'identity',
          routingUrl: identity.url,
          schemaFile: path.join(repo, 'subgraphs/identity/schema.graphql'),
        },
      ]),
    );
    const env = {
      SUPERGRAPH_FILE: supergraphFile,
      KEYCLOAK_URL: keycloak.url,
      KEYCLOAK_CLOCK_TOLERANCE_SEC: '1',
      KEYCLOAK_GATEWAY_CLIENT_SECRET: keycloak.gatewayClientSecret,
      GATEWAY_PUBLIC_URL: publicUrl,
      REDIS_URL: redis.url,
    };
    gateway = await startGateway(readGatewayConfig({ ...env, PORT: String(port) }), silent('gw'));
    replica = await startGateway(readGatewayConfig({ ...env, PORT: '0' }), silent('replica'));
  }, 600_000);

  afterAll(async () => {
    await replica?.stop();
    await gateway?.stop();
    await identity?.stop();
    await Promise.all([keycloak?.stop(), redis?.stop()]);
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  /** Signs in through the gateway and Keycloak's login form, as a browser would. */
  async function signIn(browser: Browser, user: { username: string; password: string }) {
    const login = await browser.follow(`${publicUrl}/auth/login?returnTo=/graphql`);
    expect(login.response.status).toBe(200);
    const action = loginFormAction(await login.response.text());

    const submitted = await browser.fetch(new URL(action, login.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...user, credentialId: '' }),
    });
    expect(submitted.status).toBe(302);
    const callback = submitted.headers.get('location')!;
    expect(callback.startsWith(`${publicUrl}/auth/callback?`)).toBe(true);

    const landed = await browser.fetch(callback);
    expect(landed.status).toBe(302);
    expect(landed.headers.get('location')).toBe('/graphql');
  }

  async function ask(browser: Browser, query: string, url = `${publicUrl}/graphql`) {
    const response = await browser.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, ...((await response.json()) as object) } as Answer;
  }

  const host = () => new URL(publicUrl).host;

  it('signs a browser in with Keycloak and answers `me` from the session cookie alone', async () => {
    const browser = new Browser();
    await signIn(browser, keycloakDemoUsers.ada);

    const session = browser.setCookies.find((line) => line.startsWith('renku_session='));
    expect(session).toMatch(/; HttpOnly/i);
    expect(session).toMatch(/; Secure/i);
    expect(session).toMatch(/; SameSite=Lax/i);
    expect(await ask(browser, '{ me { username email } }')).toEqual({
      status: 200,
      data: { me: { username: 'ada.analyst', email: 'ada.analyst@example.org' } },
    });
  });

  it('keeps the session working past its access token by refreshing it', async () => {
    const browser = new Browser();
    await signIn(browser, keycloakDemoUsers.bob);

    // The first access token is now expired, clock tolerance included.
    await sleep((accessTokenLifespanSec + 3) * 1000);

    expect(await ask(browser, '{ me { username } }')).toEqual({
      status: 200,
      data: { me: { username: 'bob.builder' } },
    });
  });

  it('shares sessions between gateway replicas through Redis', async () => {
    const browser = new Browser();
    await signIn(browser, keycloakDemoUsers.ada);
    // The same cookie, sent to the other replica.
    const answer = await fetch(replica.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        cookie: `renku_session=${browser.cookie(host(), 'renku_session')}`,
      },
      body: JSON.stringify({ query: '{ me { username } }' }),
    });

    expect(await answer.json()).toEqual({ data: { me: { username: 'ada.analyst' } } });
  });

  it('gives each of two users signed in at once exactly their own `me`', async () => {
    const adaBrowser = new Browser();
    const bobBrowser = new Browser();
    await Promise.all([
      signIn(adaBrowser, keycloakDemoUsers.ada),
      signIn(bobBrowser, keycloakDemoUsers.bob),
    ]);

    const query = '{ me { username email } }';
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0 ? ask(adaBrowser, query) : ask(bobBrowser, query),
      ),
    );

    answers.forEach((answer, i) => {
      const username = i % 2 === 0 ? 'ada.analyst' : 'bob.builder';
      expect(answer).toEqual({
        status: 200,
        data: { me: { username, email: `${username}@example.org` } },
      });
    });
  });

  it('ends the session at the gateway and at Keycloak on logout', async () => {
    const browser = new Browser();
    await signIn(browser, keycloakDemoUsers.grace);
    const cookie = browser.cookie(host(), 'renku_session');

    const out = await browser.fetch(`${publicUrl}/auth/logout`);
    expect(out.status).toBe(302);
    const endSession = new URL(out.headers.get('location')!);
    expect(endSession.href.startsWith(`${keycloak.issuer}/protocol/openid-connect/logout`)).toBe(
      true,
    );
    const back = await browser.follow(endSession.href);
    // Back where Sandbox opens, not at `/`, where the gateway serves nothing.
    expect(back.url).toBe(`${publicUrl}/graphql`);
    expect(back.response.status).not.toBe(404);

    // The old cookie names a session the gateway no longer has.
    const stale = await fetch(`${publicUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `renku_session=${cookie}` },
      body: JSON.stringify({ query: '{ me { username } }' }),
    });
    expect(stale.status).toBe(401);
    expect(await stale.json()).toMatchObject({
      errors: [{ extensions: { code: 'UNAUTHENTICATED' } }],
    });
    expect(browser.cookie(host(), 'renku_session')).toBeUndefined();

    // Keycloak asks for the password again: its single sign-on session is gone too.
    const again = await browser.follow(`${publicUrl}/auth/login`);
    expect(again.response.status).toBe(200);
    expect(loginFormAction(await again.response.text())).toContain('/login-actions/');
    const [grace] = await admin.request<{ id: string }[]>(
      'GET',
      '/renku/users?username=grace.admin&exact=true',
    );
    expect(await admin.request<unknown[]>('GET', `/renku/users/${grace.id}/sessions`)).toEqual([]);
  });

  it('refuses a callback that this browser did not start', async () => {
    const started = new Browser();
    const login = await started.follow(`${publicUrl}/auth/login`);
    const state = new URL(login.url).searchParams.get('state');

    const stranger = new Browser();
    const answer = await stranger.fetch(`${publicUrl}/auth/callback?state=${state}&code=x`);

    expect(answer.status).toBe(400);
    expect(stranger.cookie(host(), 'renku_session')).toBeUndefined();
  });
});
