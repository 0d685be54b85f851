import { readGatewayConfig } from './config';

describe('gateway configuration', () => {
  it('reaches Keycloak internally while tokens name the public issuer', () => {
    const config = readGatewayConfig({
      KEYCLOAK_URL: 'http://keycloak:8080',
      KEYCLOAK_ISSUER: 'https://id.example.org/realms/renku',
    });

    expect(config.auth).toEqual({
      issuer: 'https://id.example.org/realms/renku',
      internalIssuer: 'http://keycloak:8080/realms/renku',
      jwksUrl: 'http://keycloak:8080/realms/renku/protocol/openid-connect/certs',
      audience: 'renku-supergraph',
      clockToleranceSec: 30,
    });
  });

  it('turns browser sign-in on with the client secret, with Secure cookies by default', () => {
    expect(readGatewayConfig({}).browser).toBeUndefined();

    expect(
      readGatewayConfig({ PORT: '4100', KEYCLOAK_GATEWAY_CLIENT_SECRET: 's' }).browser,
    ).toEqual({
      clientId: 'renku-gateway',
      clientSecret: 's',
      publicUrl: 'http://localhost:4100',
      secureCookie: true,
      refreshMarginSec: 60,
      redisUrl: undefined,
    });
  });

  it('gives the GitLab token to the subgraphs that call GitLab, unless told otherwise', () => {
    expect(readGatewayConfig({}).gitlabTokenSubgraphs).toEqual(['gitlab', 'projects']);
    expect(readGatewayConfig({ GITLAB_TOKEN_SUBGRAPHS: ' Gitlab ' }).gitlabTokenSubgraphs).toEqual([
      'gitlab',
    ]);
  });

  it('reads the GitLab token from the broker of `gitlab`, with the userinfo fallback off', () => {
    expect(readGatewayConfig({})).toMatchObject({
      gitlabIdentityProvider: 'gitlab',
      gitlabTokenClaim: undefined,
    });
    expect(
      readGatewayConfig({ KEYCLOAK_GITLAB_IDP: 'gitlab-ce', GITLAB_TOKEN_USERINFO_CLAIM: 'gl' }),
    ).toMatchObject({ gitlabIdentityProvider: 'gitlab-ce', gitlabTokenClaim: 'gl' });
  });

  it('reads the query limits and refuses bad ones', () => {
    expect(readGatewayConfig({ MAX_QUERY_DEPTH: '8' }).limits.maxDepth).toBe(8);
    expect(() => readGatewayConfig({ MAX_QUERY_COST: '0' })).toThrow('MAX_QUERY_COST');
    expect(() => readGatewayConfig({ MAX_BODY_SIZE: 'huge' })).toThrow('MAX_BODY_SIZE');
  });

  it('names a bad setting', () => {
    expect(() =>
      readGatewayConfig({ KEYCLOAK_GATEWAY_CLIENT_SECRET: 's', SESSION_COOKIE_SECURE: 'maybe' }),
    ).toThrow('SESSION_COOKIE_SECURE');
    expect(() => readGatewayConfig({ KEYCLOAK_CLOCK_TOLERANCE_SEC: '-1' })).toThrow(
      'KEYCLOAK_CLOCK_TOLERANCE_SEC',
    );
    expect(() =>
      readGatewayConfig({ KEYCLOAK_GATEWAY_CLIENT_SECRET: 's', REDIS_URL: 'nope' }),
    ).toThrow('REDIS_URL');
  });
});
