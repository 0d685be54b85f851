import crypto from 'node:crypto';

import type { Blob, TreeEntry } from './repository';
import type { SeedBranch, SeedCommit, SeedProject, SeedUser } from './seed';
import type { Caller, GitLabStore, Membership } from './store';

/**
 * GitLab's JSON answers, in the shapes of the vendored spec (mesh/openapi). Only the fields
 * a client of this project could need are filled in; GitLab sends many more.
 */
export class Renderer {
  /** `web` is the stand-in's external URL, the base of every `web_url` and API link. */
  constructor(
    private readonly store: GitLabStore,
    private readonly web: string,
  ) {}

  /**
   * `withStatistics`: the caller asked for `statistics=true` and may read them.
   * `withPermissions`: the caller's own access, which `GET` answers carry and `PUT` ones lack.
   */
  project(
    project: SeedProject,
    caller: Caller,
    { withStatistics = false, withPermissions = true } = {},
  ): Record<string, unknown> {
    const namespace = this.store.namespace(project);
    const fullPath = `${namespace.fullPath}/${project.path}`;
    const webUrl = `${this.web}/${fullPath}`;
    const api = `${this.web}/api/v4/projects/${project.id}`;
    const lastActivity = project.commits
      .map((commit) => commit.authoredDate)
      .reduce((latest, date) => (date > latest ? date : latest), project.createdAt);
    const owner = namespace.kind === 'user' ? this.store.user(namespace.path) : undefined;
    const access = this.store.accessLevel(project, caller);

    return {
      id: project.id,
      description: project.description,
      name: project.name,
      name_with_namespace: `${namespace.fullName} / ${project.name}`,
      path: project.path,
      path_with_namespace: fullPath,
      created_at: project.createdAt,
      default_branch: project.defaultBranch,
      tag_list: project.topics,
      topics: project.topics,
      ssh_url_to_repo: `git@${new URL(this.web).hostname}:${fullPath}.git`,
      http_url_to_repo: `${webUrl}.git`,
      web_url: webUrl,
      readme_url: `${webUrl}/-/blob/${project.defaultBranch}/README.md`,
      forks_count: project.forksCount ?? 0,
      license_url: null,
      avatar_url: null,
      star_count: project.starCount ?? 0,
      last_activity_at: lastActivity,
      visibility: project.visibility,
      namespace: {
        id: namespace.id,
        name: namespace.name,
        path: namespace.path,
        kind: namespace.kind,
        full_path: namespace.fullPath,
        parent_id: namespace.parentId,
        avatar_url: null,
        web_url:
          namespace.kind === 'user'
            ? `${this.web}/${namespace.fullPath}`
            : `${this.web}/groups/${namespace.fullPath}`,
      },
      container_registry_image_prefix: `${new URL(this.web).host}/${fullPath}`,
      _links: {
        self: api,
        issues: `${api}/issues`,
        merge_requests: `${api}/merge_requests`,
        repo_branches: `${api}/repository/branches`,
        labels: `${api}/labels`,
        events: `${api}/events`,
        members: `${api}/members`,
        cluster_agents: `${api}/cluster_agents`,
      },
      packages_enabled: true,
      empty_repo: project.commits.length === 0,
      archived: false,
      ...(owner ? { owner: this.userBasic(owner) } : {}),
      resolve_outdated_diff_discussions: false,
      issues_enabled: true,
      merge_requests_enabled: true,
      wiki_enabled: true,
      jobs_enabled: true,
      snippets_enabled: true,
      container_registry_enabled: true,
      service_desk_enabled: false,
      can_create_merge_request_in: access >= 30,
      issues_access_level: 'enabled',
      repository_access_level: 'enabled',
      merge_requests_access_level: 'enabled',
      forking_access_level: 'enabled',
      wiki_access_level: 'enabled',
      builds_access_level: 'enabled',
      snippets_access_level: 'enabled',
      pages_access_level: project.visibility === 'public' ? 'public' : 'private',
      emails_disabled: false,
      emails_enabled: true,
      shared_runners_enabled: true,
      lfs_enabled: true,
      creator_id: project.members[0]?.userId ?? 0,
      import_status: 'none',
      open_issues_count: 0,
      updated_at: lastActivity,
      ci_default_git_depth: 20,
      public_jobs: true,
      shared_with_groups: [],
      only_allow_merge_if_pipeline_succeeds: false,
      request_access_enabled: true,
      merge_method: 'merge',
      squash_option: 'default_off',
      ...(withStatistics ? { statistics: this.statistics(project) } : {}),
      // GitLab tells a signed-in caller their own access; anonymous answers lack the field.
      ...(caller && withPermissions
        ? {
            permissions: {
              project_access: access > 0 ? { access_level: access, notification_level: 3 } : null,
              group_access: null,
            },
          }
        : {}),
    };
  }

