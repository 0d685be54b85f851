import type { Running } from '@renku-supergraph/kit';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startLoneGateway } from './gateway-under-test';

const listed = 'query Typename { __typename }';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

interface Answer {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string } }[];
}

describe('trusted documents at the gateway', () => {
  let dir: string;
  let manifest: string;
  let strict: Running;
  let lenient: Running;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trusted-documents-'));
    manifest = path.join(dir, 'manifest.json');
    fs.writeFileSync(
      manifest,
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [
          { id: sha256(listed), name: 'Typename', type: 'query', body: listed },
          {
            id: 'web-app/named',
            name: 'Named',
            type: 'query',
            body: 'query Named { t: __typename }',
          },
        ],
      }),
    );
    [strict, lenient] = await Promise.all([
      startLoneGateway({ TRUSTED_DOCUMENTS: manifest }),
      startLoneGateway({ TRUSTED_DOCUMENTS: manifest, TRUSTED_DOCUMENTS_ALLOW_FREE_FORM: 'true' }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([strict?.stop(), lenient?.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const post = async (gateway: Running, body: unknown) => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, answer: (await response.json()) as Answer };
  };
  const byHash = (sha256Hash: string, extra: object = {}) => ({
    extensions: { persistedQuery: { version: 1, sha256Hash } },
    ...extra,
  });

  it('runs a listed operation sent by the sha256 of its body', async () => {
    expect(await post(strict, byHash(sha256(listed)))).toEqual({
      status: 200,
      answer: { data: { __typename: 'Query' } },
    });
  });

  it('runs a listed operation sent by its manifest id, also over GET', async () => {
    expect(await post(strict, byHash('web-app/named'))).toEqual({
      status: 200,
      answer: { data: { t: 'Query' } },
    });

    const extensions = JSON.stringify(byHash('web-app/named').extensions);
    const response = await fetch(`${strict.url}?extensions=${encodeURIComponent(extensions)}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { t: 'Query' } });
  });

  it('runs a listed operation named by documentId', async () => {
    expect(await post(strict, { documentId: 'web-app/named' })).toEqual({
      status: 200,
      answer: { data: { t: 'Query' } },
    });
  });

  it('refuses a free-form document with 400', async () => {
    const { status, answer } = await post(strict, { query: listed });

    expect(status).toBe(400);
    expect(answer.errors?.[0].extensions?.code).toBe('TRUSTED_DOCUMENT_REQUIRED');
  });

  it('refuses a free-form document over GET too', async () => {
    const response = await fetch(`${strict.url}?query=${encodeURIComponent(listed)}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });

    expect(response.status).toBe(400);
    expect(((await response.json()) as Answer).errors?.[0].extensions?.code).toBe(
      'TRUSTED_DOCUMENT_REQUIRED',
    );
  });

  it('refuses an unknown id with 400', async () => {
    const { status, answer } = await post(strict, byHash(sha256('{ me { id } }')));

    expect(status).toBe(400);
    expect(answer.errors?.[0].extensions?.code).toBe('TRUSTED_DOCUMENT_UNKNOWN');
  });

  it('does not let automatic persisted queries register a document', async () => {
    const unlisted = '{ a: __typename }';
    const register = await post(strict, byHash(sha256(unlisted), { query: unlisted }));
    expect(register.status).toBe(400);

    const again = await post(strict, byHash(sha256(unlisted)));
    expect(again.answer.errors?.[0].extensions?.code).toBe('TRUSTED_DOCUMENT_UNKNOWN');
  });

  it('refuses an id sent with a document other than its own', async () => {
    const { status } = await post(strict, byHash(sha256(listed), { query: '{ b: __typename }' }));

    expect(status).toBe(400);
  });

  it('refuses a batch with 400', async () => {
    const { status } = await post(strict, [byHash(sha256(listed)), byHash(sha256(listed))]);

    expect(status).toBe(400);
  });

  it('runs free-form documents too when allowed, still refusing unknown ids', async () => {
    expect(await post(lenient, { query: '{ c: __typename }' })).toEqual({
      status: 200,
      answer: { data: { c: 'Query' } },
    });
    expect(await post(lenient, byHash('web-app/named'))).toEqual({
      status: 200,
      answer: { data: { t: 'Query' } },
    });
    expect((await post(lenient, byHash('nope'))).status).toBe(400);
  });

  it('refuses to start on a file that is not a manifest', async () => {
    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, JSON.stringify({ operations: {} }));

    await expect(startLoneGateway({ TRUSTED_DOCUMENTS: broken })).rejects.toThrow(
      /TRUSTED_DOCUMENTS: .*broken\.json is not an apollo-persisted-query-manifest/,
    );
  });
});
