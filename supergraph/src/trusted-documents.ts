import { ErrorCode } from '@renku-supergraph/kit';
import express, { type RequestHandler, type Response } from 'express';
import { createHash } from 'node:crypto';
import fs from 'node:fs';

export interface TrustedDocumentOptions {
  /** A persisted query manifest (`apollo-persisted-query-manifest`, version 1). */
  file: string;
  /** Let free-form queries run beside the listed ones. Default false. */
  allowFreeForm: boolean;
}

/** Operation ids and sha256 hashes of their bodies -> bodies. */
export type TrustedDocuments = ReadonlyMap<string, string>;

interface Manifest {
  format?: unknown;
  version?: unknown;
  operations?: { id?: unknown; body?: unknown }[];
}

/**
 * Reads the manifest that Apollo's tooling generates from a client's code
 * (`generate-persisted-query-manifest`). A document is found by its id and
 * by the sha256 of its body, which is what Apollo Client's persisted query
 * link sends as `sha256Hash`.
 */
export function loadTrustedDocuments(
  file: string,
  setting = 'TRUSTED_DOCUMENTS',
): TrustedDocuments {
  const problem = (text: string) => new Error(`${setting}: ${file} ${text}`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
  } catch (error) {
    throw problem(`cannot be read as JSON: ${(error as Error).message}`);
  }
  if (manifest?.format !== 'apollo-persisted-query-manifest' || manifest.version !== 1) {
    throw problem('is not an apollo-persisted-query-manifest of version 1');
  }
  if (!Array.isArray(manifest.operations)) throw problem('has no operations list');

  const documents = new Map<string, string>();
  const add = (key: string, body: string) => {
    if (documents.has(key) && documents.get(key) !== body) {
      throw problem(`names two different operations ${key}`);
    }
    documents.set(key, body);
  };
  for (const operation of manifest.operations) {
    const { id, body } = operation ?? {};
    if (typeof id !== 'string' || !id || typeof body !== 'string' || !body) {
      throw problem('has an operation without a string id and body');
    }
    add(id, body);
    add(createHash('sha256').update(body).digest('hex'), body);
  }
  return documents;
}

/** The fields of a GraphQL request over HTTP that this module reads or rewrites. */
interface WireRequest {
  query?: unknown;
  /** The GraphQL over HTTP proposal's name for a persisted id. */
  documentId?: unknown;
  extensions?: { persistedQuery?: { sha256Hash?: unknown } } & Record<string, unknown>;
}

/**
 * Replaces a persisted id by its trusted document before Apollo Server sees
 * the request, and refuses free-form documents unless allowed. Ids resolve
 * only against the manifest: Apollo's automatic persisted queries would let
 * any client register any document, which is what the list exists to stop.
 */
export function trustedDocuments(
  documents: TrustedDocuments,
  allowFreeForm: boolean,
  bodyLimit: string,
): RequestHandler[] {
  const resolve = (request: WireRequest): [ErrorCode, string] | undefined => {
    const id = request.extensions?.persistedQuery?.sha256Hash ?? request.documentId;
    if (id === undefined) {
      if (allowFreeForm || request.query === undefined) return undefined;
      return [
        ErrorCode.TrustedDocumentRequired,
        'only trusted documents run here: send the persisted id of an operation the client was built with',
      ];
    }

    const body = typeof id === 'string' ? documents.get(id) : undefined;
    if (body === undefined) {
      return [ErrorCode.TrustedDocumentUnknown, 'the persisted id names no trusted document'];
    }
    if (request.query !== undefined && request.query !== body) {
      return [ErrorCode.BadRequest, 'the query differs from the trusted document of that id'];
    }
    request.query = body;
    delete request.documentId;
    if (request.extensions) delete request.extensions.persistedQuery;
    return undefined;
  };

  const check: RequestHandler = (req, res, next) => {
    if (req.method === 'GET')
      return checkGet(req.url, resolve, res, next, (url) => (req.url = url));
    const body: unknown = req.body;
    // Batches are refused by Apollo Server; each entry is still checked here.
    for (const request of Array.isArray(body) ? body : [body]) {
      if (typeof request !== 'object' || request === null) continue;
      const refused = resolve(request as WireRequest);
      if (refused) return refuse(res, refused);
    }
    next();
  };

  // Parsed here (with the gateway's own limit) so the check sees the body;
  // the GraphQL endpoint's parser then finds it already read.
  return [express.json({ limit: bodyLimit }), check];
}

function checkGet(
  url: string,
  resolve: (request: WireRequest) => [ErrorCode, string] | undefined,
  res: Response,
  next: () => void,
  rewrite: (url: string) => void,
) {
  const parsed = new URL(url, 'http://gateway');
  const params = parsed.searchParams;
  let extensions: WireRequest['extensions'];
  try {
    extensions = JSON.parse(params.get('extensions') ?? 'null') ?? undefined;
  } catch {
    // Apollo Server answers a broken `extensions` with its own 400.
    return next();
  }

  const request: WireRequest = {
    query: params.get('query') ?? undefined,
    documentId: params.get('documentId') ?? undefined,
    extensions,
  };
  const refused = resolve(request);
  if (refused) return refuse(res, refused);

  if (typeof request.query === 'string') params.set('query', request.query);
  params.delete('documentId');
  if (request.extensions) params.set('extensions', JSON.stringify(request.extensions));
  rewrite(`${parsed.pathname}${parsed.search}`);
  next();
}

function refuse(res: Response, [code, message]: [ErrorCode, string]) {
  res.status(400).json({ errors: [{ message, extensions: { code } }] });
}
