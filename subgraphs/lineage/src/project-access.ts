import { apiError, ErrorCode } from '@renku-supergraph/kit';
import type { ManagedTransaction } from 'neo4j-driver';

import { accessFields, canRead, viewerParam, type Viewer } from './authorize';

/**
 * NOT_FOUND, not FORBIDDEN, for a project the viewer may not read: the answer must not tell
 * a hidden project from a missing one.
 */
export async function requireReadableProject(
  tx: ManagedTransaction,
  viewer: Viewer,
  projectPath: string,
): Promise<void> {
  const result = await tx.run(
    `MATCH (project:Project {path: $projectPath}) RETURN ${accessFields}`,
    { projectPath, ...viewerParam(viewer) },
  );
  const record = result.records[0];
  const visibility = (record?.get('visibility') as string | null | undefined) ?? null;
  if (!record || !canRead(viewer, { visibility, member: record.get('member') === true })) {
    throw apiError(ErrorCode.NotFound, `project "${projectPath}" not found`);
  }
}

/**
 * Which of `paths` the viewer may read, in one query: asked before anything else of a project
 * is read, so that a hidden project costs no more than a missing one.
 */
export async function readableProjects(
  tx: ManagedTransaction,
  viewer: Viewer,
  paths: readonly string[],
): Promise<Set<string>> {
  const result = await tx.run(
    `UNWIND $paths AS path
     MATCH (project:Project {path: path})
     RETURN path, ${accessFields}`,
    { paths: [...new Set(paths)], ...viewerParam(viewer) },
  );
  return new Set(
    result.records
      .filter((record) =>
        canRead(viewer, {
          visibility: (record.get('visibility') as string | null) ?? null,
          member: record.get('member') === true,
        }),
      )
      .map((record) => record.get('path') as string),
  );
}
