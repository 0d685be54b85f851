import type { Running } from '@renku-supergraph/kit';

import { startLoneGateway, typename } from './gateway-under-test';

const app = 'http://app.renku.test:3000';

describe('CORS allow-list at the gateway', () => {
  let gateway: Running;

  beforeAll(async () => {
    gateway = await startLoneGateway({ CORS_ALLOWED_ORIGINS: `${app}, https://other.renku.test` });
  });

  afterAll(() => gateway?.stop());

  const preflight = (origin: string) =>
    fetch(gateway.url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      },
    });

  it('answers the preflight of a listed origin, with credentials', async () => {
    const response = await preflight(app);

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(app);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')).toBe(
      'content-type, authorization',
    );
    expect(response.headers.get('vary')).toContain('Origin');
  });

  it('lets a listed origin read the answer', async () => {
    const response = await typename(gateway.url, { origin: app });

    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(app);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses the preflight of an unlisted origin without CORS headers', async () => {
    const response = await preflight('https://evil.example');

    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(await response.json()).toMatchObject({
      errors: [{ extensions: { code: 'FORBIDDEN' } }],
    });
  });

  it('gives an unlisted origin no CORS headers: its scripts cannot read answers', async () => {
    // A look-alike of a listed origin (another port) is another origin.
    for (const origin of ['https://evil.example', 'http://app.renku.test:3001', 'null']) {
      const response = await typename(gateway.url, { origin });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('keeps CSRF prevention on for a listed origin', async () => {
    // A form-like request, which a browser sends without a preflight.
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { origin: app, 'content-type': 'text/plain' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });

    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/Cross-Site Request Forgery/);
  });

  it('sends no CORS headers by default: same origin only', async () => {
    const lone = await startLoneGateway();
    try {
      const response = await fetch(lone.url, {
        method: 'OPTIONS',
        headers: { origin: app, 'access-control-request-method': 'POST' },
      });
      expect(response.status).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await lone.stop();
    }
  });
});
