import { fetchWithin, type Logger } from '@renku-supergraph/kit';

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

/** The `projects(fullPaths:)` connection, as this subgraph's operations ask it. */
interface ProjectsData<T> {
  projects: {
    nodes: (T | null)[] | null;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  } | null;
}

/**
 * The projects at `paths` that a `projects(fullPaths: $fullPaths, first: $first, after: $after)`
 * operation finds, by lower-cased full path (GitLab matches paths without regard to case and
 * answers with the project's own). One page holds them all (`first` is the number of paths, at
 * most GitLab's page size); should GitLab page shorter, the rest follows with its cursor.
 * Undefined when GitLab refused the operation itself, a bug of ours, logged; errors beside an
 * answer (GitLab failing on some fields, Gitaly say) are logged and leave those fields null.
 */
export async function projectsByPath<T extends { fullPath: string }>(
  endpoint: string,
  operation: { operationName: string; query: string; variables: Record<string, unknown> },
  paths: readonly string[],
  token: string | undefined,
  log: Logger,
): Promise<Map<string, T> | undefined> {
  const found = new Map<string, T>();
  let after: string | null = null;
  for (;;) {
    const answer: GitLabGraphQLAnswer<ProjectsData<T>> = await askGitLab(
      endpoint,
      {
        ...operation,
        variables: { ...operation.variables, fullPaths: paths, first: paths.length, after },
      },
      token,
    );
    const projects = answer.data?.projects;
    const gitlabErrors = answer.errors?.map((error) => error.message);
    if (!projects) {
      log.error(
        { gitlabErrors },
        `GitLab refused the ${operation.operationName} query of this subgraph`,
      );
      return undefined;
    }
    if (gitlabErrors?.length) {
      log.warn({ gitlabErrors }, `GitLab answered ${operation.operationName} with errors`);
    }
    for (const node of projects.nodes ?? []) if (node) found.set(node.fullPath.toLowerCase(), node);
    const { hasNextPage, endCursor } = projects.pageInfo;
    if (!hasNextPage || !endCursor || (projects.nodes ?? []).length === 0) return found;
    after = endCursor;
  }
}
