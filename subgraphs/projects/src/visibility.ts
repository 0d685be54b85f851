import type { Project, Visibility } from './project';

/**
 * Who asks: nobody, or a user whose Keycloak token verified. `email` ties the user to the
 * `Person` nodes renku metadata names as creators.
 */
export type Caller =
  { kind: 'anonymous' } | { kind: 'user'; username: string; email: string | null };

export const anonymous: Caller = { kind: 'anonymous' };

/**
 * The rule for one project. `visibleTo` below is the same rule for Cypher, so that lists are
 * filtered before paging; change both together.
 * TODO(#5): private projects need GitLab membership, which the graph does not hold yet; until
 * then they are hidden from everyone here.
 */
export function canSee(caller: Caller, project: Pick<Project, 'visibility'>): boolean {
  return visibleTo(caller).includes(project.visibility);
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
