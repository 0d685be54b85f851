import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { apiError, type Authenticated, type BaseContext, ErrorCode } from '@renku-supergraph/kit';
import DataLoader from 'dataloader';
import type { Driver } from 'neo4j-driver';

import { viewerOf } from './authorize';
import { toDot, toProvJsonLd } from './export-formats';
import { type ImpactedFile, impactOf, impactQuery } from './impact';
import { createStatusLoader } from './lineage-status';
import {
  type LineageDirection,
  type LineageQuery,
  type TracedLineage,
  type TracedNode,
  traceLineages,
} from './lineage';
import { roleOf } from './members';
import { withSession } from './neo4j';
import { findOrigins, type FileOrigin } from './origins';
import { findRun, type ProcessRun, readRunsOf } from './runs';
import { activateLineage } from './webhooks/secrets';
import { createWorkflowGraphLoader, type WorkflowGraphQuery } from './workflow-graph';

export interface LineageContext extends BaseContext, Authenticated {
  driver: Driver;
  /** Runs by `[projectPath, id]`, one query per request. */
  runs: DataLoader<RunKey, ProcessRun | null, string>;
  /** Origins of files in other projects, by `[projectPath, path]`, one query per request. */
  origins: DataLoader<FileKey, FileOrigin[], string>;
  /** Lineage answers, every question of a request walked together (one query per step). */
  lineages: DataLoader<LineageQuery, TracedLineage, string>;
  /** Lineage statuses by project path, two queries per request. */
  statuses: ReturnType<typeof createStatusLoader>;
  /** Workflow graphs, all of a request in three queries. */
  workflowGraphs: ReturnType<typeof createWorkflowGraphLoader>;
}

type FileKey = { projectPath: string; path: string };

type RunKey = { projectPath: string; id: string };

interface LineageArgs {
  filePath: string;
  direction: LineageDirection;
  depth?: number | null;
  acrossProjects?: boolean | null;
}

interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/**
 * Loads runs, all of a request in one query. Readability was checked with the answer holding
 * them.
 */
export function createRunLoader(driver: Driver): LineageContext['runs'] {
  return new DataLoader(
    (keys) => withSession(driver, (session) => session.executeRead((tx) => readRunsOf(tx, keys))),
    { cacheKeyFn: (key) => JSON.stringify([key.projectPath, key.id]) },
  );
}

export function createOriginLoader(context: Authenticated & { driver: Driver }) {
  return new DataLoader<FileKey, FileOrigin[], string>(
    (keys) => findOrigins(context.driver, viewerOf(context), keys),
    { cacheKeyFn: (key) => JSON.stringify([key.projectPath, key.path]) },
  );
}

/**
 * The gateway resolves `Project.lineage` for every project of a list at once (one
 * representation each): batched, the walks share their queries.
 */
export function createLineageLoader(context: Authenticated & { driver: Driver }) {
  return new DataLoader<LineageQuery, TracedLineage, string>(
    (queries) => traceLineages(context.driver, viewerOf(context), queries),
    {
      cacheKeyFn: (query) =>
        JSON.stringify([
          query.projectPath,
          query.filePath,
          query.direction,
          query.depth ?? null,
          query.acrossProjects ?? true,
        ]),
    },
  );
}

function lineageOf(context: LineageContext, args: LineageArgs & { projectPath: string }) {
  return context.lineages.load(args);
}

async function impactIn(context: LineageContext, query: { projectPath: string; filePath: string }) {
  return impactOf(await context.lineages.load(impactQuery(query)), query);
}

function statusOf(context: LineageContext, projectPath: unknown) {
  // A representation sent to this subgraph directly may hold anything as its path.
  if (typeof projectPath !== 'string') {
    return Promise.reject(apiError(ErrorCode.NotFound, 'project not found'));
  }
  return context.statuses.load(projectPath);
}

export const resolvers: GraphQLResolverMap<LineageContext> = {
  Query: {
    lineage: (_root, args: LineageArgs & { projectPath: string }, context) =>
      lineageOf(context, args),
    run: (_root, args: { projectPath: string; id: string }, context) =>
      findRun(context.driver, viewerOf(context), args.projectPath, args.id),
    impact: (_root, args: { projectPath: string; filePath: string }, context) =>
      impactIn(context, args),
    workflowGraph: (_root, args: WorkflowGraphQuery, context) => context.workflowGraphs.load(args),
    lineageStatus: (_root, args: { projectPath: string }, context) =>
      statusOf(context, args.projectPath),
  },
  Mutation: {
    activateLineage: async (_root, args: { projectPath: string }, context) => {
      const viewer = viewerOf(context);
      if (viewer.kind === 'anonymous') {
        throw apiError(ErrorCode.Unauthenticated, 'sign in to activate lineage for a project');
      }
      const role = await roleOf(context.driver, viewer.username, args.projectPath);
      if (role !== 'owner' && role !== 'maintainer') {
        throw apiError(
          ErrorCode.Forbidden,
          `only owners and maintainers of "${args.projectPath}" may activate its lineage`,
        );
      }
      return activateLineage(context.driver, args.projectPath);
    },
  },
  Project: {
    // Only the key is needed: every field checks the project's visibility itself.
    __resolveReference: (reference: { path: string }) => ({ path: reference.path }),
    lineage: (project: { path: string }, args: LineageArgs, context) =>
      lineageOf(context, { ...args, projectPath: project.path }),
    impact: (project: { path: string }, args: { filePath: string }, context) =>
      impactIn(context, { ...args, projectPath: project.path }),
    workflowGraph: (project: { path: string }, args: PageArgs, context) =>
      context.workflowGraphs.load({ ...args, projectPath: project.path }),
    lineageStatus: (project: { path: string }, _args: unknown, context) =>
      statusOf(context, project.path),
  },
  Lineage: {
    dot: (lineage: TracedLineage) => toDot(lineage),
    provJsonLd: (lineage: TracedLineage) => toProvJsonLd(lineage, lineage.projectPath),
  },
  LineageNode: {
    project: (node: TracedNode) => ({ path: node.projectPath }),
    run: (node: TracedNode, _args: unknown, context) =>
      node.type === 'ProcessRun'
        ? context.runs.load({ projectPath: node.projectPath, id: node.localId })
        : null,
    origins: (node: TracedNode, _args: unknown, context) =>
      node.type === 'ProcessRun'
        ? []
        : context.origins.load({ projectPath: node.projectPath, path: node.localId }),
  },
  FileOrigin: {
    project: (origin: FileOrigin) => ({ path: origin.projectPath }),
  },
  ProcessRun: {
    parameters: (run: ProcessRun) => run.arguments.filter((arg) => arg.kind === 'PARAMETER'),
  },
  ImpactedFile: {
    producer: async (file: ImpactedFile, _args: unknown, context) => {
      const run = await context.runs.load({ projectPath: file.projectPath, id: file.producerId });
      if (!run) throw new Error(`run ${file.producerId} vanished while answering`);
      return run;
    },
  },
};
