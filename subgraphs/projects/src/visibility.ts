import { canSeeProject } from '@renku-supergraph/kit';

import type { Visibility } from './project';

/**
 * Who asks: nobody, or a user whose Keycloak token verified. `email` ties the user to the
 * `Person` nodes renku metadata names as creators.
 */
export type Caller =
  | { kind: 'anonymous' }
  | {
      kind: 'user';
      username: string;
      email: string | null;
      /** Paths of the projects the user is a member of (`MEMBER_OF` in the graph). */
      memberOf: string[];
    };

/**
 * A member's role in a project, as `MEMBER_OF.role` holds it (GitLab's levels below
 * maintainer read).
 */
export type MemberRole = 'owner' | 'maintainer' | 'reader';

export const anonymous: Caller = { kind: 'anonymous' };

/**
 * The rule for one project: public for anyone, internal for signed-in users, private for its
 * members. `visibleTo` and `memberOf` below are the same rule for Cypher (`accessFilter`), so
 * that lists are filtered before paging; change them together.
 */
export function canSee(caller: Caller, project: { visibility: Visibility; path: string }): boolean {
  const member = memberOf(caller).includes(project.path);
  return canSeeProject(caller.kind === 'user', { visibility: project.visibility, member });
}

/** The private projects a caller may see, passed to Cypher as `$memberOf`. */
export function memberOf(caller: Caller): string[] {
  return caller.kind === 'user' ? caller.memberOf : [];
}

/** Cypher that is true when `$visibilities` and `$memberOf` let the caller see `project`. */
export function accessFilter(project: string): string {
  return `(${project}.visibility IN $visibilities OR (${project}.visibility = 'private' AND ${project}.path IN $memberOf))`;
}

/** The visibilities a caller may see, passed to Cypher as `$visibilities`. */
export function visibleTo(caller: Caller): Visibility[] {
  switch (caller.kind) {
    case 'anonymous':
      return ['public'];
    case 'user':
      return ['public', 'internal'];
  }
}
