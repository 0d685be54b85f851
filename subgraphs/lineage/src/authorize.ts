import type { BaseContext } from '@renku-supergraph/kit';

/**
 * Who is asking. Everyone is anonymous until the identity subgraph's tokens
 * are checked here.
 * TODO(identity): read the signed-in user from the token the gateway passes on,
 * and let members see their internal and private projects.
 */
export type Viewer = { kind: 'anonymous' };

export function viewerOf(_context: BaseContext): Viewer {
  return { kind: 'anonymous' };
}

/** Whether the viewer may see a project's provenance. */
export function canRead(viewer: Viewer, project: { visibility: string | null }): boolean {
  switch (viewer.kind) {
    case 'anonymous':
      return project.visibility === 'public';
  }
}
