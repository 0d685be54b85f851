import type { MeshInstance } from '@graphql-mesh/runtime';
import type { Logger } from '@renku-supergraph/kit';
import type { GraphQLError } from 'graphql';
import gql from 'graphql-tag';

import { gitlabError, logGitLabFailure, type Subject } from './gitlab-errors';
import type { MeshCallContext, ResponseRecorder } from './mesh';
import {
  commitFields,
  toBranch,
  toCommit,
  toFile,
  toMember,
  toTreeEntry,
  type GitLabBranch,
  type GitLabCommit,
  type GitLabFile,
  type GitLabMember,
  type GitLabTreeEntry,
  type RawBranch,
  type RawCommit,
  type RawFile,
  type RawMember,
  type RawTreeEntry,
} from './rest';

export type { GitLabBranch, GitLabCommit, GitLabFile, GitLabMember, GitLabTreeEntry } from './rest';

/** One page of an offset-paged list, with what GitLab's headers say about the others. */
export interface GitLabPage<T> {
  items: T[];
  /** From `X-Next-Page`; absent on the last page. */
  nextPage?: number;
  /** From `X-Total`; GitLab leaves it out for very long lists. */
  total?: number;
}

// Operations on the GraphQL schema Mesh generated from GitLab's OpenAPI spec.
const branchesQuery = gql`
  query Branches($id: String!, $page: Int!, $perPage: Int!) {
    items: getApiV4ProjectsIdRepositoryBranches(id: $id, page: $page, per_page: $perPage) {
      name
      default
      protected
      commit {
        ...CommitFields
      }
    }
  }
  ${commitFields}
`;

const commitsQuery = gql`
  query Commits($id: String!, $ref: String, $page: Int!, $perPage: Int!) {
    items: getApiV4ProjectsIdRepositoryCommits(
      id: $id
      ref_name: $ref
      page: $page
      per_page: $perPage
    ) {
      ...CommitFields
    }
  }
  ${commitFields}
`;

const treeQuery = gql`
  query Tree(
    $id: String!
    $ref: queryInput_getApiV4ProjectsIdRepositoryTree_ref
    $path: queryInput_getApiV4ProjectsIdRepositoryTree_path
    $recursive: Boolean!
    $page: Int!
    $perPage: Int!
  ) {
    items: getApiV4ProjectsIdRepositoryTree(
      id: $id
      ref: $ref
      path: $path
      recursive: $recursive
      page: $page
      per_page: $perPage
    ) {
      id
      name
      type
      path
      mode
    }
  }
`;

const fileQuery = gql`
  query File($id: String!, $filePath: String!, $ref: String!) {
    file: getApiV4ProjectsIdRepositoryFilesFilePath(id: $id, file_path: $filePath, ref: $ref) {
      file_name
      file_path
      size
      encoding
      content
      content_sha256
      ref
      blob_id
      commit_id
      last_commit_id
    }
  }
`;

const membersQuery = gql`
  query Members($id: String!, $page: Int!, $perPage: Int!) {
    items: getApiV4ProjectsIdMembersAll(id: $id, page: $page, per_page: $perPage) {
      username
      name
      state
      avatar_url
      web_url
      access_level
      expires_at
    }
  }
`;

/**
 * GitLab REST v4 through the generated mesh, one call per method: the lists and files of one
 * project (its facts come from GitLab's GraphQL API, `project-facts.ts`). Each call carries
 * the caller's GitLab token, or none; GitLab's refusals become client errors in
 * `gitlab-errors.ts`, shared by both.
 */
export class GitLabApi {
  constructor(
    private readonly mesh: MeshInstance,
    private readonly gitlabUrl: string,
    private readonly log: Logger,
  ) {}

  /** One page of branches, ordered by name as GitLab lists them. */
  branches(
    projectPath: string,
    page: number,
    perPage: number,
    token: string | undefined,
  ): Promise<GitLabPage<GitLabBranch>> {
    return this.page<RawBranch, GitLabBranch>(
      branchesQuery,
      { id: projectId(projectPath), page, perPage },
      token,
      { projectPath },
      toBranch,
    );
  }

