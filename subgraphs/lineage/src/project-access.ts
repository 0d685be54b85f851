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
