import type { MeshInstance } from '@graphql-mesh/runtime';
import { ErrorCode, apiError, backendError, type Logger } from '@renku-supergraph/kit';
import type { GraphQLError } from 'graphql';
import gql from 'graphql-tag';

import type { MeshCallContext, ResponseRecorder } from './mesh';

/** What GitLab says about a project, as far as this subgraph shows it. */
export interface GitLabProject {
  webUrl: string | null;
  defaultBranch: string | null;
}

export interface GitLabBranch {
  name: string;
  default: boolean;
  protected: boolean;
  commit: { id: string; shortId: string; title: string; authoredDate: Date | null };
}

/** One page of an offset-paged list, with what GitLab's headers say about the others. */
export interface GitLabPage<T> {
  items: T[];
  /** From `X-Next-Page`; absent on the last page. */
  nextPage?: number;
  /** From `X-Total`; GitLab leaves it out for very long lists. */
  total?: number;
}

// Operations on the GraphQL schema Mesh generated from GitLab's OpenAPI spec.
const projectQuery = gql`
  query Project($id: String!) {
    project: getApiV4ProjectsId(id: $id) {
      web_url
      default_branch
    }
  }
`;

const branchesQuery = gql`
  query Branches($id: String!, $page: Int!, $perPage: Int!) {
    branches: getApiV4ProjectsIdRepositoryBranches(id: $id, page: $page, per_page: $perPage) {
      name
      default
      protected
      commit {
        id
        short_id
        title
        authored_date
      }
    }
  }
`;

interface RawBranch {
  name: string | null;
  default: boolean | null;
  protected: boolean | null;
  commit: {
    id: string | null;
    short_id: string | null;
    title: string | null;
    authored_date: string | null;
  } | null;
}

/**
 * GitLab REST v4 through the generated mesh, one call per method. Each call carries the
 * caller's GitLab token, or none; GitLab's refusals become client errors here, in one place.
 */
export class GitLabApi {
  constructor(
    private readonly mesh: MeshInstance,
    private readonly gitlabUrl: string,
    private readonly log: Logger,
  ) {}

  async project(projectPath: string, token: string | undefined): Promise<GitLabProject> {
    const { data } = await this.call<{
      project: { web_url: string | null; default_branch: string | null };
    }>(projectQuery, { id: projectId(projectPath) }, token, projectPath);
    return { webUrl: data.project.web_url, defaultBranch: data.project.default_branch };
  }

  /** One page of branches, ordered by name as GitLab lists them. */
  async branches(
    projectPath: string,
    page: number,
    perPage: number,
    token: string | undefined,
  ): Promise<GitLabPage<GitLabBranch>> {
    const { data, headers } = await this.call<{ branches: RawBranch[] }>(
      branchesQuery,
      { id: projectId(projectPath), page, perPage },
      token,
      projectPath,
    );
    return {
      items: data.branches.map(toBranch),
      nextPage: whole(headers?.get('x-next-page')),
      total: whole(headers?.get('x-total')),
    };
  }

  private async call<T>(
    document: ReturnType<typeof gql>,
    variables: Record<string, unknown>,
    token: string | undefined,
    projectPath: string,
  ): Promise<{ data: T; headers?: Headers }> {
    const recorder: ResponseRecorder = {};
    const context: MeshCallContext = {
      gitlabUrl: this.gitlabUrl,
      gitlabAuthorization: token ? `Bearer ${token}` : undefined,
      recorder,
    };
    const result = await this.mesh.execute(document, variables, context);
    const error = result.errors?.[0];
    if (error || !result.data) throw this.translate(error, projectPath);
    return { data: result.data as T, headers: recorder.headers };
  }

  private translate(error: GraphQLError | undefined, projectPath: string): GraphQLError {
    const status = (error?.extensions?.response as { status?: unknown } | undefined)?.status;
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
          `GitLab has no project ${projectPath}, or not one visible to this caller`,
          fromGitLab,
        );
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // We built a request GitLab finds malformed: our bug, not the caller's.
      this.log.error({ status, projectPath }, 'GitLab refused a request of this subgraph');
      return apiError(ErrorCode.Internal, 'internal error');
    }
    this.log.warn(
      { err: error?.originalError ?? error, status, projectPath },
      'GitLab call failed',
    );
    return backendError('gitlab', error);
  }
}

/** GitLab takes a project by numeric id or by its path, URL-encoded once, slashes included. */
function projectId(projectPath: string): string {
  return encodeURIComponent(projectPath);
}

function toBranch(raw: RawBranch): GitLabBranch {
  const authored = raw.commit?.authored_date ? new Date(raw.commit.authored_date) : null;
  return {
    name: raw.name ?? '',
    default: raw.default ?? false,
    protected: raw.protected ?? false,
    commit: {
      id: raw.commit?.id ?? '',
      shortId: raw.commit?.short_id ?? '',
      title: raw.commit?.title ?? '',
      authoredDate: authored && !Number.isNaN(authored.getTime()) ? authored : null,
    },
  };
}

/** A header holding a whole number; GitLab sends an empty value where there is none. */
function whole(header: string | null | undefined): number | undefined {
  return header && /^\d+$/.test(header) ? Number(header) : undefined;
}
