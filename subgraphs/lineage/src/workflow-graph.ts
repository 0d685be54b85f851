import { apiError, type Authenticated, ErrorCode } from '@renku-supergraph/kit';
import DataLoader from 'dataloader';
import neo4j, { type Driver } from 'neo4j-driver';

import { viewerOf, type Viewer } from './authorize';
import type { LineageEdge } from './lineage';
import { withSession } from './neo4j';
import { readableProjects } from './project-access';
import { type ProcessRun, readRunsOf } from './runs';

export interface WorkflowGraph {
  runs: ProcessRun[];
  edges: LineageEdge[];
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export const maxPageSize = 500;

export interface WorkflowGraphQuery {
  projectPath: string;
  first?: number | null;
  after?: string | null;
}

/**
 * The workflow graphs a request asks (a list of projects, each with its `workflowGraph`),
 * together: three queries however many projects.
 */
export function createWorkflowGraphLoader(context: Authenticated & { driver: Driver }) {
  return new DataLoader<WorkflowGraphQuery, WorkflowGraph, string>(
    (queries) => findWorkflowGraphs(context.driver, viewerOf(context), queries),
    { cacheKeyFn: (query) => JSON.stringify([query.projectPath, query.first, query.after]) },
  );
}

interface Page {
  projectPath: string;
  first: number;
  after: [string, string] | null;
}

/**
 * For each query, one page of every run of a project in the order they started, each with its
 * inputs and outputs, and the edges between them (every generation, not only the latest per
 * path: this is the project's history); NOT_FOUND for a project the viewer may not read, as
 * for a missing one. Keyset paging: a cursor names the last run of a page, so pages stay
 * consistent while new runs are ingested.
 */
export async function findWorkflowGraphs(
  driver: Driver,
  viewer: Viewer,
  queries: readonly WorkflowGraphQuery[],
): Promise<(WorkflowGraph | Error)[]> {
  const pages = queries.map(pageOf);
  const asked = pages.filter((page): page is Page => !(page instanceof Error));
  if (asked.length === 0) return pages as Error[];

  const graphs = await withSession(driver, (session) =>
    session.executeRead(async (tx) => {
      const readable = await readableProjects(
        tx,
        viewer,
        asked.map((page) => page.projectPath),
      );
      const read = asked.filter((page) => readable.has(page.projectPath));
      const found = await tx.run(
        `UNWIND range(0, size($pages) - 1) AS i
         WITH i, $pages[i] AS page
         CALL (page) {
           MATCH (run:Run {projectPath: page.projectPath})
           WITH run, coalesce(run.startedAt, '') AS started
           WHERE page.after IS NULL OR started > page.after[0]
              OR (started = page.after[0] AND run.id > page.after[1])
           WITH run.id AS id, started
           ORDER BY started, id
           LIMIT $limit
           WITH collect([id, started]) AS rows
           RETURN rows[0..page.first + 1] AS rows
         }
         CALL (page) {
           MATCH (run:Run {projectPath: page.projectPath})
           RETURN count(run) AS total
         }
         RETURN i, rows, total`,
        {
          pages: read.map(({ projectPath, first, after }) => ({
            projectPath,
            first: neo4j.int(first),
            after,
          })),
          // LIMIT takes no variable: the largest page plus one, each cut to its own in Cypher.
          limit: neo4j.int(Math.max(0, ...read.map((page) => page.first)) + 1),
        },
      );
      const answers = found.records.map((record) => {
        const page = read[neo4j.integer.toNumber(record.get('i'))];
        const rows = (record.get('rows') as [string, string][]).slice(0, page.first + 1);
        return { page, rows, total: neo4j.integer.toNumber(record.get('total')) };
      });
      const runs = await readRunsOf(
        tx,
        answers.flatMap(({ page, rows }) =>
          rows.slice(0, page.first).map(([id]) => ({ projectPath: page.projectPath, id })),
        ),
      );
      let next = 0;
      return new Map(
        answers.map(({ page, rows, total }) => {
          const shown = rows.slice(0, page.first);
          const own = runs.slice(next, (next += shown.length));
          return [page, graphOf(own, rows.length > page.first, shown.at(-1), total)];
        }),
      );
    }),
  );

  return pages.map(
    (page) =>
      (page instanceof Error ? page : graphs.get(page)) ??
      apiError(ErrorCode.NotFound, `project "${(page as Page).projectPath}" not found`),
  );
}

function pageOf(query: WorkflowGraphQuery): Page | Error {
  const first = query.first ?? 50;
  if (!Number.isInteger(first) || first < 1 || first > maxPageSize) {
    return apiError(ErrorCode.BadUserInput, `first must be from 1 to ${maxPageSize}`);
  }
  try {
    return {
      projectPath: query.projectPath,
      first,
      after: query.after ? decodeCursor(query.after) : null,
    };
  } catch (error) {
    return error as Error;
  }
}

function graphOf(
  found: (ProcessRun | null)[],
  hasNextPage: boolean,
  last: [string, string] | undefined,
  totalCount: number,
): WorkflowGraph {
  const runs = found.filter((run): run is ProcessRun => run !== null);
  return {
    runs,
    edges: runs.flatMap((run) => [
      ...run.inputs.map((file) => ({ source: file.path, target: run.id })),
      ...run.outputs.map((file) => ({ source: run.id, target: file.path })),
    ]),
    totalCount,
    pageInfo: {
      hasNextPage,
      endCursor: last ? encodeCursor([last[1], last[0]]) : null,
    },
  };
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
