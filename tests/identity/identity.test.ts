import fs from 'node:fs';

import { createLogger, type Running } from '../../kit/src';
import { freePort } from '../../stack/src/ports';
import {
  keycloakDemoUsers,
  keycloakRealmFile,
  startKeycloak,
  type Keycloak,
} from '../../stack/src/services/keycloak';
import { passwordGrant } from '../../stack/src/tokens';
import { readIdentityConfig, startIdentitySubgraph } from '../../subgraphs/identity/src';

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

const realm = JSON.parse(fs.readFileSync(keycloakRealmFile, 'utf8')) as {
  users: { id?: string; username: string }[];
};
const idOf = (username: string) => realm.users.find((user) => user.username === username)!.id!;
const adaId = idOf('ada.analyst');
const bobId = idOf('bob.builder');

describe('identity subgraph on a real Keycloak', () => {
  let keycloak: Keycloak;
  let subgraph: Running;
  let ada: string;
  let grace: string;

  beforeAll(async () => {
    keycloak = await startKeycloak();
    subgraph = await startIdentitySubgraph(
      readIdentityConfig({
        PORT: '0',
        KEYCLOAK_URL: keycloak.url,
        IDENTITY_CLIENT_SECRET: keycloak.identityClientSecret,
      }),
      createLogger('identity', 'silent'),
    );
    ada = await passwordGrant({ issuer: keycloak.issuer, ...keycloakDemoUsers.ada });
    grace = await passwordGrant({ issuer: keycloak.issuer, ...keycloakDemoUsers.grace });
  }, 600_000);

  afterAll(async () => {
    await subgraph?.stop();
    await keycloak?.stop();
  });

  async function ask(
    query: string,
    options: { token?: string; authorization?: string; variables?: object; url?: string } = {},
  ): Promise<Answer & { status: number }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const authorization = options.authorization ?? (options.token && `Bearer ${options.token}`);
    if (authorization) headers.authorization = authorization;
    const response = await fetch(options.url ?? subgraph.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables: options.variables ?? {} }),
    });
    return { status: response.status, ...((await response.json()) as Answer) };
  }

  const codes = (answer: Answer) => answer.errors?.map((error) => error.extensions?.code);

  it('answers `me` with the signed-in user and her own e-mail address', async () => {
    const answer = await ask('{ me { id username name email } }', { token: ada });

    expect(answer.errors).toBeUndefined();
    expect(answer.data?.me).toEqual({
      id: adaId,
      username: 'ada.analyst',
      name: 'Ada Analyst',
      email: 'ada.analyst@example.org',
    });
  });

  it('answers `me` with null for an anonymous request', async () => {
    const answer = await ask('{ me { id } }');

    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ me: null });
  });

  it("hides another user's e-mail address from an ordinary user", async () => {
    const answer = await ask('{ user(username: "bob.builder") { id username name email } }', {
      token: ada,
    });

    expect(answer.errors).toBeUndefined();
    expect(answer.data?.user).toEqual({
      id: bobId,
      username: 'bob.builder',
      name: 'Bob Builder',
      email: null,
    });
  });

  it('shows any e-mail address to an administrator', async () => {
    const answer = await ask(`{ user(id: "${bobId}") { username email } }`, { token: grace });

    expect(answer.errors).toBeUndefined();
    expect(answer.data?.user).toEqual({
      username: 'bob.builder',
      email: 'bob.builder@example.org',
    });
  });

  it('shows a user without e-mail address to anonymous callers', async () => {
    const answer = await ask('{ user(username: "Ada.Analyst") { id name email } }');

    expect(answer.errors).toBeUndefined();
    expect(answer.data?.user).toEqual({ id: adaId, name: 'Ada Analyst', email: null });
  });

  it('answers null for a user that does not exist', async () => {
    const answer = await ask(
      '{ byName: user(username: "nobody.here") { id } byId: user(id: "x") { id } }',
      {
        token: ada,
      },
    );

    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ byName: null, byId: null });
  });

  it('refuses `user` with neither or both of id and username', async () => {
    const neither = await ask('{ user { id } }', { token: ada });
    const both = await ask(`{ user(id: "${adaId}", username: "ada.analyst") { id } }`, {
      token: ada,
    });

    expect(codes(neither)).toEqual(['BAD_USER_INPUT']);
    expect(codes(both)).toEqual(['BAD_USER_INPUT']);
  });

  it('rejects a token whose payload was changed after signing', async () => {
    const [header, payload, signature] = ada.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: bobId })).toString('base64url');

    const answer = await ask('{ me { id } }', { token: `${header}.${forged}.${signature}` });

    expect(codes(answer)).toEqual(['UNAUTHENTICATED']);
    expect(answer.data).toEqual({ me: null });
  });

  it('rejects an unsigned token (`alg: none`)', async () => {
    const payload = ada.split('.')[1];
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');

    const answer = await ask('{ me { id } }', { token: `${header}.${payload}.` });

    expect(codes(answer)).toEqual(['UNAUTHENTICATED']);
    expect(answer.errors?.[0].message).toMatch(/RS256/);
  });

  it('rejects a token issued for another audience', async () => {
    // The service account's own token is genuine, but meant for Keycloak's admin API.
    const response = await fetch(`${keycloak.issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'renku-identity',
        client_secret: keycloak.identityClientSecret,
      }),
    });
    const { access_token: token } = (await response.json()) as { access_token: string };

    const answer = await ask('{ me { id } }', { token });

    expect(codes(answer)).toEqual(['UNAUTHENTICATED']);
    expect(answer.errors?.[0].message).toMatch(/audience renku-supergraph/);
  });

  it('answers no field at all for a token that does not verify', async () => {
    const answer = await ask(
      `query ($representations: [_Any!]!) {
        user(username: "bob.builder") { id }
        _entities(representations: $representations) { ... on User { id } }
      }`,
      {
        authorization: 'Basic YWRhOnNlY3JldA==',
        variables: { representations: [{ __typename: 'User', id: bobId }] },
      },
    );

    expect(answer.data).toEqual({ user: null, _entities: [null] });
    expect(new Set(codes(answer))).toEqual(new Set(['UNAUTHENTICATED']));
    expect(JSON.stringify(answer)).not.toContain('YWRhOnNlY3JldA');
  });

  it('resolves id and username representations in the order given, unknown ones as null', async () => {
    const answer = await ask(
      `query ($representations: [_Any!]!) {
        _entities(representations: $representations) { ... on User { id username email } }
      }`,
      {
        token: ada,
        variables: {
          representations: [
            { __typename: 'User', username: 'bob.builder' },
            { __typename: 'User', id: adaId },
            { __typename: 'User', id: '00000000-0000-0000-0000-000000000000' },
            { __typename: 'User', username: 'grace.admin' },
            { __typename: 'User', username: 'nobody.here' },
            { __typename: 'User', id: bobId },
          ],
        },
      },
    );

    expect(answer.errors).toBeUndefined();
    expect(answer.data?._entities).toEqual([
      { id: bobId, username: 'bob.builder', email: null },
      { id: adaId, username: 'ada.analyst', email: 'ada.analyst@example.org' },
      null,
      { id: idOf('grace.admin'), username: 'grace.admin', email: null },
      null,
      { id: bobId, username: 'bob.builder', email: null },
    ]);
  });

  it('finds a user by the start of her username', async () => {
    const answer = await ask(
      '{ users(search: "ada") { totalCount edges { node { username name } } } }',
      { token: ada },
    );

    expect(answer.errors).toBeUndefined();
    expect(answer.data?.users.totalCount).toBe(1);
    expect(answer.data?.users.edges).toEqual([
      { node: { username: 'ada.analyst', name: 'Ada Analyst' } },
    ]);
  });

  it('pages through all users by username, without service accounts', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const answer: Answer = await ask(
        `query ($after: String) {
          users(first: 2, after: $after) {
            totalCount
            edges { cursor node { username } }
            pageInfo { hasNextPage endCursor }
          }
        }`,
        { token: ada, variables: { after } },
      );
      expect(answer.errors).toBeUndefined();
      const { edges, pageInfo, totalCount } = answer.data?.users;
      expect(totalCount).toBe(3);
      seen.push(...edges.map((edge: { node: { username: string } }) => edge.node.username));
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }

    expect(seen).toEqual(['ada.analyst', 'bob.builder', 'grace.admin']);
  });

  it('refuses to list users to anonymous callers', async () => {
    const answer = await ask('{ users { totalCount } }');

    expect(codes(answer)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses a page size out of range and a cursor it did not hand out', async () => {
    const tooMany = await ask('{ users(first: 101) { totalCount } }', { token: ada });
    const forged = await ask('{ users(after: "bm90LWEtY3Vyc29y") { totalCount } }', {
      token: ada,
    });

    expect(codes(tooMany)).toEqual(['BAD_USER_INPUT']);
    expect(codes(forged)).toEqual(['BAD_USER_INPUT']);
  });

  it('reports healthy while Keycloak accepts its service account', async () => {
    const response = await fetch(subgraph.url.replace(/\/graphql$/, '/health'));

    expect(response.status).toBe(200);
  });

  it('answers BACKEND_UNAVAILABLE, and reports unhealthy, while Keycloak is unreachable', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const orphan = await startIdentitySubgraph(
      readIdentityConfig({
        PORT: '0',
        KEYCLOAK_URL: nowhere,
        KEYCLOAK_ISSUER: keycloak.issuer,
        IDENTITY_CLIENT_SECRET: keycloak.identityClientSecret,
      }),
      createLogger('identity', 'silent'),
    );
    try {
      const lookup = await ask('{ user(username: "ada.analyst") { id } }', { url: orphan.url });
      const signedIn = await ask('{ me { id } }', { url: orphan.url, token: ada });
      const health = await fetch(orphan.url.replace(/\/graphql$/, '/health'));

      expect(codes(lookup)).toEqual(['BACKEND_UNAVAILABLE']);
      expect(lookup.errors?.[0].extensions?.backend).toBe('keycloak');
      expect(JSON.stringify(lookup)).not.toContain(nowhere);
      expect(codes(signedIn)).toEqual(['BACKEND_UNAVAILABLE']);
      expect(health.status).toBe(503);
    } finally {
      await orphan.stop();
    }
  });
});
