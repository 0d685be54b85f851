import type { RequestHandler } from 'express';
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { randomUUID } from 'node:crypto';

import type { Logger } from './logger';

/** The header a request id travels in, from the client through the gateway to each backend. */
export const requestIdHeader = 'x-request-id';

// A client's id lands in our logs and in headers we send on: short, no spaces, no quotes.
const saneRequestId = /^[A-Za-z0-9._:-]{1,64}$/;

interface RequestScope {
  requestId: string;
  log: Logger;
}

const scope = new AsyncLocalStorage<RequestScope>();

/** The client's request id when it is sane, else a new one. */
export function acceptRequestId(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given && saneRequestId.test(given) ? given : randomUUID();
}

/** The id of the request being served, for code that has no GraphQL context at hand. */
export function currentRequestId(): string | undefined {
  return scope.getStore()?.requestId;
}

/** The logger of the request being served (its lines carry the request id), else `fallback`. */
export function requestLog(fallback: Logger): Logger {
  return scope.getStore()?.log ?? fallback;
}

/** Headers that pass the current request id on to a backend; empty outside a request. */
export function requestIdHeaders(): Record<string, string> {
  const requestId = currentRequestId();
  return requestId ? { [requestIdHeader]: requestId } : {};
}

let passingOn = false;

/**
 * From now on every fetch made while serving a request carries its id to the backend (Keycloak,
 * JupyterHub, GitLab and the subgraphs log it), unless the caller set the header itself.
 * node:http clients are not covered; they can add `requestIdHeaders()`.
 */
export function passRequestIdToBackends(): void {
  if (passingOn) return;
  passingOn = true;
  // Node's fetch announces each request here before sending it, in the caller's async context.
  diagnostics.subscribe('undici:request:create', (message) => {
    const requestId = currentRequestId();
    if (!requestId) return;
    const { request } = message as {
      request: { headers: unknown; addHeader(name: string, value: string): void };
    };
    const headers = Array.isArray(request.headers) ? (request.headers as string[]) : [];
    const named = headers.some(
      (value, i) => i % 2 === 0 && value.toLowerCase() === requestIdHeader,
    );
    // A throw here would surface as an uncaught exception: a missing id is the lesser harm.
    try {
      if (!named) request.addHeader(requestIdHeader, requestId);
    } catch {
      // The request keeps going without the id.
    }
  });
}

/**
 * Gives every request an id (the client's, if sane), answers it in the response header and
 * runs the rest of the request with a child logger that puts it on every line.
 */
export function requestScope(log: Logger): RequestHandler {
  return (req, res, next) => {
    const requestId = acceptRequestId(req.headers[requestIdHeader]);
    res.setHeader(requestIdHeader, requestId);
    const child = log.child({ requestId });
    res.locals.requestId = requestId;
    res.locals.log = child;

    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      child.debug({ method: req.method, path: req.path, status: res.statusCode, ms }, 'served');
    });
    scope.run({ requestId, log: child }, next);
  };
}
