import { createLogger, type Running } from '@renku-supergraph/kit';
import { readGatewayConfig, startGateway } from '@renku-supergraph/supergraph';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Requests that must be refused before any subgraph is asked: the gateway
 * runs for real, its subgraphs point at a closed port, and every entry of
 * corpus.json must come back as a 4xx with a GraphQL-shaped JSON error.
 * Entries marked `guarded` go to a second gateway with the optional guards
 * on: trusted documents (free-form still allowed) and a CORS allow-list.
 */
interface Entry {
  name: string;
  /** Default POST with `content-type: application/json`. */
  method?: string;
  headers?: Record<string, string>;
  guarded?: boolean;
  body?: string;
  generate?: {
    nest?: number;
    aliases?: number;
    padding?: number;
    directives?: number;
    batch?: number;
  };
  status: number;
  code?: string;
  /** A pattern the first error message must match. */
  message?: string;
}

const corpus = JSON.parse(fs.readFileSync(path.join(__dirname, 'corpus.json'), 'utf8')) as Entry[];

function bodyOf(entry: Entry): string {
  const { nest, aliases, padding, directives, batch } = entry.generate ?? {};
  if (nest) {
    const query = `{ project(path: "a/b") { ${'sessions { project { '.repeat(nest)}name${' } }'.repeat(nest)} } }`;
    return JSON.stringify({ query });
  }
  if (aliases) {
    const fields = Array.from({ length: aliases }, (_, i) => `a${i}: __typename`);
    return JSON.stringify({ query: `{ ${fields.join(' ')} }` });
  }
  if (padding) return JSON.stringify({ query: '{ __typename }', padding: 'x'.repeat(padding) });
  if (directives) {
    return JSON.stringify({ query: `{ __typename ${'@skip(if: false) '.repeat(directives)}}` });
  }
  if (batch)
    return JSON.stringify(Array.from({ length: batch }, () => ({ query: '{ __typename }' })));
  return entry.body ?? '';
}

describe('hostile input at the gateway', () => {
  let gateway: Running;
  let guarded: Running;

  beforeAll(async () => {
    const subgraphs = ['identity', 'projects', 'lineage', 'sessions', 'gitlab'];
    const env = Object.fromEntries(
      subgraphs.map((name) => [`SUBGRAPH_${name.toUpperCase()}_URL`, 'http://127.0.0.1:9/graphql']),
    );
    const guards = {
      TRUSTED_DOCUMENTS: path.join(__dirname, 'trusted-documents.json'),
      TRUSTED_DOCUMENTS_ALLOW_FREE_FORM: 'true',
      CORS_ALLOWED_ORIGINS: 'https://app.renku.test',
    };
    [gateway, guarded] = await Promise.all([
      startGateway(readGatewayConfig({ ...env, PORT: '0' }), createLogger('gateway', 'silent')),
      startGateway(
        readGatewayConfig({ ...env, ...guards, PORT: '0' }),
        createLogger('gateway', 'silent'),
      ),
    ]);
  });

  afterAll(() => Promise.all([gateway?.stop(), guarded?.stop()]));

  it.each(corpus.map((entry) => [entry.name, entry] as const))(
    'refuses %s with a clear error',
    async (_name, entry) => {
      const method = entry.method ?? 'POST';
      const response = await fetch((entry.guarded ? guarded : gateway).url, {
        method,
        headers: entry.headers ?? { 'content-type': 'application/json' },
        body: method === 'POST' ? bodyOf(entry) : undefined,
      });
      expect(response.status).toBe(entry.status);
      const answer = (await response.json()) as {
        errors?: { message: string; extensions?: { code?: string } }[];
      };
      expect(answer.errors?.length).toBeGreaterThan(0);
      expect(answer.errors![0].message).not.toMatch(/at .*\.js:\d+/);
      if (entry.code) expect(answer.errors![0].extensions?.code).toBe(entry.code);
      if (entry.message) expect(answer.errors![0].message).toMatch(new RegExp(entry.message));
    },
  );

  it('refuses a GET without a preflight header (CSRF prevention)', async () => {
    const response = await fetch(`${gateway.url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(response.status).toBe(400);
  });

  it('still answers a good query after all of them', async () => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });
});
