import { apiError, type Authenticated, ErrorCode } from '@renku-supergraph/kit';
import DataLoader from 'dataloader';
import neo4j, { type Driver } from 'neo4j-driver';

import { accessFields, canRead, viewerOf, viewerParam, type Viewer } from './authorize';
import { withSession } from './neo4j';
import type { EventStatus } from './webhooks/events';

export interface LineageStatus {
  activated: boolean;
  progress: { done: number; total: number; percentage: number };
  details: { status: EventStatus; message: string } | null;
}

/**
 * The lineage status of every project a request asks (a list of projects, each with its
 * `lineageStatus`), in one query: NOT_FOUND for a project the viewer may not read, as for a
 * missing one.
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
  const records = await withSession(driver, (session) =>
    session.executeRead(async (tx) => {
      // Events of member changes (`members`) are no lineage: they do not count.
      const result = await tx.run(
        `UNWIND range(0, size($paths) - 1) AS i
         WITH i, $paths[i] AS path
         MATCH (project:Project {path: path})
         CALL (path) {
           OPTIONAL MATCH (e:IngestEvent {projectPath: path}) WHERE e.kind <> 'members'
           WITH e ORDER BY e.receivedAt DESC, e.id DESC
           RETURN collect(e) AS events
         }
         WITH i, project, events, head(events) AS latest
         RETURN i, ${accessFields}, project.lineageSecretHash IS NOT NULL AS activated,
                size(events) AS total,
                size([e IN events WHERE e.status IN ['done', 'failed']]) AS done,
                latest {.status, .message} AS latest`,
        { paths, ...viewerParam(viewer) },
      );
      return result.records;
    }),
  );

  const found = new Map(records.map((record) => [Number(record.get('i')), record]));
  return paths.map((projectPath, i) => {
    const record = found.get(i);
    const visibility = (record?.get('visibility') as string | null | undefined) ?? null;
    if (!record || !canRead(viewer, { visibility, member: record.get('member') === true })) {
      return apiError(ErrorCode.NotFound, `project "${projectPath}" not found`);
    }
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