  branch(project: SeedProject, branch: SeedBranch, caller: Caller): Record<string, unknown> {
    const access = this.store.accessLevel(project, caller);
    return {
      name: branch.name,
      commit: this.commit(project, this.store.commit(project, branch.commit)!),
      merged: branch.name !== project.defaultBranch && this.store.isMerged(project, branch.commit),
      protected: branch.protected ?? false,
      developers_can_push: false,
      developers_can_merge: false,
      // Protected branches take maintainers, the rest developers.
      can_push: access >= (branch.protected ? 40 : 30),
      default: branch.name === project.defaultBranch,
      web_url: `${this.projectUrl(project)}/-/tree/${encodeURIComponent(branch.name)}`,
    };
  }

  commit(project: SeedProject, commit: SeedCommit): Record<string, unknown> {
    const author = this.store.user(commit.author);
    return {
      id: commit.id,
      short_id: commit.id.slice(0, 8),
      created_at: commit.authoredDate,
      parent_ids: commit.parentIds,
      title: commit.message.split('\n', 1)[0],
      message: commit.message,
      author_name: author.name,
      author_email: author.email,
      authored_date: commit.authoredDate,
      committer_name: author.name,
      committer_email: author.email,
      committed_date: commit.authoredDate,
      trailers: {},
      extended_trailers: {},
      web_url: `${this.projectUrl(project)}/-/commit/${commit.id}`,
    };
  }

  treeEntry(entry: TreeEntry): Record<string, unknown> {
    return { id: entry.id, name: entry.name, type: entry.type, path: entry.path, mode: entry.mode };
  }

  /** `GET /repository/files/:file_path`: the file's facts and its content in Base64. */
  file(
    blob: Blob,
    ref: string,
    commit: SeedCommit,
    lastCommit: SeedCommit | undefined,
  ): Record<string, unknown> {
    return {
      file_name: blob.path.slice(blob.path.lastIndexOf('/') + 1),
      file_path: blob.path,
      size: blob.content.length,
      encoding: 'base64',
      content_sha256: crypto.createHash('sha256').update(blob.content).digest('hex'),
      ref,
      blob_id: blob.id,
      commit_id: commit.id,
      last_commit_id: (lastCommit ?? commit).id,
      execute_filemode: false,
      content: blob.content.toString('base64'),
    };
  }

  /** One entry of `members/all`; GitLab sends `expires_at: null` for lasting memberships. */
  member(membership: Membership): Record<string, unknown> {
    return {
      ...this.userBasic(membership.user),
      access_level: membership.accessLevel,
      created_at: membership.createdAt,
      expires_at: null,
      membership_state: 'active',
    };
  }

  /** `GET /user`: the token owner's own profile, e-mail included. */
  currentUser(user: SeedUser): Record<string, unknown> {
    return {
      ...this.userBasic(user),
      created_at: user.createdAt,
      bio: user.bio ?? '',
      location: '',
      linkedin: '',
      twitter: '',
      discord: '',
      website_url: '',
      github: '',
      job_title: '',
      pronouns: '',
      organization: '',
      bot: false,
      last_sign_in_at: user.createdAt,
      confirmed_at: user.createdAt,
      email: user.email,
      theme_id: 3,
      color_scheme_id: 1,
      projects_limit: 100000,
      current_sign_in_at: user.createdAt,
      identities: [],
      can_create_group: true,
      can_create_project: true,
      two_factor_enabled: false,
      external: false,
      private_profile: false,
      commit_email: user.email,
    };
  }

  private statistics(project: SeedProject): Record<string, unknown> {
    const { commitCount, repositorySize } = this.store.statistics(project);
    return {
      commit_count: commitCount,
      storage_size: repositorySize,
      repository_size: repositorySize,
      wiki_size: 0,
      lfs_objects_size: 0,
      job_artifacts_size: 0,
      pipeline_artifacts_size: 0,
      packages_size: 0,
      snippets_size: 0,
      uploads_size: 0,
      container_registry_size: 0,
    };
  }

  private userBasic(user: SeedUser): Record<string, unknown> {
    // GitLab's default avatar for users who uploaded none; nothing fetches it here.
    const hash = crypto.createHash('sha256').update(user.email.toLowerCase()).digest('hex');
    return {
      id: user.id,
      username: user.username,
      public_email: '',
      name: user.name,
      state: 'active',
      locked: false,
      avatar_url: `https://www.gravatar.com/avatar/${hash}?s=80&d=identicon`,
      web_url: `${this.web}/${user.username}`,
    };
  }

  private projectUrl(project: SeedProject): string {
    return `${this.web}/${this.store.namespace(project).fullPath}/${project.path}`;
  }
}
