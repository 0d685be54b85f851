import type { Running } from '@renku-supergraph/kit';

import { startRedis, type RedisServer } from '../../stack/src/services/redis';
import { startIssuer, type Issuer } from '../projects/issuer';
import { startLoneGateway, typename } from './gateway-under-test';

interface Answer {
  errors?: { message: string; extensions?: { code?: string; retryAfterSec?: number } }[];
}

const healthOf = (gateway: Running) => gateway.url.replace(/\/graphql$/, '/health');

/** Sends `count` requests one after the other and returns their statuses. */
async function statuses(count: number, send: () => Promise<Response>): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const response = await send();
    await response.body?.cancel();
    seen.push(response.status);
  }
  return seen;
}

async function expectLimited(response: Response) {
  expect(response.status).toBe(429);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  const answer = (await response.json()) as Answer;
  expect(answer.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
  expect(answer.errors?.[0].extensions?.retryAfterSec).toBe(
    Number(response.headers.get('retry-after')),
  );
}

describe('rate limits per address', () => {
  let gateway: Running;
  let proxied: Running;

  beforeAll(async () => {
    [gateway, proxied] = await Promise.all([
      startLoneGateway({ RATE_LIMIT_PER_ADDRESS: '3' }),
      startLoneGateway({ RATE_LIMIT_PER_ADDRESS: '3', TRUST_PROXY: 'loopback' }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([gateway?.stop(), proxied?.stop()]);
  });

  it('answers 429 with Retry-After once an address spent its burst', async () => {
    expect(await statuses(3, () => typename(gateway.url))).toEqual([200, 200, 200]);

    await expectLimited(await typename(gateway.url));
  });

  it('does not limit the health endpoint', async () => {
    expect(await statuses(5, () => fetch(healthOf(gateway)))).toEqual([200, 200, 200, 200, 200]);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY names the proxy', async () => {
    const spoofed = await typename(gateway.url, { 'x-forwarded-for': '203.0.113.7' });
    expect(spoofed.status).toBe(429);
  });

  it('limits each client behind a trusted proxy by its forwarded address', async () => {
    const from = (address: string) => () =>
      typename(proxied.url, { 'x-forwarded-for': `${address}, 127.0.0.1` });

    expect(await statuses(4, from('203.0.113.7'))).toEqual([200, 200, 200, 429]);
    expect(await statuses(1, from('198.51.100.2'))).toEqual([200]);
    // Addresses of one IPv6 /64 are one client.
    expect(await statuses(2, from('2001:db8:1:2::10'))).toEqual([200, 200]);
    expect(await statuses(2, from('2001:db8:1:2:ffff::1'))).toEqual([200, 429]);
  });
});

describe('rate limits per user', () => {
  let issuer: Issuer;
  let gateway: Running;

  beforeAll(async () => {
    issuer = await startIssuer('renku-supergraph');
    gateway = await startLoneGateway({
      KEYCLOAK_URL: issuer.url.replace(/\/realms\/renku$/, ''),
      RATE_LIMIT_PER_USER: '2',
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await issuer?.stop();
  });

  const as = (sub: string) => () =>
    typename(gateway.url, { authorization: `Bearer ${issuer.sign({ sub })}` });

  it('answers 429 with Retry-After once a user spent their burst, and not to others', async () => {
    expect(await statuses(2, as('user-ada'))).toEqual([200, 200]);

    await expectLimited(await as('user-ada')());
    expect(await statuses(2, as('user-bob'))).toEqual([200, 200]);
  });

  it('does not count anonymous requests against a user', async () => {
    expect(await statuses(3, () => typename(gateway.url))).toEqual([200, 200, 200]);
  });
});

describe('rate limits shared through Redis', () => {
  let redis: RedisServer;
  let replicas: Running[];

  beforeAll(async () => {
    redis = await startRedis();
    const env = { RATE_LIMIT_PER_ADDRESS: '4', REDIS_URL: redis.url };
    replicas = await Promise.all([startLoneGateway(env), startLoneGateway(env)]);
  });

  afterAll(async () => {
    await Promise.all((replicas ?? []).map((replica) => replica.stop()));
    await redis?.stop();
  });

  it('counts requests to every replica against one bucket', async () => {
    const [one, two] = replicas;
    expect(await statuses(2, () => typename(one.url))).toEqual([200, 200]);
    expect(await statuses(2, () => typename(two.url))).toEqual([200, 200]);

    await expectLimited(await typename(one.url));
    await expectLimited(await typename(two.url));
  });

  it('lets requests through while Redis is away', async () => {
    await redis.stop();

    expect(await statuses(2, () => typename(replicas[0].url))).toEqual([200, 200]);
  });
});
