import { ErrorCode, apiError, backendError, type Logger } from '@renku-supergraph/kit';
import type { GraphQLError } from 'graphql';

/** What a GitLab call is about, for the messages of its errors. */
export interface Subject {
  projectPath: string;
  /** What inside the project was asked for, e.g. `file "a b.csv" at master`. */
  part?: string;
}

/**
 * The client error for a GitLab call that failed, the same for the REST calls through Mesh
 * and the GraphQL ones: 401, 403 and 404 are GitLab's answer to this caller; another 4xx
 * means we built a request GitLab finds malformed (our bug); any other status, or none
 * (`undefined`: GitLab did not answer), means GitLab is unavailable.
 */
export function gitlabError(
  status: number | undefined,
  { projectPath, part }: Subject,
  cause?: unknown,
): GraphQLError {
  const fromGitLab = { backend: 'gitlab' };
  switch (status) {
    case 401:
      return apiError(
        ErrorCode.Unauthenticated,
        'GitLab did not accept the GitLab token of this request; sign in again',
        fromGitLab,
      );
    case 403:
      return apiError(
        ErrorCode.Forbidden,
        `GitLab refuses this caller access to ${projectPath}`,
        fromGitLab,
      );
    case 404:
      return apiError(
        ErrorCode.NotFound,
        part === undefined
          ? `GitLab has no project ${projectPath}, or not one visible to this caller`
          : `GitLab has no ${part} in ${projectPath}, or no such project visible to this caller`,
        fromGitLab,
      );
  }
  if (isOurBug(status)) return apiError(ErrorCode.Internal, 'internal error');
  return backendError('gitlab', cause);
}

/**
 * Logs what `gitlabError` keeps from the client: our malformed requests as errors, GitLab
 * failing as warnings. GitLab's refusals of the caller are no failure of ours.
 */
export function logGitLabFailure(
  log: Logger,
  status: number | undefined,
  { projectPath, part }: Subject,
  cause?: unknown,
): void {
  if (status === 401 || status === 403 || status === 404) return;
  if (isOurBug(status)) {
    log.error({ status, projectPath, part }, 'GitLab refused a request of this subgraph');
  } else {
    log.warn({ err: cause, status, projectPath, part }, 'GitLab call failed');
  }
}

function isOurBug(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500;
}
