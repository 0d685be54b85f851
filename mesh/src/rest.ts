import gql from 'graphql-tag';

// GitLab's answers as the generated mesh gives them, and what this subgraph makes of them.
// Every field may be null in the mesh: the OpenAPI spec marks none of them required.

export const commitFields = gql`
  fragment CommitFields on APIEntitiesCommit {
    id
    short_id
    parent_ids
    title
    message
    author_name
    authored_date
    committed_date
    web_url
  }
`;

type Nullable<T> = { [K in keyof T]: T[K] | null };

export type RawCommit = Nullable<{
  id: string;
  short_id: string;
  parent_ids: (string | null)[];
  title: string;
  message: string;
  author_name: string;
  authored_date: string | Date;
  committed_date: string | Date;
  web_url: string;
}>;

export type RawBranch = Nullable<{
  name: string;
  default: boolean;
  protected: boolean;
  commit: RawCommit;
}>;

export type RawTreeEntry = Nullable<{
  id: string;
  name: string;
  type: string;
  path: string;
  mode: string;
}>;

export type RawFile = Nullable<{
  file_name: string;
  file_path: string;
  size: number;
  encoding: string;
  content: string;
  content_sha256: string;
  ref: string;
  blob_id: string;
  commit_id: string;
  last_commit_id: string;
}>;

export type RawMember = Nullable<{
  username: string;
  name: string;
  state: string;
  avatar_url: string;
  web_url: string;
  access_level: number;
  expires_at: string;
}>;

export interface GitLabCommit {
  id: string;
  shortId: string;
  parentIds: string[];
  title: string;
  message: string;
  authorName: string | null;
  authoredDate: Date | null;
  committedDate: Date | null;
  webUrl: string | null;
}

export interface GitLabBranch {
  name: string;
  default: boolean;
  protected: boolean;
  commit: GitLabCommit;
}

export interface GitLabTreeEntry {
  id: string;
  name: string;
  path: string;
  type: 'TREE' | 'BLOB' | 'COMMIT';
  mode: string;
}

export interface GitLabFile {
  path: string;
  name: string;
  ref: string;
  size: number;
  blobId: string;
  commitId: string;
  lastCommitId: string;
  contentSha256: string;
  contentBase64: string;
  /** The content as text; null when it is not valid UTF-8, as for most binary files. */
  content: string | null;
}

export interface GitLabMember {
  username: string;
  name: string | null;
  state: string | null;
  avatarUrl: string | null;
  webUrl: string | null;
  accessLevel: number;
  role: MemberRole;
  /** A date, `YYYY-MM-DD`; null when the membership does not expire. */
  expiresAt: string | null;
}

export type MemberRole =
  | 'NO_ACCESS'
  | 'MINIMAL_ACCESS'
  | 'GUEST'
  | 'PLANNER'
  | 'REPORTER'
  | 'DEVELOPER'
  | 'MAINTAINER'
  | 'OWNER';

/** GitLab's access levels: https://docs.gitlab.com/api/members/#roles */
const roles: [number, MemberRole][] = [
  [50, 'OWNER'],
  [40, 'MAINTAINER'],
  [30, 'DEVELOPER'],
  [20, 'REPORTER'],
  [15, 'PLANNER'],
  [10, 'GUEST'],
  [5, 'MINIMAL_ACCESS'],
  [0, 'NO_ACCESS'],
];

/** The role of an access level; a level between roles (custom roles) counts as the one below. */
export function roleOf(accessLevel: number): MemberRole {
  return roles.find(([level]) => accessLevel >= level)?.[1] ?? 'NO_ACCESS';
}

export function toCommit(raw: RawCommit | null): GitLabCommit {
  return {
    id: raw?.id ?? '',
    shortId: raw?.short_id ?? '',
    parentIds: (raw?.parent_ids ?? []).filter((id): id is string => typeof id === 'string'),
    title: raw?.title ?? '',
    message: raw?.message ?? '',
    authorName: raw?.author_name ?? null,
    authoredDate: date(raw?.authored_date),
    committedDate: date(raw?.committed_date),
    webUrl: raw?.web_url ?? null,
  };
}

export function toBranch(raw: RawBranch): GitLabBranch {
  return {
    name: raw.name ?? '',
    default: raw.default ?? false,
    protected: raw.protected ?? false,
    commit: toCommit(raw.commit),
  };
}

export function toTreeEntry(raw: RawTreeEntry): GitLabTreeEntry {
  // `commit` entries are submodules: a commit of another repository.
  const type = raw.type === 'tree' ? 'TREE' : raw.type === 'commit' ? 'COMMIT' : 'BLOB';
  return {
    id: raw.id ?? '',
    name: raw.name ?? '',
    path: raw.path ?? '',
    type,
    mode: raw.mode ?? '',
  };
}

export function toFile(raw: RawFile): GitLabFile {
  const base64 = raw.encoding === 'base64' ? (raw.content ?? '') : undefined;
  const bytes =
    base64 === undefined ? Buffer.from(raw.content ?? '', 'utf8') : Buffer.from(base64, 'base64');
  return {
    path: raw.file_path ?? '',
    name: raw.file_name ?? '',
    ref: raw.ref ?? '',
    size: raw.size ?? bytes.length,
    blobId: raw.blob_id ?? '',
    commitId: raw.commit_id ?? '',
    lastCommitId: raw.last_commit_id ?? '',
    contentSha256: raw.content_sha256 ?? '',
    contentBase64: bytes.toString('base64'),
    content: utf8(bytes),
  };
}

export function toMember(raw: RawMember): GitLabMember {
  const accessLevel = raw.access_level ?? 0;
  return {
    username: raw.username ?? '',
    name: raw.name ?? null,
    state: raw.state ?? null,
    avatarUrl: raw.avatar_url ?? null,
    webUrl: raw.web_url ?? null,
    accessLevel,
    role: roleOf(accessLevel),
    expiresAt: raw.expires_at ?? null,
  };
}

function date(value: string | Date | null | undefined): Date | null {
  if (value == null) return null;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? null : parsed;
}

/** The bytes as text, or null when they are not valid UTF-8. */
function utf8(bytes: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
