import type { Logger } from '@renku-supergraph/kit';
import DataLoader from 'dataloader';

import { logGitLabFailure } from './gitlab-errors';
import { GitLabFailure, graphqlEndpoint, projectsByPath } from './gitlab-graphql';
import { fullPathsPerCall } from './project-facts';
import { roleOf, type GitLabMember } from './rest';

/**
 * How many members of each project one call asks: GitLab's most per connection page. A project
 * with more has its first page read through REST instead, since only a complete list can be
 * put into REST's order (see `membersOf`).
 */
export const membersPerProject = 100;

/**
 * What REST's `members/all` lists: direct members, members of the groups above, of groups the
 * project is shared with and of groups shared into its ancestors. GitLab's GraphQL default is
 * `[DIRECT, INHERITED]` alone.
 */
const restRelations = ['DIRECT', 'INHERITED', 'INVITED_GROUPS', 'SHARED_INTO_ANCESTORS'];

// An operation on the vendored subset of GitLab's GraphQL schema
// (`mesh/gitlab-graphql/schema-subset.graphql`); tests/gitlab validates it against that file.
export const projectMembersQuery = `
  query ProjectMembers(
    $fullPaths: [String!]!
    $first: Int!
    $after: String
    $relations: [ProjectMemberRelation!]
    $membersPerProject: Int!
  ) {
    projects(fullPaths: $fullPaths, first: $first, after: $after) {
      nodes {
        fullPath
        projectMembers(relations: $relations, first: $membersPerProject) {
          nodes {
            id
            accessLevel {
              integerValue
            }
            expiresAt
            user {
              username
              name
              state
              avatarUrl
              webUrl
            }
          }
          pageInfo {
            hasNextPage
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

interface RawMember {
  id: string;
  accessLevel: { integerValue: number | null } | null;
  expiresAt: string | null;
  /** Null for an invitation that no user accepted yet; REST leaves those out. */
  user: {
    username: string;
    name: string;
    state: string;
    avatarUrl: string | null;
    webUrl: string;
  } | null;
}

interface RawProject {
  fullPath: string;
  /** Null where GitLab refuses this caller the members (an error beside the answer). */
  projectMembers: {
    nodes: (RawMember | null)[] | null;
    pageInfo: { hasNextPage: boolean };
  } | null;
}

/**
 * The members of many projects through GitLab's GraphQL API (`Project.projectMembers`), where
 * REST's `members/all` takes one call per project. Only the first page of a list comes from
 * here; later pages, and every project this source cannot answer exactly as REST would, go
 * through REST (`GitLabApi.members`).
 */
export class GitLabProjectMembers {
  private readonly endpoint: string;

  constructor(
    gitlabUrl: string,
    private readonly log: Logger,
  ) {
    this.endpoint = graphqlEndpoint(gitlabUrl);
  }

  /**
   * A loader for one request: all members of each project, in REST's order, or null where the
   * caller must ask REST (more than `membersPerProject` members, a project GitLab left out or
   * refused, a failed call). The projects asked in the same tick share one GitLab call per
   * `fullPathsPerCall`, sent with the caller's GitLab token (or none).
   */
  loader(token: string | undefined): DataLoader<string, GitLabMember[] | null> {
    return new DataLoader<string, GitLabMember[] | null>((paths) => this.lookUp(paths, token), {
      maxBatchSize: fullPathsPerCall,
    });
  }

  private async lookUp(
    paths: readonly string[],
    token: string | undefined,
  ): Promise<(GitLabMember[] | null)[]> {
    let found: Map<string, GitLabMember[] | null>;
    try {
      found = await this.fetchAll(paths, token);
    } catch (error) {
      if (!(error instanceof GitLabFailure)) throw error;
      // REST says what is wrong in its own words (GitLab's GraphQL refuses a token without the
      // API scopes with 401, REST with 403): the members fail exactly as they did before.
      logGitLabFailure(this.log, error.status, { projectPath: paths.join(', ') }, error.cause);
      return paths.map(() => null);
    }
    // Full paths are case-insensitive to GitLab, and it answers with the project's own case.
    return paths.map((projectPath) => found.get(projectPath.toLowerCase()) ?? null);
  }

  private async fetchAll(
    paths: readonly string[],
    token: string | undefined,
  ): Promise<Map<string, GitLabMember[] | null>> {
    const operation = {
      operationName: 'ProjectMembers',
      query: projectMembersQuery,
      variables: { relations: restRelations, membersPerProject },
    };
    // Refused as a whole (our bug, logged), REST answers instead; errors beside an answer leave
    // those projects' members null: REST too.
    const nodes = await projectsByPath<RawProject>(
      this.endpoint,
      operation,
      paths,
      token,
      this.log,
    );
    return new Map([...(nodes ?? [])].map(([path, node]) => [path, membersOf(node)]));
  }
}

/**
 * A project's members in REST's order, or null when GitLab gave not all of them. REST's
 * `members/all` orders by membership id, ascending (GitLab's offset pagination adds
 * `ORDER BY id`); GraphQL's connection orders by the same id, descending, and has no sort by
 * it: so the whole list is read and put in REST's order here.
 */
function membersOf(project: RawProject): GitLabMember[] | null {
  const connection = project.projectMembers;
  if (!connection || connection.pageInfo.hasNextPage) return null;

  const members: { id: number; member: GitLabMember }[] = [];
  for (const node of connection.nodes ?? []) {
    if (!node?.user) continue;
    const id = memberId(node.id);
    if (id === undefined) return null;
    const accessLevel = node.accessLevel?.integerValue ?? 0;
    members.push({
      id,
      member: {
        username: node.user.username,
        name: node.user.name,
        state: node.user.state,
        avatarUrl: node.user.avatarUrl,
        webUrl: node.user.webUrl,
        accessLevel,
        role: roleOf(accessLevel),
        // `Time` in GraphQL; REST's `expires_at` is the date alone.
        expiresAt: node.expiresAt === null ? null : node.expiresAt.slice(0, 10),
      },
    });
  }
  return members.sort((a, b) => a.id - b.id).map(({ member }) => member);
}

/** A member's `ID`: the number itself, or a global ID ending in it. */
function memberId(id: string): number | undefined {
  const digits = /(\d+)$/.exec(id)?.[1];
  return digits === undefined ? undefined : Number(digits);
}
