import { createLogger, type Logger, type Running } from '../../kit/src';
import { keycloakDemoUsers, startKeycloak, type Keycloak } from '../../stack/src/services/keycloak';
import { passwordGrant } from '../../stack/src/tokens';
import { readIdentityConfig, startIdentitySubgraph } from '../../subgraphs/identity/src';
import { masterAdminToken } from '../auth/keycloak-admin';
import { countHttpRequests, type ProxyAnswer } from './counting-proxies';

// Issue #7: Keycloak calls per query. A proxy in front of Keycloak counts the calls of
// its admin API and of the user-lookup extension (token and key requests are cached and not
// counted). Entity fetches are sent as the gateway sends them, so the catalogue need not run.

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

const sizes = [1, 10, 100];
const usernames = Array.from({ length: 100 }, (_, i) => `calls.user-${String(i).padStart(3, '0')}`);
const byUsername = (username: string) => ({ __typename: 'User', username });
const entitiesQuery = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id username name } } }`;

type Proxy = Awaited<ReturnType<typeof countHttpRequests>>;

const lookupRoute = '/realms/renku/renku-users/';
const countsAsUserCall = (_method: string, path: string) =>
  path.startsWith('/admin/') || path.startsWith(lookupRoute);

let keycloak: Keycloak;
let adminCalls: Proxy;
let subgraph: Running;
/** The same through a proxy that answers 404 for the extension's route, as a stock Keycloak. */
let stockCalls: Proxy;
let stockSubgraph: Running;
const stockLog: { level: number; msg: string }[] = [];
/** The same through a proxy that answers the extension's route with `oddAnswer` when set. */
let oddCalls: Proxy;
let oddAnswer: ProxyAnswer | undefined;
let ada: string;

function startSubgraph(keycloakUrl: string, log: Logger): Promise<Running> {
  return startIdentitySubgraph(
    readIdentityConfig({
      PORT: '0',
      KEYCLOAK_URL: keycloakUrl,
      KEYCLOAK_ISSUER: keycloak.issuer,
      IDENTITY_CLIENT_SECRET: keycloak.identityClientSecret,
    }),
    log,
  );
}

beforeAll(async () => {
  keycloak = await startKeycloak();
  await createUsers(keycloak);
  adminCalls = await countHttpRequests(keycloak.url, countsAsUserCall);
  subgraph = await startSubgraph(adminCalls.url, createLogger('identity', 'silent'));
  stockCalls = await countHttpRequests(keycloak.url, countsAsUserCall, (_method, path) =>
    path.startsWith(lookupRoute) ? { status: 404, body: '{"error":"Not Found"}' } : undefined,
  );
  oddCalls = await countHttpRequests(keycloak.url, countsAsUserCall, (_method, path) =>
    path.startsWith(lookupRoute) ? oddAnswer : undefined,
  );
  stockSubgraph = await startSubgraph(
    stockCalls.url,
    createLogger('identity', 'warn', { write: (line: string) => stockLog.push(JSON.parse(line)) }),
  );
  ada = await passwordGrant({ issuer: keycloak.issuer, ...keycloakDemoUsers.ada });
}, 600_000);

afterAll(async () => {
  await oddCalls?.stop();
  await stockSubgraph?.stop();
  await stockCalls?.stop();
  await subgraph?.stop();
  await adminCalls?.stop();
  await keycloak?.stop();
});

async function createUsers(server: Keycloak): Promise<void> {
  const token = await masterAdminToken(server);
  for (const [i, username] of usernames.entries()) {
    const created = await fetch(`${server.url}/admin/realms/${server.realm}/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username, firstName: 'Calls', lastName: `User ${i}`, enabled: true }),
    });
    if (created.status !== 201) throw new Error(`creating ${username}: ${created.status}`);
  }
}

