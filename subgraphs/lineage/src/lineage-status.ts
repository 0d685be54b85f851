import { apiError, type Authenticated, ErrorCode } from '@renku-supergraph/kit';
import DataLoader from 'dataloader';
import neo4j, { type Driver } from 'neo4j-driver';

import { viewerOf, type Viewer } from './authorize';
import { withSession } from './neo4j';
import { readableProjects } from './project-access';
import type { EventStatus } from './webhooks/events';

export interface LineageStatus {
  activated: boolean;
  progress: { done: number; total: number; percentage: number };
  details: { status: EventStatus; message: string } | null;
}

/**
 * The lineage status of every project a request asks (a list of projects, each with its
 * `lineageStatus`), in two queries: who may read, then the events of those projects only;
 * NOT_FOUND for a project the viewer may not read, as for a missing one.
 */
export function createStatusLoader(context: Authenticated & { driver: Driver }) {
  return new DataLoader<string, LineageStatus>((paths) =>
    readStatuses(context.driver, viewerOf(context), paths),
  );
}

async function readStatuses(
  driver: Driver,
  viewer: Viewer,
  paths: readonly string[],
): Promise<(LineageStatus | Error)[]> {
  const found = await withSession(driver, (session) =>
    session.executeRead(async (tx) => {
      const readable = [...(await readableProjects(tx, viewer, paths))];
      // Events of member changes (`members`) are no lineage: they do not count.
      const result = await tx.run(
        `UNWIND $paths AS path
         MATCH (project:Project {path: path})
         CALL (path) {
           OPTIONAL MATCH (e:IngestEvent {projectPath: path}) WHERE e.kind <> 'members'
           RETURN count(e) AS total,
                  count(CASE WHEN e.status IN ['done', 'failed'] THEN 1 END) AS done
         }
         CALL (path) {
           OPTIONAL MATCH (e:IngestEvent {projectPath: path}) WHERE e.kind <> 'members'
           WITH e ORDER BY e.receivedAt DESC, e.id DESC LIMIT 1
           RETURN e {.status, .message} AS latest
         }
         RETURN path, project.lineageSecretHash IS NOT NULL AS activated, total, done, latest`,
        { paths: readable },
      );
      return new Map(result.records.map((record) => [record.get('path') as string, record]));
    }),
  );

  return paths.map((projectPath) => {
    const record = found.get(projectPath);
    if (!record) return apiError(ErrorCode.NotFound, `project "${projectPath}" not found`);
    const total = neo4j.integer.toNumber(record.get('total'));
    const done = neo4j.integer.toNumber(record.get('done'));
    return {
      activated: record.get('activated') as boolean,
      progress: {
        done,
        total,
        percentage: total === 0 ? 100 : Math.round((done / total) * 1000) / 10,
      },
      details: (record.get('latest') as LineageStatus['details']) ?? null,
    };
  });
}
