import type { GraphQLError } from 'graphql';
import { createHmac, generateKeyPairSync, sign as signBytes, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { createTokenVerifier, type TokenVerifier } from '../../kit/src/auth';
import { freePort } from '../../stack/src/ports';

/**
 * The verifier against an issuer of our own: a real HTTP server publishing a
 * real key set, so that tokens Keycloak would never issue (expired, HMAC,
 * unsigned, foreign keys) can be put to it.
 */
describe('token verifier', () => {
  const audience = 'renku-supergraph';
  let issuer: string;
  let server: http.Server;
  let signingKey: KeyObject;
  let foreignKey: KeyObject;
  let verify: TokenVerifier;
  let jwk: object;

  beforeAll(async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    signingKey = pair.privateKey;
    foreignKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };

    server = http.createServer((req, res) => {
      if (req.url?.endsWith('/protocol/openid-connect/certs')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [jwk] }));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/renku`;
    verify = createTokenVerifier({ issuer, audience, clockToleranceSec: 5 });
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  const now = () => Math.floor(Date.now() / 1000);
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');

  const claims = (): Record<string, unknown> => ({
    iss: issuer,
    aud: ['account', audience],
    azp: 'renku-cli',
    sub: 'd865d9fe-0b66-4443-9253-c237378dba24',
    typ: 'Bearer',
    preferred_username: 'ada.analyst',
    name: 'Ada Analyst',
    email: 'ada.analyst@example.org',
    realm_access: { roles: ['default-roles-renku', 'renku-admin'] },
  });

  /** A compact JWS, signed RS256 the way Keycloak signs. */
  async function sign(
    payload: Record<string, unknown>,
    options: { key?: KeyObject; exp?: number } = {},
  ): Promise<string> {
    const body = { iat: now(), exp: options.exp ?? now() + 300, ...payload };
    const input = `${encode({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${encode(body)}`;
    const signature = signBytes('sha256', Buffer.from(input), options.key ?? signingKey);
    return `${input}.${signature.toString('base64url')}`;
  }

  async function rejection(authorization: string, verifier = verify): Promise<GraphQLError> {
    try {
      await verifier(authorization);
    } catch (error) {
      return error as GraphQLError;
    }
    throw new Error('the verifier accepted the token');
  }

  it('refuses a token issued to a client this API does not serve (azp)', async () => {
    const token = await sign({ ...claims(), azp: 'renku-notebooks' });
    expect((await rejection(`Bearer ${token}`)).message).toMatch(/another client/);
    const none = claims();
    delete none.azp;
    expect((await rejection(`Bearer ${await sign(none)}`)).extensions.code).toBe('UNAUTHENTICATED');
  });

  it('treats a request without Authorization header as anonymous', async () => {
    await expect(verify(undefined)).resolves.toBeUndefined();
    await expect(verify('')).resolves.toBeUndefined();
  });

  it('turns a valid access token into the caller with id, username, name, e-mail and roles', async () => {
    const token = await sign(claims());

    await expect(verify(`Bearer ${token}`)).resolves.toEqual({
      id: 'd865d9fe-0b66-4443-9253-c237378dba24',
      username: 'ada.analyst',
      name: 'Ada Analyst',
      email: 'ada.analyst@example.org',
      roles: ['default-roles-renku', 'renku-admin'],
      token,
    });
  });

  it('accepts the scheme name in any case', async () => {
    const token = await sign(claims());

    await expect(verify(`bearer ${token}`)).resolves.toMatchObject({ username: 'ada.analyst' });
  });

  it.each([
    ['an expired token', async () => sign(claims(), { exp: now() - 60 }), /expired/],
    ['a token not valid yet', async () => sign({ ...claims(), nbf: now() + 600 }), /not valid yet/],
    [
      'a token of another issuer',
      async () => sign({ ...claims(), iss: 'http://127.0.0.1:1/realms/renku' }),
      /another issuer/,
    ],
    [
      'a token for another audience',
      async () => sign({ ...claims(), aud: 'account' }),
      /audience renku-supergraph/,
    ],
    [
      'a token signed by a key the issuer does not publish',
      async () => sign(claims(), { key: foreignKey }),
      /not signed by the issuer/,
    ],
    ['an ID token', async () => sign({ ...claims(), typ: 'ID' }), /not an access token/],
    ['a token without subject', async () => sign({ ...claims(), sub: undefined }), /no subject/],
    ['a token that is not a JWT', async () => 'not.a.jwt', /malformed/],
  ])('rejects %s as UNAUTHENTICATED', async (_, token, message) => {
    const error = await rejection(`Bearer ${await token()}`);

    expect(error.extensions.code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(message);
  });

  it('rejects an unsigned token (`alg: none`) before looking at its claims', async () => {
    const token = `${encode({ alg: 'none' })}.${encode({ ...claims(), exp: now() + 300 })}.`;

    const error = await rejection(`Bearer ${token}`);

    expect(error.extensions.code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(/RS256 or ES256/);
  });

  it('rejects an HMAC-signed token even when its secret is the public key', async () => {
    const input = `${encode({ alg: 'HS256', kid: 'k1' })}.${encode({ ...claims(), exp: now() + 300 })}`;
    const mac = createHmac('sha256', JSON.stringify(jwk)).update(input).digest('base64url');
    const token = `${input}.${mac}`;

    const error = await rejection(`Bearer ${token}`);

    expect(error.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('rejects a scheme other than Bearer without repeating the credentials', async () => {
    const error = await rejection('Basic YWRhOnNlY3JldA==');

    expect(error.extensions.code).toBe('UNAUTHENTICATED');
    expect(error.message).not.toContain('YWRhOnNlY3JldA');
  });

  it('answers BACKEND_UNAVAILABLE when the key set cannot be fetched', async () => {
    const unreachable = createTokenVerifier({
      issuer,
      jwksUrl: `http://127.0.0.1:${await freePort()}/certs`,
      audience,
    });

    const error = await rejection(`Bearer ${await sign(claims())}`, unreachable);

    expect(error.extensions.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.extensions.backend).toBe('keycloak');
  });

  it('keeps verifying with the keys it has while Keycloak is away, past the cache age', async () => {
    let published: object[] = [jwk];
    const keycloak = http.createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => keycloak.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(keycloak.address() as AddressInfo).port}/certs`;
    // A cache age of 0: every verification asks for the key set again.
    const verifier = createTokenVerifier({ issuer, jwksUrl, audience, keyCacheMaxAgeSec: 0 });
    const token = `Bearer ${await sign(claims())}`;
    const unknownKey = `${encode({ alg: 'RS256', typ: 'JWT', kid: 'k2' })}.${encode(claims())}.AAAA`;

    try {
      expect(await verifier(token)).toMatchObject({ username: 'ada.analyst' });

      // Keycloak answers without our key: it no longer vouches for it.
      published = [];
      expect((await rejection(token, verifier)).extensions.code).toBe('UNAUTHENTICATED');
      published = [jwk];
      expect(await verifier(token)).toMatchObject({ username: 'ada.analyst' });
    } finally {
      await new Promise((resolve) => keycloak.close(resolve));
    }

    // Keycloak is away: the last key set still verifies, a key never seen cannot be checked.
    expect(await verifier(token)).toMatchObject({ username: 'ada.analyst' });
    const error = await rejection(`Bearer ${unknownKey}`, verifier);
    expect(error.extensions).toMatchObject({ code: 'BACKEND_UNAVAILABLE', backend: 'keycloak' });
  });
});
