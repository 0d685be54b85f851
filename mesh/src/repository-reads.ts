import { ErrorCode, apiError } from '@renku-supergraph/kit';

/**
 * GitLab's per-project reads of one request to this subgraph. GitLab answers branches,
 * commits, folders, files and later pages of members for one project per call: its REST API
 * has no call for several projects, and its GraphQL API lists no commits, gives a blob without
 * its commits, and prices `branchNames` at 170 of the 250 points a query may cost
 * (`docs/benchmarks.md`, "Backend calls per query"). So a list of projects would cost one
 * GitLab call per project. Like GitLab's own GraphQL API, which lets fields that read Git
 * answer for a few objects per request, a request here reads for at most `limit` projects;
 * asking for the next one fails that field alone with LIMIT_EXCEEDED, in the order GraphQL
 * resolves them, and the answer keeps the rest. The same read asked twice (the same project
 * again in a list, an alias) is one call.
 */
export class RepositoryReads {
  private readonly projects = new Set<string>();
  private readonly reads = new Map<string, Promise<unknown>>();

  constructor(private readonly limit: number) {}

  /**
   * `call`'s answer, asked of GitLab once per request for the same project, field and `key`
   * (the arguments and page); throws if the project is one more than the limit.
   */
  read<T>(projectPath: string, field: string, key: unknown[], call: () => Promise<T>): Promise<T> {
    const project = this.admit(projectPath, field);
    const id = JSON.stringify([project, field, ...key]);
    let read = this.reads.get(id) as Promise<T> | undefined;
    if (!read) {
      read = call();
      this.reads.set(id, read);
    }
    return read;
  }

  private admit(projectPath: string, field: string): string {
    // GitLab matches paths without regard to (ASCII) case: two spellings are one repository.
    const project = projectPath.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
    if (this.projects.has(project)) return project;
    if (this.projects.size >= this.limit) {
      const projects = this.limit === 1 ? 'one project' : `${this.limit} projects`;
      throw apiError(
        ErrorCode.LimitExceeded,
        `\`${field}\` is read from GitLab for ${projects} per list, as GitLab answers one ` +
          'project per call: ask for this project on its own, with `project(path:)`',
        { limit: this.limit },
      );
    }
    this.projects.add(project);
    return project;
  }
}
