import { callerOf, canSeeProject, type Authenticated } from '@renku-supergraph/kit';

/** Who is asking: nobody, or a user whose access token verified. */
export type Viewer = { kind: 'anonymous' } | { kind: 'user'; username: string };

export function viewerOf(context: Authenticated): Viewer {
  // A token that did not verify fails here instead of reading as anonymous.
  const caller = callerOf(context);
  return caller ? { kind: 'user', username: caller.username } : { kind: 'anonymous' };
}

/** Cypher: whether the viewer (`$viewer`, the username or null) is a member of `project`. */
export const memberTest = 'EXISTS { MATCH (:Member {username: $viewer})-[:MEMBER_OF]->(project) }';

/** Cypher for the facts `canRead` needs, with `project` bound. */
export const accessFields = `project.visibility AS visibility, ${memberTest} AS member`;

export function viewerParam(viewer: Viewer): { viewer: string | null } {
  return { viewer: viewer.kind === 'user' ? viewer.username : null };
}

/** Whether the viewer may see a project's provenance (kit's `canSeeProject`). */
export function canRead(
  viewer: Viewer,
  project: { visibility: string | null; member?: boolean },
): boolean {
  return canSeeProject(viewer.kind === 'user', project);
}