  /** One page of the history of `ref` (the default branch if null), newest first. */
  commits(
    projectPath: string,
    ref: string | null,
    page: number,
    perPage: number,
    token: string | undefined,
  ): Promise<GitLabPage<GitLabCommit>> {
    return this.page<RawCommit, GitLabCommit>(
      commitsQuery,
      { id: projectId(projectPath), ref, page, perPage },
      token,
      { projectPath, part: ref === null ? undefined : `ref ${ref}` },
      toCommit,
    );
  }

  /** One page of the entries of a folder ('' or null: the root) at `ref`. */
  tree(
    projectPath: string,
    options: { ref: string | null; path: string | null; recursive: boolean },
    page: number,
    perPage: number,
    token: string | undefined,
  ): Promise<GitLabPage<GitLabTreeEntry>> {
    const { ref, path, recursive } = options;
    return this.page<RawTreeEntry, GitLabTreeEntry>(
      treeQuery,
      { id: projectId(projectPath), ref, path: path || null, recursive, page, perPage },
      token,
      {
        projectPath,
        part: `${path ? `folder "${path}"` : 'root folder'}${ref === null ? '' : ` at ${ref}`}`,
      },
      toTreeEntry,
    );
  }

  /** A file at `ref`; `HEAD` is the default branch. */
  async file(
    projectPath: string,
    filePath: string,
    ref: string,
    token: string | undefined,
  ): Promise<GitLabFile> {
    const { data } = await this.call<{ file: RawFile }>(
      fileQuery,
      // GitLab wants the file path URL-encoded once, its slashes included, like the project's.
      { id: projectId(projectPath), filePath: encodeURIComponent(filePath), ref },
      token,
      { projectPath, part: `file "${filePath}" at ${ref}` },
    );
    return toFile(data.file);
  }

  /** One page of the members, direct and inherited from groups, ordered as GitLab lists them. */
  members(
    projectPath: string,
    page: number,
    perPage: number,
    token: string | undefined,
  ): Promise<GitLabPage<GitLabMember>> {
    return this.page<RawMember, GitLabMember>(
      membersQuery,
      { id: projectId(projectPath), page, perPage },
      token,
      { projectPath },
      toMember,
    );
  }

  private async page<Raw, T>(
    document: ReturnType<typeof gql>,
    variables: Record<string, unknown>,
    token: string | undefined,
    subject: Subject,
    convert: (raw: Raw) => T,
  ): Promise<GitLabPage<T>> {
    const { data, headers } = await this.call<{ items: Raw[] }>(
      document,
      variables,
      token,
      subject,
    );
    return {
      items: data.items.map(convert),
      nextPage: whole(headers?.get('x-next-page')),
      total: whole(headers?.get('x-total')),
    };
  }

  private async call<T>(
    document: ReturnType<typeof gql>,
    variables: Record<string, unknown>,
    token: string | undefined,
    subject: Subject,
  ): Promise<{ data: T; headers?: Headers }> {
    const recorder: ResponseRecorder = {};
    const context: MeshCallContext = {
      gitlabUrl: this.gitlabUrl,
      gitlabAuthorization: token ? `Bearer ${token}` : undefined,
      recorder,
    };
    const result = await this.mesh.execute(document, variables, context);
    const error = result.errors?.[0];
    if (error || !result.data) throw this.translate(error, subject);
    return { data: result.data as T, headers: recorder.headers };
  }

  private translate(error: GraphQLError | undefined, subject: Subject): GraphQLError {
    const response = error?.extensions?.response as { status?: unknown } | undefined;
    const status = typeof response?.status === 'number' ? response.status : undefined;
    logGitLabFailure(this.log, status, subject, error?.originalError ?? error);
    return gitlabError(status, subject, error);
  }
}

/** GitLab takes a project by numeric id or by its path, URL-encoded once, slashes included. */
function projectId(projectPath: string): string {
  return encodeURIComponent(projectPath);
}

/** A header holding a whole number; GitLab sends an empty value where there is none. */
function whole(header: string | null | undefined): number | undefined {
  return header && /^\d+$/.test(header) ? Number(header) : undefined;
}
