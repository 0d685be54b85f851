import { fetchWithin } from '@renku-supergraph/kit';
import type { ManagedTransaction } from 'neo4j-driver';

import type { GitLabApiConfig } from '../config';
import { replaceMembers, type MemberRole } from '../members';

export interface GitLabMember {
  username: string;
  role: MemberRole;
}

/**
 * GitLab's access levels (docs.gitlab.com, "Roles and permissions") onto the graph's three
 * roles (neo4j/schema/006-members.cypher): owner and maintainer keep their names; developer
 * (30), reporter (20) and guest (10) read. Minimal access (5) grants nothing on a project.
 */
const roleOfLevel: Record<number, MemberRole> = {
  50: 'owner',
  40: 'maintainer',
  30: 'reader',
  20: 'reader',
  10: 'reader',
};

/** How long one page of members may take; a hanging GitLab must not hold the worker. */
const requestTimeoutMs = 10_000;
/** GitLab's largest page. */
const defaultPerPage = 100;
/** A project with more members than this is suspicious: stop paging instead of looping. */
const maxPages = 100;

/** Why the members could not be read; the text is ours and safe to show in lineageStatus. */
export class MembersUnavailable extends Error {}

/**
 * Every member of a project as GitLab's `members/all` lists them: direct ones and those of the
 * groups above, each once with the highest level. `project` is GitLab's numeric id or the full
 * path. Pages are followed by `X-Next-Page`, as GitLab's pagination documents.
 */
export async function fetchProjectMembers(
  gitlab: GitLabApiConfig,
  project: string | number,
  perPage = defaultPerPage,
): Promise<GitLabMember[]> {
  const base = `${gitlab.url.replace(/\/+$/, '')}/api/v4/projects/${encodeURIComponent(String(project))}/members/all`;
  const members = new Map<string, GitLabMember>();
  let page = '1';
  for (let pages = 0; page !== ''; pages++) {
    if (pages === maxPages) {
      throw new MembersUnavailable(`GitLab listed more than ${maxPages * perPage} members`);
    }
    const response = await getPage(`${base}?per_page=${perPage}&page=${page}`, gitlab.serviceToken);
    for (const entry of await readEntries(response)) {
      const member = toMember(entry);
      if (member) members.set(member.username, member);
    }
    page = response.headers.get('x-next-page') ?? '';
  }
  return [...members.values()];
}

async function getPage(url: string, token: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetchWithin(
      url,
      { headers: { 'private-token': token, accept: 'application/json' } },
      requestTimeoutMs,
    );
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    throw new MembersUnavailable(
      timedOut ? 'GitLab did not answer in time' : 'GitLab is unreachable',
    );
  }
  if (!response.ok) {
    // The status only: GitLab's body can hold anything, and the message is shown to clients.
    await response.body?.cancel();
    const why =
      response.status === 401 || response.status === 403
        ? 'the service token was refused'
        : response.status === 404
          ? 'the service token does not see the project'
          : `GitLab answered ${response.status}`;
    throw new MembersUnavailable(why);
  }
  return response;
}

async function readEntries(response: Response): Promise<unknown[]> {
  const body: unknown = await response.json().catch(() => undefined);
  if (!Array.isArray(body)) throw new MembersUnavailable('GitLab sent no list of members');
  return body;
}

function toMember(entry: unknown): GitLabMember | null {
  const { username, access_level: level, state } = (entry ?? {}) as Record<string, unknown>;
  if (typeof username !== 'string' || username === '' || typeof level !== 'number') {
    throw new MembersUnavailable('GitLab sent a member without username or access_level');
  }
  // A blocked or deactivated user keeps the membership in GitLab but cannot use it.
  if (state !== undefined && state !== 'active') return null;
  const role = roleOfLevel[level];
  return role ? { username, role } : null;
}

/**
 * Makes `members` the project's members (others lose their membership) and notes when they
 * were synced. Runs in the caller's write transaction, so that it commits with the event.
 */
export async function syncMembers(
  tx: ManagedTransaction,
  projectPath: string,
  members: GitLabMember[],
): Promise<void> {
  await replaceMembers(tx, projectPath, members);
  await tx.run('MATCH (project:Project {path: $projectPath}) SET project.membersSyncedAt = $now', {
    projectPath,
    now: new Date().toISOString(),
  });
}
