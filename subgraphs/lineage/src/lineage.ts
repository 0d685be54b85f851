import { apiError, ErrorCode } from '@renku-supergraph/kit';
import type { Driver, ManagedTransaction } from 'neo4j-driver';

import { accessFields, canRead, viewerParam, type Viewer } from './authorize';
import { withSession } from './neo4j';

export type LineageDirection = 'UPSTREAM' | 'DOWNSTREAM' | 'BOTH';
export type LineageNodeType = 'ProcessRun' | 'File' | 'Directory';

export interface LineageNode {
  id: string;
  location: string;
  label: string;
  type: LineageNodeType;
}

export interface LineageEdge {
  source: string;
  target: string;
}

export interface Lineage {
  nodes: LineageNode[];
  edges: LineageEdge[];
}

export interface LineageQuery {
  projectPath: string;
  filePath: string;
  direction: LineageDirection;
  /** How many runs away from the file to go; absent means as far as the graph goes. */
  depth?: number | null;
}

interface RunRow {
  id: string;
  commandLine: string;
}

/**
 * The provenance around one file, as renku's knowledge graph answered it:
 * files by path (all versions of a path are one node), runs by identifier,
 * edges input -> run and run -> output, where a path's output edge comes only
 * from its latest producer, and a run whose outputs were all written again by
 * later runs is left out (as `renku workflow visualize` leaves it out).
 *
 * The walk expands a frontier of paths one run at a time, remembering what it
 * has seen: it enumerates nodes, never paths, so diamonds are found once and
 * cycles end. All steps read one consistent snapshot (one read transaction).
 */
export async function findLineage(
  driver: Driver,
  viewer: Viewer,
  query: LineageQuery,
): Promise<Lineage> {
  const depth = query.depth ?? Number.POSITIVE_INFINITY;
  if (depth < 0) throw apiError(ErrorCode.BadUserInput, 'depth must be 0 or more');
  const filePath = query.filePath.replace(/^\.?\/+/, '').replace(/\/+$/, '');

  return withSession(driver, (session) =>
    session.executeRead(async (tx) => {
      const graph = new ProjectGraph(tx, query.projectPath);
      const project = await graph.project(viewer);
      if (!project || !canRead(viewer, project)) {
        throw apiError(ErrorCode.NotFound, `project "${query.projectPath}" not found`);
      }
      if (!(await graph.hasLineage(filePath))) {
        throw apiError(
          ErrorCode.NotFound,
          `no lineage for "${filePath}" in project "${query.projectPath}"`,
        );
      }

      const result = new LineageBuilder();
      result.addFile(filePath);
      if (query.direction !== 'DOWNSTREAM') await walkUpstream(graph, result, filePath, depth);
      if (query.direction !== 'UPSTREAM') await walkDownstream(graph, result, filePath, depth);
      await completeRuns(graph, result);
      return result.build(await graph.folders(result.filePaths()));
    }),
  );
}

async function walkUpstream(
  graph: ProjectGraph,
  result: LineageBuilder,
  start: string,
  depth: number,
) {
  const seenPaths = new Set([start]);
  const seenRuns = new Set<string>();
  let frontier = [start];

  for (let step = 0; step < depth && frontier.length > 0; step++) {
    const producers = await graph.latestProducers(frontier);
    const newRuns: string[] = [];
    for (const [path, run] of producers) {
      result.addRun(run);
      result.addEdge(run.id, path);
      if (!seenRuns.has(run.id)) newRuns.push(run.id);
      seenRuns.add(run.id);
    }

    frontier = [];
    for (const { runId, path } of await graph.inputs(newRuns)) {
      result.addFile(path);
      result.addEdge(path, runId);
      if (!seenPaths.has(path)) frontier.push(path);
      seenPaths.add(path);
    }
  }
}

async function walkDownstream(
  graph: ProjectGraph,
  result: LineageBuilder,
  start: string,
  depth: number,
) {
  const seenPaths = new Set([start]);
  // Whether each run met so far still counts, i.e. is the latest producer of some output.
  const current = new Map<string, boolean>();
  let frontier = [start];

  for (let step = 0; step < depth && frontier.length > 0; step++) {
    const consumers = await graph.consumers(frontier);
    const newRuns = [...new Set(consumers.map((c) => c.run.id))].filter((id) => !current.has(id));
    const outputs = await graph.outputs(newRuns);
    const producers = await graph.latestProducers([...new Set(outputs.map((o) => o.path))]);
    const latestOutputs = outputs.filter(({ runId, path }) => producers.get(path)?.id === runId);
    for (const runId of newRuns) {
      // A run whose every output a later run wrote again is history, as renku shows it; a run
      // without outputs has nothing to be superseded in and stays.
      const wrote = outputs.some((o) => o.runId === runId);
      current.set(runId, !wrote || latestOutputs.some((o) => o.runId === runId));
    }

    for (const { path, run } of consumers) {
      if (!current.get(run.id)) continue;
      result.addRun(run);
      result.addEdge(path, run.id);
    }
    frontier = [];
    for (const { runId, path } of latestOutputs) {
      result.addFile(path);
      result.addEdge(runId, path);
      if (!seenPaths.has(path)) frontier.push(path);
      seenPaths.add(path);
    }
  }
}

/**
 * A run is shown with all its inputs and outputs, not only those on the way to
 * or from the file: a run with half its inputs would misstate what it did.
 * The walk does not go on from them.
 */
