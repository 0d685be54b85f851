import { GraphQLError } from 'graphql';

/**
 * Every error code a client can see, in one place. Codes are part of the
 * API: clients branch on them, so a code is never renamed or reused.
 */
export const ErrorCode = {
  /** The HTTP request itself could not be read: not JSON, or too large. */
  BadRequest: 'BAD_REQUEST',
  /** The request is malformed or an argument is out of range. */
  BadUserInput: 'BAD_USER_INPUT',
  /** No credentials, or credentials that cannot be verified. */
  Unauthenticated: 'UNAUTHENTICATED',
  /** A known caller without the right to the thing asked for. */
  Forbidden: 'FORBIDDEN',
  /** The thing asked for does not exist (or is not visible to the caller). */
  NotFound: 'NOT_FOUND',
  /** A backend (Neo4j, Keycloak, JupyterHub, GitLab) did not answer. */
  BackendUnavailable: 'BACKEND_UNAVAILABLE',
  /** Too many requests from one user or address; `Retry-After` says when to try again. */
  RateLimited: 'RATE_LIMITED',
  /**
   * One request asked a backend for more than one request may (`extensions.limit`); the
   * message says how to ask for the rest.
   */
  LimitExceeded: 'LIMIT_EXCEEDED',
  /** Only operations of the trusted documents list run here; send its id instead. */
  TrustedDocumentRequired: 'TRUSTED_DOCUMENT_REQUIRED',
  /** The persisted id names no operation of the trusted documents list. */
  TrustedDocumentUnknown: 'TRUSTED_DOCUMENT_UNKNOWN',
  /** A broken invariant inside our own code: a bug, never the caller's fault. */
  Internal: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * An error meant for the client, with a stable code. It sets no HTTP status on
 * purpose: a field error inside an otherwise good answer must not turn the
 * whole subgraph response into a failure that the gateway would discard.
 */
export function apiError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

/**
 * Translates a failed call to a backend into a client error. The backend's own
 * text stays in the log: it can name hosts, queries or credentials.
 */
export function backendError(
  backend: string,
  cause: unknown,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  const error = apiError(
    ErrorCode.BackendUnavailable,
    `${backend} is not answering; try again shortly`,
    { backend, ...extensions },
  );
  Object.defineProperty(error, 'cause', { value: cause, enumerable: false });
  return error;
}
