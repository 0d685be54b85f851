import { GraphQLError } from 'graphql';

/**
 * Every error code a client can see, in one place. Codes are part of the
 * API: clients branch on them, so a code is never renamed or reused.
 */
export const ErrorCode = {
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
  /** A broken invariant inside our own code: a bug, never the caller's fault. */
  Internal: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const httpStatus: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BACKEND_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

/** An error meant for the client, with a stable code and the subgraph's name. */
export function apiError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code, http: { status: httpStatus[code] }, ...extensions },
  });
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
