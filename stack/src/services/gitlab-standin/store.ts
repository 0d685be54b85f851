import { OAuthGrants } from './oauth-grants';
import { RepositorySnapshot } from './repository';
import {
  seedFileBytes,
  type Scope,
  type Seed,
  type SeedApplication,
  type SeedCommit,
  type SeedGroup,
  type SeedProject,
  type SeedToken,
  type SeedUser,
} from './seed';

export interface Namespace {
  id: number;
  name: string;
  path: string;
  kind: 'user' | 'group';
  fullPath: string;
  /** The names from the top down, as GitLab shows them: `Parent / Child`. */
  fullName: string;
  parentId: number | null;
}

/** A user's membership of a project, direct or through one of its groups. */
export interface Membership {
  user: SeedUser;
  accessLevel: number;
  createdAt: string;
}

/** The relations of GitLab's GraphQL `Project.projectMembers(relations:)`. */
export type MemberRelation =
  'DIRECT' | 'INHERITED' | 'DESCENDANTS' | 'INVITED_GROUPS' | 'SHARED_INTO_ANCESTORS';

/** One row of GitLab's members table, as its GraphQL API lists a project's members. */
export interface MemberRow {
  /**
   * The stand-in numbers rows user id × 1,000,000 + the project's or group's id, so that their
   * order by id (GitLab's order of members) is the order by user id of `members`.
   */
  id: number;
  /** A membership of the project itself, or of a group above it. */
  source: 'project' | 'group';
  user: SeedUser;
  /** The user's highest access level to the project, whichever row grants it. */
  accessLevel: number;
}

/** Who is asking: nobody, or a token's owner with the token's scopes. */
export type Caller = { user: SeedUser; scopes: Scope[] } | undefined;

const guest = 10;
const reporter = 20;

/** The seed, indexed the ways GitLab looks things up, and GitLab's rules of who sees what. */
export class GitLabStore {
  private readonly usersById = new Map<number, SeedUser>();
  private readonly usersByName = new Map<string, SeedUser>();
  private readonly tokens = new Map<string, SeedToken>();
  private readonly namespaces = new Map<string, Namespace>();
  private readonly groupsByPath = new Map<string, SeedGroup>();
  /** By project id and commit SHA; a commit's files never change. */
  private readonly snapshots = new Map<string, RepositorySnapshot>();
  private readonly projectsById = new Map<number, SeedProject>();
  private readonly projectsByPath = new Map<string, SeedProject>();
  private readonly applications = new Map<string, SeedApplication>();
  /** Codes and tokens of the OAuth applications (`/oauth/*`, see oauth.ts). */
  readonly oauth: OAuthGrants;

  constructor(seed: Seed, options: { accessTokenLifetimeSec?: number } = {}) {
    this.oauth = new OAuthGrants(options.accessTokenLifetimeSec);
    for (const application of seed.applications ?? []) {
      this.applications.set(application.clientId, application);
    }
    for (const user of seed.users) {
      this.usersById.set(user.id, user);
      this.usersByName.set(user.username, user);
      this.namespaces.set(user.username.toLowerCase(), {
        id: user.namespaceId,
        name: user.name,
        path: user.username,
        kind: 'user',
        fullPath: user.username,
        fullName: user.name,
        parentId: null,
      });
    }
    for (const token of seed.tokens) this.tokens.set(token.token, token);

    const groupsById = new Map(seed.groups.map((group) => [group.id, group]));
    const chain = (id: number): { path: string; name: string }[] => {
      const group = groupsById.get(id)!;
      return [...(group.parentId === undefined ? [] : chain(group.parentId)), group];
    };
    for (const group of seed.groups) {
      const ancestry = chain(group.id);
      const fullPath = ancestry.map((each) => each.path).join('/');
      this.groupsByPath.set(fullPath.toLowerCase(), group);
      this.namespaces.set(fullPath.toLowerCase(), {
        id: group.id,
        name: group.name,
        path: group.path,
        kind: 'group',
        fullPath,
        fullName: ancestry.map((each) => each.name).join(' / '),
        parentId: group.parentId ?? null,
      });
    }

    for (const project of seed.projects) {
      if (!this.namespaces.has(project.namespace.toLowerCase())) {
        throw new Error(
          `GitLab stand-in seed: project ${project.path} has no namespace ${project.namespace}`,
        );
      }
      this.projectsById.set(project.id, project);
      this.projectsByPath.set(`${project.namespace}/${project.path}`.toLowerCase(), project);
    }
  }

