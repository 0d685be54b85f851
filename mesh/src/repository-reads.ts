import { ErrorCode, apiError } from '@renku-supergraph/kit';

/**
 * The projects whose repository one request reads. GitLab answers branches, commits, folders
 * and files for one project per call: its REST API has no call for several projects, and its
 * GraphQL API lists no commits, gives a blob without its commits, and prices `branchNames` at
 * 170 of the 250 points a query may cost (`docs/benchmarks.md`, "Backend calls per query").
 * So a list of projects would cost one GitLab call per project. Like GitLab's own GraphQL API,
 * which lets fields that read Git answer for a few objects per request, a request here reads
 * the repositories of at most `limit` projects; asking for the next one fails that field alone
 * with LIMIT_EXCEEDED, in the order GraphQL resolves them, and the answer keeps the rest.
 */
export class RepositoryReads {
  private readonly projects = new Set<string>();

  constructor(private readonly limit: number) {}

  /** Counts `projectPath` as read, or throws if it is one project more than the limit. */
  admit(projectPath: string, field: string): void {
    // GitLab matches paths without regard to case: two spellings are one repository.
    const key = projectPath.toLowerCase();
    if (this.projects.has(key)) return;
    if (this.projects.size >= this.limit) {
      const projects = this.limit === 1 ? 'one project' : `${this.limit} projects`;
      throw apiError(
        ErrorCode.LimitExceeded,
        `\`${field}\` reads the repository of ${projects} per request, as GitLab answers one ` +
          'project per call: ask for this one in a request of its own, e.g. with `project(path:)`',
        { limit: this.limit },
      );
    }
    this.projects.add(key);
  }
}
