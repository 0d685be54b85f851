import type { Scope, Seed, SeedCommit, SeedProject, SeedToken, SeedUser } from './seed';

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
  private readonly projectsById = new Map<number, SeedProject>();
  private readonly projectsByPath = new Map<string, SeedProject>();

  constructor(seed: Seed) {
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

  tokenOwner(token: string): Caller {
    const found = this.tokens.get(token);
    if (!found) return undefined;
    return { user: this.usersById.get(found.userId)!, scopes: found.scopes };
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

  accessLevel(project: SeedProject, caller: Caller): number {
    if (!caller) return 0;
    return project.members.find((member) => member.userId === caller.user.id)?.accessLevel ?? 0;
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

  /** A branch name or a commit SHA, as GitLab's `ref_name` takes it. */
  resolveRef(project: SeedProject, ref: string): SeedCommit | undefined {
    const branch = project.branches.find((candidate) => candidate.name === ref);
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
}