  /**
   * Who a token belongs to: a personal access token of the seed or a live OAuth access token
   * (`/oauth/token`). Every route that takes a token, REST or GraphQL, asks here.
   */
  tokenOwner(token: string): Caller {
    const found = this.tokens.get(token) ?? this.oauth.owner(token);
    if (!found) return undefined;
    return { user: this.usersById.get(found.userId)!, scopes: found.scopes };
  }

  application(clientId: string): SeedApplication | undefined {
    return this.applications.get(clientId);
  }

  userByLogin(login: string): SeedUser | undefined {
    // GitLab's sign-in form takes the username or the e-mail address.
    const lower = login.toLowerCase();
    return [...this.usersById.values()].find(
      (user) => user.username.toLowerCase() === lower || user.email.toLowerCase() === lower,
    );
  }

  /**
   * Full paths of the groups a user belongs to, directly or through an ancestor group: the
   * `groups` claim of GitLab's userinfo.
   */
  groupPaths(user: SeedUser): string[] {
    const isMember = (path: string) =>
      this.groupsByPath.get(path.toLowerCase())?.members?.some((m) => m.userId === user.id);
    return [...this.namespaces.values()]
      .filter((namespace) => namespace.kind === 'group')
      .map((namespace) => namespace.fullPath)
      .filter((fullPath) => {
        const segments = fullPath.split('/');
        return segments.some((_, depth) => isMember(segments.slice(0, depth + 1).join('/')));
      })
      .sort();
  }

  user(username: string): SeedUser {
    const user = this.usersByName.get(username);
    if (!user) throw new Error(`GitLab stand-in seed: no user ${username}`);
    return user;
  }

  userById(id: number): SeedUser | undefined {
    return this.usersById.get(id);
  }

  namespace(project: SeedProject): Namespace {
    return this.namespaces.get(project.namespace.toLowerCase())!;
  }

  /** Like GitLab: a numeric id, or a full path (already URL-decoded), case-insensitive. */
  project(idOrPath: string): SeedProject | undefined {
    if (/^\d+$/.test(idOrPath)) return this.projectsById.get(Number(idOrPath));
    return this.projectsByPath.get(idOrPath.toLowerCase());
  }

  /** Every project of the seed, visible or not. */
  allProjects(): SeedProject[] {
    return [...this.projectsById.values()];
  }

  accessLevel(project: SeedProject, caller: Caller): number {
    if (!caller) return 0;
    return (
      this.members(project).find((member) => member.user.id === caller.user.id)?.accessLevel ?? 0
    );
  }

  /**
   * Direct members and those of the groups above the project, each once with their highest
   * access level, ordered by user id: what GitLab's `members/all` lists.
   */
  members(project: SeedProject): Membership[] {
    const best = new Map<number, Membership>();
    const consider = (members: SeedGroup['members'], since: string) => {
      for (const member of members ?? []) {
        const known = best.get(member.userId);
        if (known && known.accessLevel >= member.accessLevel) continue;
        best.set(member.userId, {
          user: this.usersById.get(member.userId)!,
          accessLevel: member.accessLevel,
          createdAt: member.createdAt ?? since,
        });
      }
    };

    consider(project.members, project.createdAt);
    const segments = project.namespace.split('/');
    for (let depth = 1; depth <= segments.length; depth += 1) {
      const group = this.groupsByPath.get(segments.slice(0, depth).join('/').toLowerCase());
      if (group) consider(group.members, group.createdAt);
    }
    return [...best.values()].sort((a, b) => a.user.id - b.user.id);
  }

