import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import {
  keycloakClients,
  keycloakDemoUsers,
  keycloakRealmFile,
  startKeycloak,
  type Keycloak,
} from '../../stack/src/services/keycloak';
import { passwordGrant } from '../../stack/src/tokens';
import { masterAdminToken } from '../auth/keycloak-admin';

// Issue #7: the Keycloak extension in keycloak/user-lookup, which the stack installs into every
// Keycloak it starts, on a real Keycloak.

interface User {
  id: string;
  username: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  enabled?: boolean;
}

const realm = JSON.parse(fs.readFileSync(keycloakRealmFile, 'utf8')) as {
  users: { id?: string; username: string }[];
};
const idOf = (username: string) => realm.users.find((user) => user.username === username)!.id!;

describe('user-lookup extension of Keycloak', () => {
  let keycloak: Keycloak;
  let lookupUrl: string;
  let serviceAccount: string;
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'user-lookup-'));
  const logFile = path.join(logDir, 'keycloak.log');

  beforeAll(async () => {
    keycloak = await startKeycloak({ logFile });
    lookupUrl = `${keycloak.url}/realms/${keycloak.realm}/renku-users/lookup`;
    serviceAccount = await clientToken(keycloak.issuer, keycloak.identityClientSecret);
  }, 600_000);

  afterAll(async () => {
    await keycloak?.stop();
    fs.rmSync(logDir, { recursive: true, force: true });
  });

  async function lookUp(
    body: unknown,
    /** null: no authorization header. */
    token: string | null = serviceAccount,
  ): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(lookupUrl, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  }

  const byUsername = (users: User[]) =>
    [...users].sort((a, b) => a.username.localeCompare(b.username));

  // The provisioned distribution was built with the extension; a start that had to build the
  // server again would take a minute and rewrite the distribution that other instances share.
  it('starts without building the server again', () => {
    const log = fs.readFileSync(logFile, 'utf8');

    expect(log).toContain("Realm 'renku' imported");
    expect(log).not.toMatch(/Updating the configuration|installing your custom providers/);
  });

  it('finds users by ids and usernames together, each once, and leaves unknown keys out', async () => {
    const answer = await lookUp({
      ids: [idOf('ada.analyst'), '00000000-0000-0000-0000-000000000000', idOf('bob.builder')],
      usernames: ['Grace.Admin', 'nobody.here', 'ada.analyst'],
    });

    expect(answer.status).toBe(200);
    expect(byUsername(answer.body)).toEqual([
      expect.objectContaining({
        id: idOf('ada.analyst'),
        username: 'ada.analyst',
        firstName: 'Ada',
        lastName: 'Analyst',
        email: 'ada.analyst@example.org',
        enabled: true,
      }),
      expect.objectContaining({ id: idOf('bob.builder'), username: 'bob.builder' }),
      expect.objectContaining({ id: idOf('grace.admin'), username: 'grace.admin' }),
    ]);
  });

  it('answers the brief representation of the admin API', async () => {
    const answer = await lookUp({ usernames: ['bob.builder'] });
    const admin = await fetch(
      `${keycloak.url}/admin/realms/${keycloak.realm}/users?username=bob.builder&exact=true&briefRepresentation=true`,
      { headers: { authorization: `Bearer ${serviceAccount}` } },
    );
    const [fromAdmin] = (await admin.json()) as Record<string, unknown>[];

    // `access` is what the admin console may do with the user; the identity subgraph reads none.
    const { access: _, ...expected } = fromAdmin;
    expect(answer.body).toEqual([expected]);
  });

  it('answers an empty list when no key matches', async () => {
    const answer = await lookUp({ ids: ['not-a-user'], usernames: [] });

    expect(answer).toEqual({ status: 200, body: [] });
  });

  it('refuses a request without a token with 401', async () => {
    const answer = await lookUp({ usernames: ['ada.analyst'] }, null);

    expect(answer.status).toBe(401);
    expect(JSON.stringify(answer.body)).not.toContain('ada.analyst@example.org');
  });

  it('refuses a token that does not verify with 401', async () => {
    const [header, payload] = serviceAccount.split('.');
    const answer = await lookUp(
      { usernames: ['ada.analyst'] },
      `${header}.${payload}.c2lnbmF0dXJl`,
    );

    expect(answer.status).toBe(401);
  });

  it("refuses a token of another realm with 401, even an administrator's", async () => {
    const token = await masterAdminToken(keycloak);

    const answer = await lookUp({ usernames: ['ada.analyst'] }, token);

    expect(answer.status).toBe(401);
  });

  it('refuses a token whose holder may not view users with 403', async () => {
    const ada = await passwordGrant({ issuer: keycloak.issuer, ...keycloakDemoUsers.ada });
    const grace = await passwordGrant({ issuer: keycloak.issuer, ...keycloakDemoUsers.grace });

    // Grace is a Renku administrator, which is no right over Keycloak's users.
    for (const token of [ada, grace]) {
      const answer = await lookUp({ usernames: ['bob.builder'] }, token);
      expect(answer.status).toBe(403);
      expect(JSON.stringify(answer.body)).not.toContain('bob.builder');
    }
  });

  it('refuses more than 500 keys with 400', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `id-${i}`);
    const usernames = Array.from({ length: 201 }, (_, i) => `user-${i}`);

    const tooMany = await lookUp({ ids, usernames });
    const bound = await lookUp({ ids, usernames: usernames.slice(1) });

    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error_description).toMatch(/at most 500/);
    expect(bound).toEqual({ status: 200, body: [] });
  });

  it('refuses a body that is not lists of strings with 400', async () => {
    const bodies = [
      'not json',
      '[]',
      '{"ids": "ada"}',
      '{"ids": [1]}',
      '{"names": []}',
      '{"ids": []} xxx',
      '{"ids": []}{"ids": []}',
    ];
    for (const body of bodies) {
      const answer = await lookUp(body);
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
    }
  });

  it('checks the token before it reads the body', async () => {
    const answer = await lookUp('not json', null);

    expect(answer.status).toBe(401);
  });

  // A body is only read for a caller who may query users: a client without a token must not
  // hold a worker thread by sending its body slowly, nor have megabytes buffered.
  it('answers 401 to a request without a token while its body is still incomplete', async () => {
    const answer = await sendPartially(lookupUrl, null, 9_000_000, '{"ids": ["');

    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('answers 413 to a token holder whose body is declared longer than 1 MB, unread', async () => {
    const answer = await sendPartially(lookupUrl, serviceAccount, 2_000_000, '{"ids": ["');

    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('refuses a chunked body longer than 1 MB with 413', async () => {
    const id = JSON.stringify('x'.repeat(1000));
    const body = `{"ids": [${Array(1100).fill(id).join(',')}]}`;

    const status = await sendChunked(lookupUrl, serviceAccount, body);

    expect(status).toBe(413);
  });

  it('answers a request whose sender breaks off its body as a client error', async () => {
    const socket = await openRequest(lookupUrl, serviceAccount, 1000, '{"ids": ["');
    socket.destroy();

    const answer = await lookUp({ usernames: ['ada.analyst'] });
    expect(answer.status).toBe(200);
  });

  // Last, so that Keycloak has long handled every request above, the broken-off body included.
  it('logs no error for any request above', () => {
    expect(fs.readFileSync(logFile, 'utf8')).not.toMatch(/\bERROR\b/);
  });
});

/**
 * Sends the headers of a POST declaring `declaredLength` bytes of body and only `start` of it,
 * and answers the status line Keycloak answers while the rest is still missing. The test fails
 * (null) if no answer comes before the body is complete: Keycloak would wait for the body.
 */
async function sendPartially(
  url: string,
  token: string | null,
  declaredLength: number,
  start: string,
): Promise<string | null> {
  const socket = await openRequest(url, token, declaredLength, start);
  try {
    const answer = new Promise<string>((resolve) => {
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (received.includes('\r\n')) resolve(received.slice(0, received.indexOf('\r\n')));
      });
    });
    // Not a measure of speed: only a bound on how long to wait for an answer that never comes.
    const never = new Promise<null>((resolve) => setTimeout(resolve, 30_000, null).unref());
    return await Promise.race([answer, never]);
  } finally {
    socket.destroy();
  }
}

/** A connection on which a POST with this Content-Length and only `start` of its body is sent. */
function openRequest(
  url: string,
  token: string | null,
  declaredLength: number,
  start: string,
): Promise<net.Socket> {
  const { hostname, port, pathname } = new URL(url);
  const head = [
    `POST ${pathname} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Content-Type: application/json',
    `Content-Length: ${declaredLength}`,
    ...(token ? [`Authorization: Bearer ${token}`] : []),
  ];
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`${head.join('\r\n')}\r\n\r\n${start}`, () => resolve(socket));
    });
    socket.on('error', reject);
  });
}

/** POSTs `body` without a Content-Length (chunked) and answers the status. */
function sendChunked(url: string, token: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode!);
    });
    // Keycloak may answer and close before the whole body is sent.
    request.on('error', reject);
    for (let at = 0; at < body.length; at += 64 * 1024)
      request.write(body.slice(at, at + 64 * 1024));
    request.end();
  });
}

async function clientToken(issuer: string, secret: string): Promise<string> {
  const response = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: keycloakClients.identity,
      client_secret: secret,
    }),
  });
  const { access_token: token } = (await response.json()) as { access_token: string };
  return token;
}