async function completeRuns(graph: ProjectGraph, result: LineageBuilder) {
  const runIds = result.runIds();
  for (const { runId, path } of await graph.inputs(runIds)) {
    result.addFile(path);
    result.addEdge(path, runId);
  }
  const outputs = await graph.outputs(runIds);
  const producers = await graph.latestProducers([...new Set(outputs.map((o) => o.path))]);
  for (const { runId, path } of outputs) {
    if (producers.get(path)?.id !== runId) continue;
    result.addFile(path);
    result.addEdge(runId, path);
  }
}

/** The Cypher behind the walk, every query batched over a whole frontier. */
class ProjectGraph {
  constructor(
    private readonly tx: ManagedTransaction,
    private readonly projectPath: string,
  ) {}

  private async rows(cypher: string, params: Record<string, unknown> = {}) {
    const result = await this.tx.run(cypher, { project: this.projectPath, ...params });
    return result.records.map((record) => record.toObject());
  }

  async project(viewer: Viewer): Promise<{ visibility: string | null; member: boolean } | null> {
    const [row] = await this.rows(
      `MATCH (project:Project {path: $project}) RETURN ${accessFields}`,
      viewerParam(viewer),
    );
    return row
      ? { visibility: row.visibility as string | null, member: row.member === true }
      : null;
  }

  async hasLineage(path: string): Promise<boolean> {
    const [row] = await this.rows(
      `RETURN EXISTS {
         MATCH (:File {projectPath: $project, path: $path})-[:USED|GENERATED]-(:Run)
       } AS found`,
      { path },
    );
    return row?.found === true;
  }

  /** For each path, the run that generated it last (by end, then start time). */
  async latestProducers(paths: string[]): Promise<Map<string, RunRow>> {
    if (paths.length === 0) return new Map();
    const rows = await this.rows(
      `UNWIND $paths AS path
       MATCH (:File {projectPath: $project, path: path})<-[:GENERATED]-(run:Run)
       WITH DISTINCT path, run
       ORDER BY coalesce(run.endedAt, run.startedAt, '') DESC, run.id DESC
       WITH path, collect(run)[0] AS run
       RETURN path, run.id AS id, run.commandLine AS commandLine`,
      { paths },
    );
    return new Map(rows.map((row) => [row.path as string, runRow(row)]));
  }

  async consumers(paths: string[]): Promise<{ path: string; run: RunRow }[]> {
    const rows = await this.rows(
      `UNWIND $paths AS path
       MATCH (:File {projectPath: $project, path: path})<-[:USED]-(run:Run)
       RETURN DISTINCT path, run.id AS id, run.commandLine AS commandLine`,
      { paths },
    );
    return rows.map((row) => ({ path: row.path as string, run: runRow(row) }));
  }

  async inputs(runIds: string[]) {
    return this.links('USED', runIds);
  }

  async outputs(runIds: string[]) {
    return this.links('GENERATED', runIds);
  }

  private async links(relationship: 'USED' | 'GENERATED', runIds: string[]) {
    if (runIds.length === 0) return [];
    const rows = await this.rows(
      `UNWIND $runIds AS runId
       MATCH (:Run {projectPath: $project, id: runId})-[:${relationship}]->(file:File)
       RETURN DISTINCT runId, file.path AS path`,
      { runIds },
    );
    return rows.map((row) => ({ runId: row.runId as string, path: row.path as string }));
  }

  /** The paths among these that are folders in any of their versions. */
  async folders(paths: string[]): Promise<Set<string>> {
    const rows = await this.rows(
      `UNWIND $paths AS path
       MATCH (file:File {projectPath: $project, path: path})
       WITH path, collect(file.isFolder) AS flags
       WHERE any(flag IN flags WHERE flag)
       RETURN path`,
      { paths },
    );
    return new Set(rows.map((row) => row.path as string));
  }
}

function runRow(row: Record<string, unknown>): RunRow {
  return {
    id: row.id as string,
    commandLine: (row.commandLine as string | null) ?? (row.id as string),
  };
}

class LineageBuilder {
  private readonly runs = new Map<string, RunRow>();
  private readonly files = new Set<string>();
  private readonly edges = new Map<string, LineageEdge>();

  addRun(run: RunRow) {
    this.runs.set(run.id, run);
  }

  addFile(path: string) {
    this.files.add(path);
  }

  addEdge(source: string, target: string) {
    this.edges.set(JSON.stringify([source, target]), { source, target });
  }

  runIds(): string[] {
    return [...this.runs.keys()];
  }

  filePaths(): string[] {
    return [...this.files];
  }

  build(folders: Set<string>): Lineage {
    const nodes: LineageNode[] = [
      ...[...this.files].map((path): LineageNode => ({
        id: path,
        location: path,
        label: path,
        type: folders.has(path) ? 'Directory' : 'File',
      })),
      ...[...this.runs.values()].map((run): LineageNode => ({
        id: run.id,
        location: run.id,
        label: run.commandLine,
        type: 'ProcessRun',
      })),
    ];
    const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return {
      nodes: nodes.sort((a, b) => byText(a.id, b.id)),
      edges: [...this.edges.values()].sort(
        (a, b) => byText(a.source, b.source) || byText(a.target, b.target),
      ),
    };
  }
}