  /**
   * A project's members as GitLab's GraphQL `projectMembers` finds them: each user with a
   * membership among `relations` once, the project's own row before a group's, with the
   * highest access level the user has to the project. The seed has no shared groups, so
   * `INVITED_GROUPS`, `SHARED_INTO_ANCESTORS` and (for a project) `DESCENDANTS` add nobody.
   */
  memberRows(project: SeedProject, relations: ReadonlySet<MemberRelation>): MemberRow[] {
    const highest = new Map(this.members(project).map((each) => [each.user.id, each.accessLevel]));
    const rows = new Map<number, MemberRow>();
    const add = (members: SeedGroup['members'], source: MemberRow['source'], sourceId: number) => {
      for (const member of members ?? []) {
        if (rows.has(member.userId)) continue;
        rows.set(member.userId, {
          id: member.userId * 1_000_000 + sourceId,
          source,
          user: this.usersById.get(member.userId)!,
          accessLevel: highest.get(member.userId) ?? member.accessLevel,
        });
      }
    };

    if (relations.has('DIRECT')) add(project.members, 'project', project.id);
    if (relations.has('INHERITED')) {
      const segments = project.namespace.split('/');
      for (let depth = 1; depth <= segments.length; depth += 1) {
        const group = this.groupsByPath.get(segments.slice(0, depth).join('/').toLowerCase());
        if (group) add(group.members, 'group', group.id);
      }
    }
    return [...rows.values()];
  }

  canSee(project: SeedProject, caller: Caller): boolean {
    if (project.visibility === 'public') return true;
    if (project.visibility === 'internal') return caller !== undefined;
    return this.accessLevel(project, caller) >= guest;
  }

  /** Guests of a private project see the project but not its code. */
  canReadCode(project: SeedProject, caller: Caller): boolean {
    if (project.visibility !== 'private') return this.canSee(project, caller);
    return this.accessLevel(project, caller) >= reporter;
  }

  commit(project: SeedProject, sha: string): SeedCommit | undefined {
    return project.commits.find((commit) => commit.id === sha);
  }

  /** A branch name, a commit SHA or `HEAD` (the default branch), as GitLab takes a ref. */
  resolveRef(project: SeedProject, ref: string): SeedCommit | undefined {
    const name = ref === 'HEAD' ? project.defaultBranch : ref;
    const branch = project.branches.find((candidate) => candidate.name === name);
    return this.commit(project, branch ? branch.commit : ref);
  }

  /** The history reachable from a commit, newest first, as `git log` lists it. */
  history(project: SeedProject, head: SeedCommit): SeedCommit[] {
    const seen = new Map<string, SeedCommit>();
    const pending = [head];
    while (pending.length > 0) {
      const commit = pending.pop()!;
      if (seen.has(commit.id)) continue;
      seen.set(commit.id, commit);
      for (const parent of commit.parentIds) pending.push(this.commit(project, parent)!);
    }
    return [...seen.values()].sort((a, b) => b.authoredDate.localeCompare(a.authoredDate));
  }

  /** Whether a branch's head is already part of the default branch. */
  isMerged(project: SeedProject, sha: string): boolean {
    const head = this.resolveRef(project, project.defaultBranch)!;
    return this.history(project, head).some((commit) => commit.id === sha);
  }

  /** The repository's files at a commit: the changes of its history, oldest first. */
  snapshot(project: SeedProject, commit: SeedCommit): RepositorySnapshot {
    const key = `${project.id}:${commit.id}`;
    let snapshot = this.snapshots.get(key);
    if (!snapshot) {
      const files = new Map<string, Buffer>();
      for (const each of this.history(project, commit).reverse()) {
        for (const [path, file] of Object.entries(each.files ?? {})) {
          if (file === null) files.delete(path);
          else files.set(path, seedFileBytes(file));
        }
      }
      snapshot = new RepositorySnapshot(files);
      this.snapshots.set(key, snapshot);
    }
    return snapshot;
  }

  /** The newest commit up to `head` that changed the file at `path`. */
  lastChange(project: SeedProject, head: SeedCommit, path: string): SeedCommit | undefined {
    return this.history(project, head).find((commit) => commit.files?.[path] !== undefined);
  }

  /**
   * What GitLab's `statistics=true` adds: commits of the default branch, and as repository
   * size the bytes of every file version of any commit (GitLab measures the Git objects on
   * disk, compressed; the stand-in has no disk). Nothing else takes space here.
   */
  statistics(project: SeedProject): { commitCount: number; repositorySize: number } {
    const head = this.resolveRef(project, project.defaultBranch);
    const versions = new Map<string, number>();
    for (const commit of project.commits) {
      for (const [path, file] of Object.entries(commit.files ?? {})) {
        if (file === null) continue;
        const bytes = seedFileBytes(file);
        versions.set(`${path}\0${bytes.toString('base64')}`, bytes.length);
      }
    }
    return {
      commitCount: head ? this.history(project, head).length : 0,
      repositorySize: [...versions.values()].reduce((sum, size) => sum + size, 0),
    };
  }
}
