import { createLogger, type Running } from '../../kit/src';
import { keycloakDemoUsers, startKeycloak, type Keycloak } from '../../stack/src/services/keycloak';
import { passwordGrant } from '../../stack/src/tokens';
import { readIdentityConfig, startIdentitySubgraph } from '../../subgraphs/identity/src';
import { countHttpRequests } from './counting-proxies';

// Issue #7: Keycloak calls per query. A proxy in front of Keycloak counts the calls of
// its admin API (token and key requests are cached and not counted). Entity fetches are
// sent as the gateway sends them, so the catalogue need not run.

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

const sizes = [1, 10, 100];
const usernames = Array.from({ length: 100 }, (_, i) => `calls.user-${String(i).padStart(3, '0')}`);

let keycloak: Keycloak;
let adminCalls: Awaited<ReturnType<typeof countHttpRequests>>;
let subgraph: Running;
let ada: string;

beforeAll(async () => {
  keycloak = await startKeycloak();
  await createUsers(keycloak);
  adminCalls = await countHttpRequests(keycloak.url, (_method, path) => path.startsWith('/admin/'));
  subgraph = await startIdentitySubgraph(
    readIdentityConfig({
      PORT: '0',
      KEYCLOAK_URL: adminCalls.url,
      KEYCLOAK_ISSUER: keycloak.issuer,
      IDENTITY_CLIENT_SECRET: keycloak.identityClientSecret,
    }),
    createLogger('identity', 'silent'),
  );
  ada = await passwordGrant({ issuer: keycloak.issuer, ...keycloakDemoUsers.ada });
}, 600_000);

afterAll(async () => {
  await subgraph?.stop();
  await adminCalls?.stop();
  await keycloak?.stop();
});

async function createUsers(server: Keycloak): Promise<void> {
  const grant = await fetch(`${server.url}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: server.adminUser,
      password: server.adminPassword,
    }),
  });
  const { access_token: token } = (await grant.json()) as { access_token: string };
  for (const [i, username] of usernames.entries()) {
    const created = await fetch(`${server.url}/admin/realms/${server.realm}/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username, firstName: 'Calls', lastName: `User ${i}`, enabled: true }),
    });
    if (created.status !== 201) throw new Error(`creating ${username}: ${created.status}`);
  }
}

async function ask(query: string, variables: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(subgraph.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ada}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Answer;
}

async function adminCallsFor(
  query: string,
  variables: (n: number) => Record<string, unknown>,
  check: (data: Record<string, any>, n: number) => void,
): Promise<number[]> {
  const counts: number[] = [];
  for (const n of sizes) {
    adminCalls.reset();
    const answer = await ask(query, variables(n));
    expect(answer.errors).toBeUndefined();
    check(answer.data!, n);
    counts.push(adminCalls.count());
  }
  if (process.env.BACKEND_CALLS_DEBUG) process.stderr.write(`${query.slice(0, 60)} -> ${counts}\n`);
  return counts;
}

describe('Keycloak calls per query', () => {
  it('asks Keycloak the same number of times for a page of 1, 10 and 100 users', async () => {
    const counts = await adminCallsFor(
      `query ($n: Int!) { users(search: "calls.user", first: $n) { edges { node { id username name } } totalCount } }`,
      (n) => ({ n }),
      (data, n) => expect(data.users.edges).toHaveLength(n),
    );

    expect(counts[0]).toBeGreaterThan(0);
    expect(counts).toEqual([counts[0], counts[0], counts[0]]);
  });

  // Keycloak's admin API looks users up one at a time, so a batch of distinct usernames costs
  // one call each (at most 8 in flight); repeated usernames are fetched once, and the sessions
  // a caller sees all have the caller as owner. TODO(#7): a bulk lookup would make this one call.
  it('asks Keycloak once per distinct username for 1, 10 and 100 users', async () => {
    const counts = await adminCallsFor(
      `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id username name } } }`,
      (n) => ({
        representations: usernames
          .slice(0, n)
          .map((username) => ({ __typename: 'User', username })),
      }),
      (data, n) => {
        expect(data._entities).toHaveLength(n);
        for (const user of data._entities) expect(user.name).toMatch(/^Calls User/);
      },
    );

    expect(counts).toEqual(sizes);
  });

  it('asks Keycloak once for 100 references to the same user', async () => {
    const counts = await adminCallsFor(
      `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id username name } } }`,
      (n) => ({ representations: Array(n).fill({ __typename: 'User', username: usernames[0] }) }),
      (data, n) => expect(data._entities).toHaveLength(n),
    );

    expect(counts).toEqual([1, 1, 1]);
  });
});
