import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { apiError, type Authenticated, type BaseContext, ErrorCode } from '@renku-supergraph/kit';
import DataLoader from 'dataloader';
import type { Driver } from 'neo4j-driver';

import { viewerOf } from './authorize';
import { toDot, toProvJsonLd } from './export-formats';
import { findImpact, type ImpactedFile } from './impact';
import { findLineage, type Lineage, type LineageDirection, type LineageNode } from './lineage';
import { roleOf } from './members';
import { withSession } from './neo4j';
import { requireReadableProject } from './project-access';
import { findOrigins, type FileOrigin } from './origins';
import { findRun, type ProcessRun, readRuns } from './runs';
import { readLineageStatus } from './webhooks/events';
import { activateLineage } from './webhooks/secrets';
import { findWorkflowGraph } from './workflow-graph';

export interface LineageContext extends BaseContext, Authenticated {
  driver: Driver;
  /** Runs by `[projectPath, id]`, one query per project and request. */
  runs: DataLoader<RunKey, ProcessRun | null, string>;
  /** Origins of files in other projects, by `[projectPath, path]`, batched per project. */
  origins: DataLoader<FileKey, FileOrigin[], string>;
}

type FileKey = { projectPath: string; path: string };

type RunKey = { projectPath: string; id: string };

/** A lineage answer knows its project, so that its runs and exports can be resolved. */
type ProjectLineage = Lineage & {
  projectPath: string;
  nodes: (LineageNode & { projectPath: string })[];
};

interface LineageArgs {
  filePath: string;
  direction: LineageDirection;
  depth?: number | null;
}

interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** Loads runs batched per project. Readability was checked when the answer holding them was. */
export function createRunLoader(driver: Driver): LineageContext['runs'] {
  return new DataLoader(
    async (keys) => {
      const byProject = new Map<string, string[]>();
      for (const key of keys) {
        byProject.set(key.projectPath, [...(byProject.get(key.projectPath) ?? []), key.id]);
      }
      const found = new Map<string, ProcessRun | null>();
      await withSession(driver, (session) =>
        session.executeRead(async (tx) => {
          for (const [projectPath, ids] of byProject) {
            const runs = await readRuns(tx, projectPath, ids);
            ids.forEach((id, index) => found.set(JSON.stringify([projectPath, id]), runs[index]));
          }
        }),
      );
      return keys.map((key) => found.get(JSON.stringify([key.projectPath, key.id])) ?? null);
    },
    { cacheKeyFn: (key) => JSON.stringify([key.projectPath, key.id]) },
  );
}

export function createOriginLoader(context: Authenticated & { driver: Driver }) {
  return new DataLoader<FileKey, FileOrigin[], string>(
    async (keys) => {
      const byProject = new Map<string, string[]>();
      for (const key of keys) {
        byProject.set(key.projectPath, [...(byProject.get(key.projectPath) ?? []), key.path]);
      }
      const found = new Map<string, FileOrigin[]>();
      for (const [projectPath, paths] of byProject) {
        const origins = await findOrigins(context.driver, viewerOf(context), projectPath, paths);
        for (const [path, list] of origins) found.set(JSON.stringify([projectPath, path]), list);
      }
      return keys.map((key) => found.get(JSON.stringify([key.projectPath, key.path])) ?? []);
    },
    { cacheKeyFn: (key) => JSON.stringify([key.projectPath, key.path]) },
  );
}

async function lineageOf(context: LineageContext, args: LineageArgs & { projectPath: string }) {
  const lineage = await findLineage(context.driver, viewerOf(context), args);
  const projectPath = args.projectPath;
  return {
    ...lineage,
    projectPath,
    nodes: lineage.nodes.map((node) => ({ ...node, projectPath })),
  } satisfies ProjectLineage;
}

async function statusOf(context: LineageContext, projectPath: string) {
  return withSession(context.driver, (session) =>
    session.executeRead(async (tx) => {
      await requireReadableProject(tx, viewerOf(context), projectPath);
      return readLineageStatus(tx, projectPath);
    }),
  );
}

export const resolvers: GraphQLResolverMap<LineageContext> = {
  Query: {
    lineage: (_root, args: LineageArgs & { projectPath: string }, context) =>
      lineageOf(context, args),
    run: (_root, args: { projectPath: string; id: string }, context) =>
      findRun(context.driver, viewerOf(context), args.projectPath, args.id),
    impact: (_root, args: { projectPath: string; filePath: string }, context) =>
      findImpact(context.driver, viewerOf(context), args),
    workflowGraph: (_root, args: PageArgs & { projectPath: string }, context) =>
      findWorkflowGraph(context.driver, viewerOf(context), args),
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
      findImpact(context.driver, viewerOf(context), { ...args, projectPath: project.path }),
    workflowGraph: (project: { path: string }, args: PageArgs, context) =>
      findWorkflowGraph(context.driver, viewerOf(context), { ...args, projectPath: project.path }),
    lineageStatus: (project: { path: string }, _args: unknown, context) =>
      statusOf(context, project.path),
  },
  Lineage: {
    dot: (lineage: ProjectLineage) => toDot(lineage),
    provJsonLd: (lineage: ProjectLineage) => toProvJsonLd(lineage, lineage.projectPath),
  },
  LineageNode: {
    run: (node: LineageNode & { projectPath: string }, _args: unknown, context) =>
      node.type === 'ProcessRun'
        ? context.runs.load({ projectPath: node.projectPath, id: node.id })
        : null,
    origins: (node: LineageNode & { projectPath: string }, _args: unknown, context) =>
      node.type === 'ProcessRun'
        ? []
        : context.origins.load({ projectPath: node.projectPath, path: node.id }),
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
