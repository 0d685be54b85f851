/** What the visibility rule needs to know of one project. */
export interface ProjectAccessFacts {
  /** `public`, `internal` or `private`; anything else reads as private. */
  visibility: string | null;
  /** Whether the caller is a member (`MEMBER_OF` in the graph). */
  member?: boolean;
}

/**
 * GitLab's rule, which every subgraph applies to a project and what hangs off it: public
 * projects for anyone, internal ones for signed-in users, private ones for their members.
 * An unknown or missing visibility never widens access, and a project the graph does not
 * hold (`undefined`) is seen by nobody.
 */
export function canSeeProject(signedIn: boolean, project: ProjectAccessFacts | undefined): boolean {
  if (!project) return false;
  if (project.visibility === 'public') return true;
  if (!signedIn) return false;
  return project.visibility === 'internal' || project.member === true;
}
