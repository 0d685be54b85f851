import { generateKeyPairSync, sign as signBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Issuer {
  /** Like Keycloak's realm URL: `http://127.0.0.1:<port>/realms/renku`. */
  url: string;
  /** An RS256 access token for `audience`, valid five minutes; `claims` add to or override it. */
  sign(claims?: Record<string, unknown>): string;
  stop(): Promise<void>;
}

/**
 * An OpenID issuer of our own that publishes a real key set at Keycloak's address for it;
 * it spares the projects tests a Keycloak start. The token verifier itself is tested against
 * Keycloak in tests/identity.
 */
export async function startIssuer(audience: string): Promise<Issuer> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server = http.createServer((req, res) => {
    if (req.url?.endsWith('/protocol/openid-connect/certs')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/renku`;
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

  return {
    url,
    sign(claims = {}) {
      const now = Math.floor(Date.now() / 1000);
      const body = {
        iss: url,
        aud: audience,
        azp: 'renku-cli',
        sub: 'user-ada',
        typ: 'Bearer',
        preferred_username: 'ada.analyst',
        email: 'ada.analyst@example.org',
        iat: now,
        exp: now + 300,
        ...claims,
      };
      const input = `${encode({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${encode(body)}`;
      return `${input}.${signBytes('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
