import { fetchWithin } from '@renku-supergraph/kit';

/** How long GitLab may take to answer, as for the REST calls (`.meshrc.yaml`). */
const timeoutMs = 10_000;

/** GitLab's answer to one operation: data, errors beside it, or both. */
export interface GitLabGraphQLAnswer<T> {
  data?: T | null;
  errors?: { message: string }[];
}

/** A GitLab call that failed as a whole: its HTTP status, or none when GitLab did not answer. */
export class GitLabFailure extends Error {
  constructor(
    readonly status: number | undefined,
    override readonly cause: unknown,
  ) {
    super(status === undefined ? 'GitLab did not answer' : `GitLab answered ${status}`);
  }
}

/**
 * Sends one operation on the vendored subset of GitLab's GraphQL schema
 * (`mesh/gitlab-graphql/schema-subset.graphql`) to `POST /api/graphql` with the caller's GitLab
 * token, or none. Throws `GitLabFailure` when GitLab refuses the call or does not answer.
 */
export async function askGitLab<T>(
  endpoint: string,
  operation: { operationName: string; query: string; variables: Record<string, unknown> },
  token: string | undefined,
): Promise<GitLabGraphQLAnswer<T>> {
  let response: Response;
  try {
    response = await fetchWithin(
      endpoint,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          // Exactly as the REST calls: no Authorization header at all without a token.
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(operation),
      },
      timeoutMs,
    );
  } catch (error) {
    throw new GitLabFailure(undefined, error);
  }

  if (!response.ok) {
    throw new GitLabFailure(response.status, await response.text().catch(() => undefined));
  }
  try {
    return (await response.json()) as GitLabGraphQLAnswer<T>;
  } catch (error) {
    throw new GitLabFailure(undefined, error);
  }
}

/** `POST /api/graphql` below GitLab's base URL. */
export function graphqlEndpoint(gitlabUrl: string): string {
  return `${gitlabUrl.replace(/\/+$/, '')}/api/graphql`;
}
