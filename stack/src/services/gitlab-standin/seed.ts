import fs from 'node:fs';
import path from 'node:path';

import { repoRoot } from '../../paths';

/**
 * The seed the stand-in serves unless told otherwise; see README.md beside it.
 * Named from the source folder: the compiled code runs from dist/, where tsc
 * does not copy JSON files.
 */
export const defaultSeedFile = path.join(
  repoRoot,
  'stack',
  'src',
  'services',
  'gitlab-standin',
  'seed.json',
);

export type Visibility = 'public' | 'internal' | 'private';

/** GitLab's access levels: guest 10, reporter 20, developer 30, maintainer 40, owner 50. */
export type AccessLevel = 10 | 20 | 30 | 40 | 50;

/**
 * Token scopes as GitLab names them; the stand-in checks the ones its routes need. `openid`,
 * `profile` and `email` are the OpenID Connect scopes of its OAuth applications.
 */
export type Scope = 'api' | 'read_api' | 'read_user' | 'openid' | 'profile' | 'email';

const knownScopes: readonly string[] = [
  'api',
  'read_api',
  'read_user',
  'openid',
  'profile',
  'email',
];

export interface SeedUser {
  id: number;
  username: string;
  name: string;
  email: string;
  /** The id of the user's personal namespace. */
  namespaceId: number;
  createdAt: string;
  bio?: string;
  /** For the sign-in form of `/oauth/authorize`; a user without one cannot sign in there. */
  password?: string;
}

export interface SeedToken {
  token: string;
  userId: number;
  name: string;
  scopes: Scope[];
}

/**
 * An OAuth application, as an administrator registers one in GitLab (Admin -> Applications):
 * the client that may send users to `/oauth/authorize` and redeem codes at `/oauth/token`.
 */
export interface SeedApplication {
  name: string;
  clientId: string;
  secret: string;
  /**
   * Exact matches, except that a `http://127.0.0.1/...` or `http://[::1]/...` URI matches any
   * port there (RFC 8252, section 7.3), as in GitLab: a local Keycloak's port varies.
   */
  redirectUris: string[];
  /** What the application may ask for; a request for more is refused with `invalid_scope`. */
  scopes: Scope[];
}

/** A direct membership of a user in a project or group. */
export interface SeedMember {
  userId: number;
  accessLevel: AccessLevel;
  /** When the membership began; default the project's or group's `createdAt`. */
  createdAt?: string;
}

export interface SeedGroup {
  id: number;
  path: string;
  name: string;
  parentId?: number;
  createdAt: string;
  /** Members of a group are members of every project below it, as in GitLab. */
  members?: SeedMember[];
}

export interface SeedCommit {
  id: string;
  parentIds: string[];
  message: string;
  /** The username of author and committer. */
  author: string;
  authoredDate: string;
  /**
   * What the commit changes in the repository: a path (`/`-separated, no leading `/`) and
   * the file's new content, as text or, for bytes that are no UTF-8 text, as `{ "base64" }`;
   * null where the commit deletes it.
   */
  files?: Record<string, SeedFile | null>;
}

export type SeedFile = string | { base64: string };

/** A file's bytes, from its text or its Base64. */
export function seedFileBytes(file: SeedFile): Buffer {
  return typeof file === 'string' ? Buffer.from(file, 'utf8') : Buffer.from(file.base64, 'base64');
}

export interface SeedBranch {
  name: string;
  commit: string;
  protected?: boolean;
}

export interface SeedProject {
  id: number;
  /** A username or the full path of a group, e.g. `sdsc/teaching/hs2026`. */
  namespace: string;
  path: string;
  name: string;
  description: string;
  visibility: Visibility;
  defaultBranch: string;
  topics: string[];
  createdAt: string;
  members: SeedMember[];
  /** Default 0. */
  starCount?: number;
  /** Default 0. */
  forksCount?: number;
  commits: SeedCommit[];
  branches: SeedBranch[];
}

export interface Seed {
  users: SeedUser[];
  tokens: SeedToken[];
  /** Default none: without one, nobody can sign in with OAuth. */
  applications?: SeedApplication[];
  groups: SeedGroup[];
  projects: SeedProject[];
}

/** Reads a seed file; a seed that refers to something it does not define is refused. */
export function loadSeed(file: string = defaultSeedFile): Seed {
  const seed = JSON.parse(fs.readFileSync(file, 'utf8')) as Seed;
  const fail = (problem: string): never => {
    throw new Error(`GitLab stand-in seed ${file}: ${problem}`);
  };

  for (const key of ['users', 'tokens', 'groups', 'projects'] as const) {
    if (!Array.isArray(seed[key])) fail(`"${key}" must be a list`);
  }
  const userIds = new Set(seed.users.map((user) => user.id));
  const usernames = new Set(seed.users.map((user) => user.username));
  const groupIds = new Set(seed.groups.map((group) => group.id));

  for (const token of seed.tokens) {
    if (!userIds.has(token.userId))
      fail(`token "${token.name}" names unknown user ${token.userId}`);
  }
  if (seed.applications !== undefined && !Array.isArray(seed.applications)) {
    fail('"applications" must be a list');
  }
  for (const application of seed.applications ?? []) {
    const unknown = application.scopes.find((scope) => !knownScopes.includes(scope));
    if (unknown) fail(`application ${application.clientId} names unknown scope ${unknown}`);
    for (const uri of application.redirectUris) {
      if (!URL.canParse(uri)) fail(`application ${application.clientId}: bad redirect URI ${uri}`);
    }
  }
  for (const group of seed.groups) {
    if (group.parentId !== undefined && !groupIds.has(group.parentId)) {
      fail(`group ${group.path} names unknown parent ${group.parentId}`);
    }
    for (const member of group.members ?? []) {
      if (!userIds.has(member.userId))
        fail(`group ${group.path}: member ${member.userId} is unknown`);
    }
  }
  for (const project of seed.projects) {
    const where = `project ${project.namespace}/${project.path}`;
    const shas = new Set(project.commits.map((commit) => commit.id));
    for (const commit of project.commits) {
      if (!/^[0-9a-f]{40}$/.test(commit.id)) fail(`${where}: commit "${commit.id}" is not a SHA-1`);
      if (!usernames.has(commit.author))
        fail(`${where}: commit author ${commit.author} is unknown`);
      for (const parent of commit.parentIds) {
        if (!shas.has(parent)) fail(`${where}: commit ${commit.id} has unknown parent ${parent}`);
      }
      for (const [file, content] of Object.entries(commit.files ?? {})) {
        if (
          file.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')
        ) {
          fail(`${where}: commit ${commit.id} names the file path "${file}"`);
        }
        const bytes = typeof content === 'object' && content !== null ? content.base64 : '';
        if (typeof bytes !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(bytes)) {
          fail(`${where}: commit ${commit.id} gives "${file}" neither as text nor as Base64`);
        }
      }
    }
    for (const branch of project.branches) {
      if (!shas.has(branch.commit)) fail(`${where}: branch ${branch.name} points nowhere`);
    }
    if (!project.branches.some((branch) => branch.name === project.defaultBranch)) {
      fail(`${where}: default branch ${project.defaultBranch} does not exist`);
    }
    for (const member of project.members) {
      if (!userIds.has(member.userId)) fail(`${where}: member ${member.userId} is unknown`);
    }
  }
  return seed;
}
