import type { Project, Visibility } from './project';

/**
 * Who asks. Until the identity subgraph's tokens are verified here every caller is anonymous.
 * TODO(identity): add `{ kind: 'user', username }`, read from the verified token.
 */
export type Caller = { kind: 'anonymous' };

export const anonymous: Caller = { kind: 'anonymous' };

/**
 * The rule for one project. `visibleTo` below is the same rule for Cypher, so that lists are
 * filtered before paging; change both together.
 * TODO(identity): members see their private projects, signed-in users internal ones.
 */
export function canSee(caller: Caller, project: Pick<Project, 'visibility'>): boolean {
  return visibleTo(caller).includes(project.visibility);
}

/** The visibilities a caller may see, passed to Cypher as `$visibilities`. */
export function visibleTo(caller: Caller): Visibility[] {
  switch (caller.kind) {
    case 'anonymous':
      return ['public'];
  }
}
