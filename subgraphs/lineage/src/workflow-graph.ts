import { apiError, ErrorCode } from '@renku-supergraph/kit';
import neo4j, { type Driver } from 'neo4j-driver';

import type { Viewer } from './authorize';
import type { LineageEdge } from './lineage';
import { withSession } from './neo4j';
import { requireReadableProject } from './project-access';
import { type ProcessRun, readRuns } from './runs';

export interface WorkflowGraph {
  runs: ProcessRun[];
  edges: LineageEdge[];
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export const maxPageSize = 500;

/**
 * One page of every run of a project in the order they started, each with its inputs and
 * outputs, and the edges between them (every generation, not only the latest per path: this is
 * the project's history). Keyset paging: a cursor names the last run of a page, so pages stay
 * consistent while new runs are ingested.
 */
export async function findWorkflowGraph(
  driver: Driver,
  viewer: Viewer,
  query: { projectPath: string; first?: number | null; after?: string | null },
): Promise<WorkflowGraph> {
  const first = query.first ?? 50;
  if (!Number.isInteger(first) || first < 1 || first > maxPageSize) {
    throw apiError(ErrorCode.BadUserInput, `first must be from 1 to ${maxPageSize}`);
  }
  const after = query.after ? decodeCursor(query.after) : null;

  return withSession(driver, (session) =>
    session.executeRead(async (tx) => {
      await requireReadableProject(tx, viewer, query.projectPath);
      const page = await tx.run(
        `MATCH (run:Run {projectPath: $project})
         WITH run, coalesce(run.startedAt, '') AS started
         WHERE $afterStarted IS NULL OR started > $afterStarted
            OR (started = $afterStarted AND run.id > $afterId)
         RETURN run.id AS id, started
         ORDER BY started, id
         LIMIT $limit`,
        {
          project: query.projectPath,
          afterStarted: after?.[0] ?? null,
          afterId: after?.[1] ?? null,
          limit: neo4j.int(first + 1),
        },
      );
      const total = await tx.run(
        'MATCH (run:Run {projectPath: $project}) RETURN count(run) AS total',
        { project: query.projectPath },
      );

      const rows = page.records.slice(0, first).map((record) => ({
        id: record.get('id') as string,
        started: record.get('started') as string,
      }));
      const runs = (
        await readRuns(
          tx,
          query.projectPath,
          rows.map((row) => row.id),
        )
      ).filter((run): run is ProcessRun => run !== null);
      const last = rows.at(-1);
      return {
        runs,
        edges: runs.flatMap((run) => [
          ...run.inputs.map((file) => ({ source: file.path, target: run.id })),
          ...run.outputs.map((file) => ({ source: run.id, target: file.path })),
        ]),
        totalCount: (total.records[0].get('total') as { toNumber(): number }).toNumber(),
        pageInfo: {
          hasNextPage: page.records.length > first,
          endCursor: last ? encodeCursor([last.started, last.id]) : null,
        },
      };
    }),
  );
}

function encodeCursor(key: [string, string]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === 2 && key.every((part) => typeof part === 'string')) {
      return key as [string, string];
    }
  } catch {
    // Reported below.
  }
  throw apiError(ErrorCode.BadUserInput, 'after is not a cursor this field gave out');
}
