import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { createLogger, type Running } from '../../kit/src';
import { freePort } from '../../stack/src/ports';
import { sleep } from '../../stack/src/process';
import { keycloakDemoUsers, startKeycloak, type Keycloak } from '../../stack/src/services/keycloak';
import { passwordGrant } from '../../stack/src/tokens';
import { readIdentityConfig, startIdentitySubgraph } from '../../subgraphs/identity/src';
import { readSessionsConfig, startSessionsSubgraph } from '../../subgraphs/sessions/src';
import { readGatewayConfig, startGateway } from '../../supergraph/src';
import { composeSupergraph } from '../../supergraph/src/compose';
import { audienceMapper, claimsOf, headerOf, RealmAdmin } from './keycloak-admin';

interface Answer {
  status: number;
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

const repo = path.resolve(__dirname, '..', '..');
const silent = (name: string) => createLogger(name, 'silent');
const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');

/**
 * Bearer tokens against a real Keycloak whose public address (the issuer,
 * `localhost`) differs from the one services use (`127.0.0.1`), at the gateway
 * and at the subgraphs themselves.
 */
describe('bearer tokens on a real Keycloak', () => {
  let keycloak: Keycloak;
  let admin: RealmAdmin;
  let identity: Running;
  let sessions: Running;
  let gateway: Running;
  let keyFetches: string[] = [];
  let keyProxy: http.Server;
  let workDir: string;
  let internalIssuer: string;
  let ada: string;

  beforeAll(async () => {
    const httpPort = await freePort();
    keycloak = await startKeycloak({ httpPort, publicUrl: `http://localhost:${httpPort}` });
    admin = new RealmAdmin(keycloak);
    internalIssuer = `${keycloak.url}/realms/renku`;
    const keycloakEnv = {
      KEYCLOAK_URL: keycloak.url,
      KEYCLOAK_ISSUER: keycloak.issuer,
      KEYCLOAK_CLOCK_TOLERANCE_SEC: '1',
    };

    identity = await startIdentitySubgraph(
      readIdentityConfig({
        PORT: '0',
        ...keycloakEnv,
        IDENTITY_CLIENT_SECRET: keycloak.identityClientSecret,
      }),
      silent('identity'),
    );
    // No JupyterHub: only the caller matters here, and it is decided before the hub is asked.
    sessions = await startSessionsSubgraph(
      readSessionsConfig({
        PORT: '0',
        JUPYTERHUB_API_URL: `http://127.0.0.1:${await freePort()}/hub/api`,
        JUPYTERHUB_API_TOKEN: 'unused',
        KEYCLOAK_ISSUER: keycloak.issuer,
        KEYCLOAK_JWKS_URL: `${internalIssuer}/protocol/openid-connect/certs`,
      }),
      silent('sessions'),
    );

    // The gateway fetches the realm's keys through this counter.
    keyProxy = http.createServer(async (_req, res) => {
      keyFetches.push(new Date().toISOString());
      const upstream = await fetch(`${internalIssuer}/protocol/openid-connect/certs`);
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      res.end(await upstream.text());
    });
    await new Promise<void>((resolve) => keyProxy.listen(0, '127.0.0.1', resolve));

    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-gateway-'));
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
    gateway = await startGateway(
      readGatewayConfig({
        PORT: '0',
        SUPERGRAPH_FILE: supergraphFile,
        ...keycloakEnv,
        KEYCLOAK_JWKS_URL: `http://127.0.0.1:${(keyProxy.address() as AddressInfo).port}/certs`,
      }),
      silent('gateway'),
    );

    ada = await passwordGrant({ issuer: internalIssuer, ...keycloakDemoUsers.ada });
  }, 600_000);

  afterAll(async () => {
    await gateway?.stop();
    await sessions?.stop();
    await identity?.stop();
    await new Promise((resolve) => keyProxy?.close(resolve));
    await keycloak?.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  async function ask(url: string, query: string, token?: string): Promise<Answer> {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, ...((await response.json()) as object) };
  }

  const codes = (answer: Answer) => answer.errors?.map((error) => error.extensions?.code);

  it('names the public issuer in tokens fetched at the internal address', () => {
    expect(keycloak.issuer).toMatch(/^http:\/\/localhost:/);
    expect(claimsOf(ada).iss).toBe(keycloak.issuer);
  });

  it('accepts a valid token at the gateway and at each subgraph', async () => {
    const viaGateway = await ask(gateway.url, '{ me { username } }', ada);
    const direct = await ask(identity.url, '{ me { username } }', ada);

    expect(viaGateway).toEqual({ status: 200, data: { me: { username: 'ada.analyst' } } });
    expect(direct).toEqual({ status: 200, data: { me: { username: 'ada.analyst' } } });
  });

  describe('refuses with UNAUTHENTICATED', () => {
    const tampered: [string, () => Promise<string>][] = [
      [
        'an unsigned token (alg: none)',
        async () => `${encode({ ...headerOf(ada), alg: 'none' })}.${ada.split('.')[1]}.`,
      ],
      [
        'a token whose claims were changed after signing',
        async () => {
          const [header, , signature] = ada.split('.');
          const claims = { ...claimsOf(ada), preferred_username: 'grace.admin' };
          return `${header}.${encode(claims)}.${signature}`;
        },
      ],
      [
        "a token for another client's audience",
        async () => {
          const token = await passwordGrant({
            issuer: internalIssuer,
            clientId: 'renku-notebooks',
            ...keycloakDemoUsers.ada,
          });
          expect(claimsOf(token).aud ?? []).not.toContain('renku-supergraph');
          return token;
        },
      ],
      [
        'an expired token',
        async () => {
          await admin.createPasswordClient('renku-short-lived', {
            attributes: { 'access.token.lifespan': '1' },
          });
          const token = await passwordGrant({
            issuer: internalIssuer,
            clientId: 'renku-short-lived',
            ...keycloakDemoUsers.ada,
          });
          // Past its expiry and every service's clock tolerance (the sessions subgraph keeps the
          // default of 30 s; the gateway and identity subgraph are set to 1 s here).
          await sleep(33_000);
          return token;
        },
      ],
      [
        'a token not valid yet',
        async () => {
          await admin.createPasswordClient('renku-not-yet', {
            mappers: [
              {
                name: 'not before in an hour',
                protocol: 'openid-connect',
                protocolMapper: 'oidc-hardcoded-claim-mapper',
                config: {
                  'claim.name': 'nbf',
                  'claim.value': String(Math.floor(Date.now() / 1000) + 3600),
                  'jsonType.label': 'long',
                  'access.token.claim': 'true',
                },
              },
            ],
          });
          const token = await passwordGrant({
            issuer: internalIssuer,
            clientId: 'renku-not-yet',
            ...keycloakDemoUsers.ada,
          });
          expect(claimsOf(token).nbf).toBeGreaterThan(Date.now() / 1000 + 3000);
          return token;
        },
      ],
      [
        "a token of another realm's issuer",
        async () => {
          await admin.request('POST', '', {
            realm: 'elsewhere',
            enabled: true,
            clients: [
              {
                clientId: 'renku-cli',
                publicClient: true,
                directAccessGrantsEnabled: true,
                protocolMappers: [audienceMapper],
              },
            ],
            users: [
              {
                username: 'ada.analyst',
                enabled: true,
                email: 'ada.analyst@example.org',
                firstName: 'Ada',
                lastName: 'Analyst',
                credentials: [{ type: 'password', value: 'elsewhere-password', temporary: false }],
              },
            ],
          });
          return passwordGrant({
            issuer: `${keycloak.url}/realms/elsewhere`,
            username: 'ada.analyst',
            password: 'elsewhere-password',
          });
        },
      ],
    ];

    it.each(tampered)('%s, with HTTP 401 at the gateway and at each subgraph', async (_, make) => {
      const token = await make();

      const viaGateway = await ask(gateway.url, '{ me { username } }', token);
      const viaIdentity = await ask(identity.url, '{ me { username } }', token);
      const viaSessions = await ask(sessions.url, '{ sessions { name } }', token);

      expect(viaGateway.status).toBe(401);
      expect(codes(viaGateway)).toEqual(['UNAUTHENTICATED']);
      expect(viaGateway.data ?? null).toBeNull();
      // A subgraph answers 200 with the failed field: a bad token is neither a 500 nor anonymous.
      expect(viaIdentity).toMatchObject({ status: 200, data: { me: null } });
      expect(codes(viaIdentity)).toEqual(['UNAUTHENTICATED']);
      expect(viaSessions.status).toBe(200);
      expect(codes(viaSessions)).toEqual(['UNAUTHENTICATED']);
    });
  });

  it('answers anonymous requests at each subgraph without private data', async () => {
    const viaIdentity = await ask(
      identity.url,
      '{ me { id } user(username: "ada.analyst") { email } }',
    );
    const viaSessions = await ask(sessions.url, '{ sessions { name } }');

    expect(viaIdentity).toEqual({ status: 200, data: { me: null, user: { email: null } } });
    expect(viaSessions).toEqual({ status: 200, data: { sessions: [] } });
  });

  // Last: it changes the realm's keys for good.
  it('accepts tokens signed with rotated realm keys without a restart, refetching at most once a minute', async () => {
    await ask(gateway.url, '{ me { id } }', ada);
    const oldKid = headerOf(ada).kid;

    // Tokens naming keys nobody published: the first may trigger a fetch, the rest must not.
    const fetchesBefore = keyFetches.length;
    for (let i = 0; i < 5; i += 1) {
      const forged = `${encode({ ...headerOf(ada), kid: `forged-${i}` })}.${ada.split('.').slice(1).join('.')}`;
      expect(codes(await ask(gateway.url, '{ me { id } }', forged))).toEqual(['UNAUTHENTICATED']);
    }
    expect(keyFetches.length - fetchesBefore).toBeLessThanOrEqual(1);

    // A new RSA key that outranks the imported one, which is then switched off.
    const realm = await admin.request<{ id: string }>('GET', '/renku');
    const providers = await admin.request<{ id: string; providerId: string; config: object }[]>(
      'GET',
      `/renku/components?type=${encodeURIComponent('org.keycloak.keys.KeyProvider')}`,
    );
    await admin.request('POST', '/renku/components', {
      name: 'rotated-rsa',
      providerId: 'rsa-generated',
      providerType: 'org.keycloak.keys.KeyProvider',
      parentId: realm.id,
      config: { priority: ['500'], keySize: ['2048'], algorithm: ['RS256'] },
    });
    for (const provider of providers.filter((p) => p.providerId === 'rsa-generated')) {
      await admin.request('DELETE', `/renku/components/${provider.id}`);
    }

    const rotated = await passwordGrant({ issuer: internalIssuer, ...keycloakDemoUsers.bob });
    expect(headerOf(rotated).kid).not.toBe(oldKid);

    // Refused while the cooldowns (gateway, then subgraph) last, accepted once both refetched.
    let answer: Answer;
    for (;;) {
      answer = await ask(gateway.url, '{ me { username } }', rotated);
      if (!answer.errors) break;
      expect(codes(answer)).toEqual(['UNAUTHENTICATED']);
      await sleep(5000);
    }
    expect(answer).toEqual({ status: 200, data: { me: { username: 'bob.builder' } } });
    expect(await ask(identity.url, '{ me { username } }', rotated)).toMatchObject({
      data: { me: { username: 'bob.builder' } },
    });
    // Keys were fetched at most once a minute however often unknown keys were named.
    const times = keyFetches.map((at) => Date.parse(at));
    for (let i = 1; i < times.length; i += 1) {
      expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(59_000);
    }
  }, 240_000);
});
