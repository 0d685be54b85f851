import { createLogger } from '@renku-supergraph/kit';
import { GraphQLError } from 'graphql';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { fetchBrokeredGitLabToken, fetchGitLabTokenClaim, GitLabTokens } from './gitlab-token';

describe('GitLab tokens remembered per caller', () => {
  it('asks once for many requests of the same caller, including concurrent ones', async () => {
    const asked: string[] = [];
    const tokens = new GitLabTokens(async (authorization) => {
      asked.push(authorization);
      return { token: `gitlab-of-${authorization}` };
    });

    const answers = await Promise.all([tokens.get('Bearer a'), tokens.get('Bearer a')]);
    await tokens.get('Bearer a');

    expect(answers).toEqual(['gitlab-of-Bearer a', 'gitlab-of-Bearer a']);
    expect(asked).toEqual(['Bearer a']);
  });

  it('never answers one caller with the token of another', async () => {
    const tokens = new GitLabTokens(async (authorization) => ({
      token: `gitlab-of-${authorization}`,
    }));

    expect(await tokens.get('Bearer a')).toBe('gitlab-of-Bearer a');
    expect(await tokens.get('Bearer b')).toBe('gitlab-of-Bearer b');
  });

  it('asks again once the entry is older than its time to live', async () => {
    let calls = 0;
    const tokens = new GitLabTokens(async () => ({ token: `token-${++calls}` }), 1000);

    expect(await tokens.get('Bearer a', 0)).toBe('token-1');
    expect(await tokens.get('Bearer a', 999)).toBe('token-1');
    expect(await tokens.get('Bearer a', 1000)).toBe('token-2');
  });

  it('does not remember a failed lookup', async () => {
    let calls = 0;
    const tokens = new GitLabTokens(async () => {
      calls += 1;
      if (calls === 1) throw new Error('keycloak down');
      return { token: 'token' };
    });

    await expect(tokens.get('Bearer a')).rejects.toThrow('keycloak down');
    expect(await tokens.get('Bearer a')).toBe('token');
  });

  it('forgets the oldest caller when full', async () => {
    const asked: string[] = [];
    const tokens = new GitLabTokens(
      async (authorization) => {
        asked.push(authorization);
        return { token: authorization };
      },
      60_000,
      2,
    );

    for (const caller of ['a', 'b', 'c', 'a']) await tokens.get(caller);

    expect(asked).toEqual(['a', 'b', 'c', 'a']);
  });

  it('asks again half a minute before the GitLab token expires, so that Keycloak refreshes it', async () => {
    let calls = 0;
    const tokens = new GitLabTokens(async () => ({
      token: `token-${++calls}`,
      expiresAt: 40_000 * calls,
    }));

    expect(await tokens.get('Bearer a', 0)).toBe('token-1');
    expect(await tokens.get('Bearer a', 9_999)).toBe('token-1');
    expect(await tokens.get('Bearer a', 10_000)).toBe('token-2');
  });

  it('remembers that a caller has no GitLab token', async () => {
    let calls = 0;
    const tokens = new GitLabTokens(async () => {
      calls += 1;
      return undefined;
    });

    expect(await tokens.get('Bearer a')).toBeUndefined();
    expect(await tokens.get('Bearer a')).toBeUndefined();
    expect(calls).toBe(1);
  });
});

/**
 * Keycloak answering what it should not (#4): a server on a loopback port stands in for it,
 * since a real Keycloak cannot be made to answer garbage.
 */
describe("the caller's GitLab token from a Keycloak answering garbage", () => {
  let server: http.Server;
  let url: string;
  let answer = { type: 'application/json', body: '' };
  const log = createLogger('gateway', 'silent');

  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': answer.type });
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** The lookup's failure, which must be Keycloak's typed error and never name the value. */
  const failure = async (lookup: Promise<unknown>) => {
    const error = await lookup.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(GraphQLError);
    const { message, extensions, cause } = error as GraphQLError & { cause?: Error };
    expect(extensions).toMatchObject({ code: 'BACKEND_UNAVAILABLE', backend: 'keycloak' });
    return `${message} ${cause?.message}`;
  };

  it('refuses a token that could not travel in a header without repeating it', async () => {
    answer = {
      type: 'application/json',
      body: JSON.stringify({ access_token: 'glpat-SECRET\r\nx-evil: 1' }),
    };
    expect(await failure(fetchBrokeredGitLabToken(url, 'Bearer a', log))).not.toMatch(/SECRET/);

    answer.body = JSON.stringify({ gitlab_token: 'glpat-SECRET\nx' });
    expect(await failure(fetchGitLabTokenClaim(url, 'gitlab_token', 'Bearer a'))).not.toMatch(
      /SECRET/,
    );
  });

  it("takes JSON's null for no token, and names Keycloak when its answer is not JSON", async () => {
    answer = { type: 'application/json', body: 'null' };
    await expect(fetchBrokeredGitLabToken(url, 'Bearer a', log)).resolves.toBeUndefined();

    answer = { type: 'application/jwt', body: 'eyJhbGciOiJSUzI1NiJ9.SECRET.sig' };
    expect(await failure(fetchGitLabTokenClaim(url, 'gitlab_token', 'Bearer a'))).not.toMatch(
      /SECRET|eyJ/,
    );
  });
});