async function ask(
  query: string,
  variables: Record<string, unknown>,
  to: Running = subgraph,
): Promise<Answer> {
  const response = await fetch(to.url, {
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
  [to, calls]: [Running, Proxy] = [subgraph, adminCalls],
): Promise<number[]> {
  const counts: number[] = [];
  for (const n of sizes) {
    calls.reset();
    const answer = await ask(query, variables(n), to);
    expect(answer.errors).toBeUndefined();
    check(answer.data!, n);
    counts.push(calls.count());
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

  // Keycloak's admin API looks users up one at a time; the user-lookup extension
  // (keycloak/user-lookup) takes up to 500 ids and usernames per call.
  it('asks Keycloak once for 1, 10 and 100 distinct usernames', async () => {
    const counts = await adminCallsFor(
      entitiesQuery,
      (n) => ({ representations: usernames.slice(0, n).map(byUsername) }),
      (data, n) => {
        expect(data._entities).toHaveLength(n);
        for (const user of data._entities) expect(user.name).toMatch(/^Calls User/);
      },
    );

    expect(counts).toEqual([1, 1, 1]);
    expect(adminCalls.requests()).toEqual([`POST ${lookupRoute}lookup`]);
  });

  it('asks Keycloak once for ids and usernames together', async () => {
    const first = await ask(entitiesQuery, {
      representations: usernames.slice(0, 50).map(byUsername),
    });
    const ids = first.data!._entities.map((user: { id: string }) => user.id);
    adminCalls.reset();

    const answer = await ask(entitiesQuery, {
      representations: [
        ...ids.slice(0, 50).map((id: string) => ({ __typename: 'User', id })),
        ...usernames.slice(50).map(byUsername),
      ],
    });

    expect(answer.errors).toBeUndefined();
    expect(answer.data!._entities.map((user: { username: string }) => user.username)).toEqual(
      usernames,
    );
    expect(adminCalls.count()).toBe(1);
  });

  it('splits more than 500 keys into calls of at most 500', async () => {
    const unknown = Array.from({ length: 501 }, (_, i) => `nobody.${i}`);
    adminCalls.reset();

    const answer = await ask(entitiesQuery, { representations: unknown.map(byUsername) });

    expect(answer.errors).toBeUndefined();
    expect(answer.data!._entities).toEqual(Array(501).fill(null));
    expect(adminCalls.count()).toBe(2);
  });

  it('falls back to one call per distinct username, with one warning, without the extension', async () => {
    const counts = await adminCallsFor(
      entitiesQuery,
      (n) => ({ representations: usernames.slice(0, n).map(byUsername) }),
      (data, n) => {
        expect(data._entities).toHaveLength(n);
        for (const user of data._entities) expect(user.name).toMatch(/^Calls User/);
      },
      [stockSubgraph, stockCalls],
    );

    // The first query also found the extension missing, which the subgraph then remembers.
    expect(counts).toEqual([1 + 1, 10, 100]);
    const warnings = stockLog.filter((line) => line.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toMatch(/user-lookup extension/);
  });

  it('asks Keycloak once for 100 references to the same user', async () => {
    const counts = await adminCallsFor(
      entitiesQuery,
      (n) => ({ representations: Array(n).fill(byUsername(usernames[0])) }),
      (data, n) => expect(data._entities).toHaveLength(n),
    );

    expect(counts).toEqual([1, 1, 1]);
  });
});

describe('odd answers of the user-lookup extension', () => {
  let oddSubgraph: Running;
  const codes = (answer: Answer) => answer.errors?.map((error) => error.extensions?.code);

  beforeAll(async () => {
    oddSubgraph = await startSubgraph(oddCalls.url, createLogger('identity', 'silent'));
  });
  afterAll(async () => {
    oddAnswer = undefined;
    await oddSubgraph?.stop();
  });

  it.each(['{}', '"text"', '[null]', '[{"id":"x"}]', `[{"username":"${usernames[0]}"}]`])(
    'answers BACKEND_UNAVAILABLE for a 200 with %s, which is no list of users',
    async (body) => {
      oddAnswer = { status: 200, body };

      const answer = await ask(
        entitiesQuery,
        { representations: [byUsername(usernames[0])] },
        oddSubgraph,
      );

      expect(codes(answer)).toEqual(['BACKEND_UNAVAILABLE']);
    },
  );

  it.each([401, 403, 500, 503])(
    'answers BACKEND_UNAVAILABLE for a %i, without asking per user',
    async (status) => {
      oddAnswer = { status, body: '{"error":"odd"}' };
      oddCalls.reset();

      const answer = await ask(
        entitiesQuery,
        { representations: [byUsername(usernames[0])] },
        oddSubgraph,
      );

      expect(codes(answer)).toEqual(['BACKEND_UNAVAILABLE']);
      expect(oddCalls.requests().every((request) => request === `POST ${lookupRoute}lookup`)).toBe(
        true,
      );
    },
  );

  // Another version of the extension may refuse today's request instead of not knowing the route.
  it.each([400, 405, 415])(
    'falls back to one call per distinct username, with one warning naming it, for a %i',
    async (status) => {
      oddAnswer = { status, body: '{"error":"odd"}' };
      const log: { level: number; msg: string; status?: number }[] = [];
      const fallback = await startSubgraph(
        oddCalls.url,
        createLogger('identity', 'warn', { write: (line: string) => log.push(JSON.parse(line)) }),
      );
      try {
        const counts = await adminCallsFor(
          entitiesQuery,
          (n) => ({ representations: usernames.slice(0, n).map(byUsername) }),
          (data, n) => {
            expect(data._entities).toHaveLength(n);
            for (const user of data._entities) expect(user.name).toMatch(/^Calls User/);
          },
          [fallback, oddCalls],
        );

        expect(counts).toEqual([1 + 1, 10, 100]);
        const warnings = log.filter((line) => line.level === 40);
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatchObject({ status });
        expect(warnings[0].msg).toContain(String(status));
      } finally {
        await fallback.stop();
      }
    },
  );
});
