import { ErrorCode, type Logger } from '@renku-supergraph/kit';
import { GraphQLError } from 'graphql';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The request with its body read (at most the route's limit). */
export interface WebhookRequest {
  get(header: string): string | undefined;
  query: URLSearchParams;
  body: Buffer;
}

/** What the sender is told; nothing here depends on Neo4j's wording. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A route's handler: the body read up to `limit`, refusals sent as they are, storage trouble as
 * a 503 the sender retries, anything else as a 500 whose details stay in the log.
 */
export function handled(
  log: Logger,
  handler: (req: WebhookRequest, res: ServerResponse) => Promise<void>,
  limit: number,
) {
  return (req: IncomingMessage, res: ServerResponse) => {
    readRequest(req, limit)
      .then((request) => handler(request, res))
      .catch((error: unknown) => {
        if (error instanceof Refusal) {
          send(res, error.status, { error: error.message });
        } else if (
          error instanceof GraphQLError &&
          error.extensions.code === ErrorCode.BackendUnavailable
        ) {
          res.setHeader('retry-after', '10');
          send(res, 503, { error: 'storage unavailable; retry' });
        } else {
          log.error({ err: error }, 'webhook failed');
          send(res, 500, { error: 'internal error' });
        }
      });
  };
}

/**
 * Reads the body as bytes: one that is not JSON must get our 400, not a parser's page, and one
 * over the limit is cut off as soon as it is, not after it was all read.
 */
function readRequest(req: IncomingMessage, limit: number): Promise<WebhookRequest> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      return reject(new Refusal(413, 'the body is too large'));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Drain the rest unread, so that the 413 still reaches the sender.
        req.removeAllListeners('data');
        req.resume();
        reject(new Refusal(413, 'the body is too large'));
      } else {
        chunks.push(chunk);
      }
    });
    req.once('error', reject);
    req.once('end', () => {
      const header = (name: string) => {
        const value = req.headers[name.toLowerCase()];
        return Array.isArray(value) ? value[0] : value;
      };
      const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
      resolve({ get: header, query, body: Buffer.concat(chunks) });
    });
  });
}

export function send(res: ServerResponse, status: number, body: object): void {
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

export function parseJson(body: Buffer): object {
  const text = body.toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object') return parsed;
  } catch {
    // Refused below.
  }
  throw new Refusal(400, 'the body is not a JSON object');
}
