import { readGatewayConfig } from './config';
import { addressKey } from './rate-limit';
import { isQuery } from './retry';

describe('guard settings', () => {
  it('reads per-subgraph timeouts over the global one', () => {
    const config = readGatewayConfig({
      SUBGRAPH_TIMEOUT_MS: '5000',
      SUBGRAPH_SESSIONS_TIMEOUT_MS: '20000',
    });

    expect(config.subgraphTimeoutMs).toBe(5000);
    expect(config.subgraphTimeouts).toEqual({ sessions: 20000 });
    expect(() => readGatewayConfig({ SUBGRAPH_LINEAGE_TIMEOUT_MS: '0' })).toThrow(
      'SUBGRAPH_LINEAGE_TIMEOUT_MS',
    );
  });

  it('bounds retries', () => {
    expect(readGatewayConfig({}).subgraphRetry).toEqual({ retries: 2, backoffMs: 50 });
    expect(readGatewayConfig({ SUBGRAPH_RETRIES: '0' }).subgraphRetry.retries).toBe(0);
    expect(() => readGatewayConfig({ SUBGRAPH_RETRIES: '50' })).toThrow('SUBGRAPH_RETRIES');
  });

  it('allows no cross-origin caller by default and exact origins only', () => {
    expect(readGatewayConfig({}).corsOrigins).toEqual([]);
    expect(
      readGatewayConfig({ CORS_ALLOWED_ORIGINS: 'https://a.example, http://localhost:3000' })
        .corsOrigins,
    ).toEqual(['https://a.example', 'http://localhost:3000']);
    for (const bad of ['*', 'https://a.example/', 'https://a.example/app', 'a.example']) {
      expect(() => readGatewayConfig({ CORS_ALLOWED_ORIGINS: bad })).toThrow(
        'CORS_ALLOWED_ORIGINS',
      );
    }
  });

  it('turns rate limits off by default and reads them with their burst', () => {
    expect(readGatewayConfig({}).rateLimits).toEqual({
      perUser: 0,
      perAddress: 0,
      burst: undefined,
      redisUrl: undefined,
    });
    expect(
      readGatewayConfig({
        RATE_LIMIT_PER_USER: '600',
        RATE_LIMIT_PER_ADDRESS: '1200',
        RATE_LIMIT_BURST: '50',
        REDIS_URL: 'redis://127.0.0.1:6379',
      }).rateLimits,
    ).toEqual({ perUser: 600, perAddress: 1200, burst: 50, redisUrl: 'redis://127.0.0.1:6379' });
    expect(() => readGatewayConfig({ RATE_LIMIT_BURST: '0' })).toThrow('RATE_LIMIT_BURST');
    expect(() => readGatewayConfig({ RATE_LIMIT_PER_USER: 'lots' })).toThrow('RATE_LIMIT_PER_USER');
  });

  it('believes X-Forwarded-For only from the proxies TRUST_PROXY names', () => {
    expect(readGatewayConfig({}).trustProxy).toBeUndefined();
    expect(readGatewayConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(readGatewayConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8, fd00::/8' }).trustProxy).toEqual(
      ['loopback', '10.0.0.0/8', 'fd00::/8'],
    );
    for (const bad of ['true', '10.0.0.0/33', 'proxy.example', '0']) {
      expect(() => readGatewayConfig({ TRUST_PROXY: bad })).toThrow('TRUST_PROXY');
    }
  });

  it('reads trusted documents with free-form documents refused by default', () => {
    expect(readGatewayConfig({}).trustedDocuments).toBeUndefined();
    expect(readGatewayConfig({ TRUSTED_DOCUMENTS: '/etc/renku/manifest.json' })).toMatchObject({
      trustedDocuments: { file: '/etc/renku/manifest.json', allowFreeForm: false },
    });
  });
});

describe('which subgraph operations may be retried', () => {
  it('retries queries, in every spelling the gateway sends', () => {
    expect(isQuery('{ me { id } }')).toBe(true);
    expect(isQuery('query Projects__projects__0 { projects { path } }')).toBe(true);
    expect(isQuery('  # a comment\n query($a: Int) { x }')).toBe(true);
  });

  it('never retries mutations or subscriptions', () => {
    expect(isQuery('mutation { updateProject(path: "a/b") { path } }')).toBe(false);
    expect(isQuery('\n mutation M { x }')).toBe(false);
    expect(isQuery('subscription { x }')).toBe(false);
    expect(isQuery('queryish { x }')).toBe(false);
  });
});

describe('rate limit keys of client addresses', () => {
  it('keys IPv4 by address, IPv4-mapped IPv6 as IPv4, and IPv6 by its /64', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('2001:db8:1:2::10')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0DB8:0001:0002:ffff:0:0:1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1')).toBe('fe80:0:0:0::/64');
  });
});
