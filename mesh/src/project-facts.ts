import { ErrorCode, apiError, type Logger } from '@renku-supergraph/kit';
import DataLoader from 'dataloader';
import type { GraphQLError } from 'graphql';

import { gitlabError, logGitLabFailure } from './gitlab-errors';
import { GitLabFailure, graphqlEndpoint, projectsByPath } from './gitlab-graphql';

/**
 * GitLab's cap on `projects(fullPaths:)`: the facts of this many projects share one call.
 * `mesh/gitlab-graphql/SOURCE.md` has it from GitLab's reference.
 */
export const fullPathsPerCall = 50;

/** GitLab's project facts that this subgraph shows. */
export interface GitLabProject {
  webUrl: string | null;
  defaultBranch: string | null;
  starCount: number | null;
  forksCount: number | null;
  /** Null where GitLab withholds them: for callers below the Reporter role. */
  statistics: ProjectStatistics | null;
}

export interface ProjectStatistics {
  commitCount: number;
  storageSize: number;
  repositorySize: number;
  wikiSize: number;
  lfsObjectsSize: number;
  jobArtifactsSize: number;
  pipelineArtifactsSize: number;
  packagesSize: number;
  snippetsSize: number;
  uploadsSize: number;
  containerRegistrySize: number;
}

// An operation on the vendored subset of GitLab's GraphQL schema
// (`mesh/gitlab-graphql/schema-subset.graphql`); tests/gitlab validates it against that file.
export const projectFactsQuery = `
  query ProjectFacts($fullPaths: [String!]!, $first: Int!, $after: String) {
    projects(fullPaths: $fullPaths, first: $first, after: $after) {
      nodes {
        fullPath
        webUrl
        starCount
        forksCount
        repository {
          rootRef
        }
        statistics {
          commitCount
          storageSize
          repositorySize
          wikiSize
          lfsObjectsSize
          buildArtifactsSize
          pipelineArtifactsSize
          packagesSize
          snippetsSize
          uploadsSize
          containerRegistrySize
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

interface RawStatistics {
  commitCount: number;
  storageSize: number;
  repositorySize: number;
  wikiSize: number | null;
  lfsObjectsSize: number;
  buildArtifactsSize: number;
  pipelineArtifactsSize: number | null;
  packagesSize: number;
  snippetsSize: number | null;
  uploadsSize: number | null;
  containerRegistrySize: number | null;
}

interface RawProject {
  fullPath: string;
  webUrl: string | null;
  starCount: number;
  forksCount: number;
  /** Null for callers who may not read the code, such as guests of a private project. */
  repository: { rootRef: string | null } | null;
  statistics: RawStatistics | null;
}

/**
 * The per-project facts (web URL, default branch, stars, forks, statistics) through GitLab's
 * GraphQL API, which looks up many projects at once where REST takes one call each.
 */
export class GitLabProjectFacts {
  private readonly endpoint: string;

  constructor(
    gitlabUrl: string,
    private readonly log: Logger,
  ) {
    this.endpoint = graphqlEndpoint(gitlabUrl);
  }

  /**
   * A loader for one request: the projects asked for in the same tick share one GitLab call
   * per `fullPathsPerCall` paths, sent with the caller's GitLab token (or none), and each path
   * is asked once per request, however many of its facts are wanted.
   */
  loader(token: string | undefined): DataLoader<string, GitLabProject> {
    return new DataLoader<string, GitLabProject>((paths) => this.lookUp(paths, token), {
      maxBatchSize: fullPathsPerCall,
    });
  }

  /** The facts of each path, in the order of `paths`; an error for each one GitLab lacks. */
  private async lookUp(
    paths: readonly string[],
    token: string | undefined,
  ): Promise<(GitLabProject | GraphQLError)[]> {
    let found: Map<string, GitLabProject>;
    try {
      found = await this.fetchAll(paths, token);
    } catch (error) {
      if (!(error instanceof GitLabFailure)) throw error;
      // A refusal of the whole call: each project's fields fail with it, as REST ones would.
      logGitLabFailure(this.log, error.status, { projectPath: paths.join(', ') }, error.cause);
      return paths.map((projectPath) => gitlabError(error.status, { projectPath }, error.cause));
    }

    // Full paths are case-insensitive to GitLab, and it answers with the project's own case.
    return paths.map(
      (projectPath) =>
        found.get(projectPath.toLowerCase()) ??
        apiError(
          ErrorCode.NotFound,
          `GitLab has no project ${projectPath}, or not one visible to this caller`,
          { backend: 'gitlab' },
        ),
    );
  }

  private async fetchAll(
    paths: readonly string[],
    token: string | undefined,
  ): Promise<Map<string, GitLabProject>> {
    const operation = { operationName: 'ProjectFacts', query: projectFactsQuery, variables: {} };
    const nodes = await projectsByPath<RawProject>(
      this.endpoint,
      operation,
      paths,
      token,
      this.log,
    );
    // GitLab refusing our own operation (a field it lacks, too many paths) is our bug.
    if (!nodes) throw apiError(ErrorCode.Internal, 'internal error');
    return new Map([...nodes].map(([path, node]) => [path, toProject(node)]));
  }
}

function toProject(raw: RawProject): GitLabProject {
  const stats = raw.statistics;
  return {
    webUrl: raw.webUrl,
    defaultBranch: raw.repository?.rootRef ?? null,
    starCount: raw.starCount,
    forksCount: raw.forksCount,
    statistics: stats
      ? {
          // GitLab's GraphQL types the count as Float; it is a whole number.
          commitCount: Math.round(stats.commitCount),
          storageSize: stats.storageSize,
          repositorySize: stats.repositorySize,
          wikiSize: stats.wikiSize ?? 0,
          lfsObjectsSize: stats.lfsObjectsSize,
          // REST's `job_artifacts_size` is `buildArtifactsSize` in GitLab's GraphQL.
          jobArtifactsSize: stats.buildArtifactsSize,
          pipelineArtifactsSize: stats.pipelineArtifactsSize ?? 0,
          packagesSize: stats.packagesSize,
          snippetsSize: stats.snippetsSize ?? 0,
          uploadsSize: stats.uploadsSize ?? 0,
          containerRegistrySize: stats.containerRegistrySize ?? 0,
        }
      : null,
  };
}
