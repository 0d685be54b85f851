import { apiError, ErrorCode } from '@renku-supergraph/kit';
import type { Driver } from 'neo4j-driver';

import { canRead, type Viewer } from './authorize';
import {
  type Crossing,
  type Direction,
  entryKey,
  type FrontierEntry,
  LineageGraph,
  type RunFacts,
  runKey,
  type StartFacts,
  startKey,
  type Step,
} from './lineage-graph';
import { withSession } from './neo4j';

export type LineageDirection = Direction | 'BOTH';
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

/** A node with what the answer knows beyond renku's four fields. */
export interface TracedNode extends LineageNode {
  /** The node's project: the one asked about, or one a file came from or went to. */
  projectPath: string;
  /** The path, or the run's id, in its own project. */
  localId: string;
  /** The commit that wrote this version of the file, or that the run made (renku 0.x). */
  commit: string | null;
}

export interface TracedLineage {
  projectPath: string;
  nodes: TracedNode[];
  edges: LineageEdge[];
}

export interface LineageQuery {
  projectPath: string;
  filePath: string;
  direction: LineageDirection;
  /** How many steps from the file to go; absent means as far as the graph goes. */
  depth?: number | null;
  /** Whether to follow files into the projects they came from or went to (default true). */
  acrossProjects?: boolean | null;
}

/**
 * The provenance around one file, as renku's knowledge graph answered it:
 * files by path (all versions of a path are one node), runs by identifier,
 * edges input -> run and run -> output, where a path's output edge comes only
 * from its latest producer, and a run whose outputs were all written again by
 * later runs is left out (as `renku workflow visualize` leaves it out).
 * Files that came from another project (a dataset's `sameAs` or `derivedFrom`)
 * lead into it, if the viewer may read it.
 */
export async function findLineage(
  driver: Driver,
  viewer: Viewer,
  query: LineageQuery,
): Promise<Lineage> {
  const [answer] = await traceLineages(driver, viewer, [query]);
  if (answer instanceof Error) throw answer;
  return {
    nodes: answer.nodes.map(({ id, location, label, type }) => ({ id, location, label, type })),
    edges: answer.edges,
  };
}

/**
 * Many lineage questions (one per project of a list, say) answered together: every step of
 * every walk is one query, so the number of queries grows with the longest walk, never with
 * the number of questions. The walks expand frontiers of paths one run at a time, remembering
 * what they have seen: they enumerate nodes, never paths, so diamonds are found once and
 * cycles end. All steps read one consistent snapshot (one read transaction). A question that
 * fails gets its error in its place.
 */
export async function traceLineages(
  driver: Driver,
  viewer: Viewer,
  queries: readonly LineageQuery[],
): Promise<(TracedLineage | Error)[]> {
  const walks = queries.map((query) => new Walk(query));
  const valid = walks.filter((walk) => !walk.error);
  if (valid.length === 0) return walks.map((walk) => walk.answer());

  // The first step also reads whether each project may be read and each file has lineage:
  // a walk that may not go on drops what its first step found.
  return withSession(driver, (session) =>
    session.executeRead(async (tx) => {
      const graph = new LineageGraph(tx, viewer);
      const starts = valid.map((walk) => ({ projectPath: walk.projectPath, path: walk.start }));
      let stepping = valid.filter((walk) => walk.goesOn());
      let step = await graph.step(frontierOf(stepping), starts);
      for (const walk of valid) {
        walk.begin(step.starts.get(startKey(walk.projectPath, walk.start))!, viewer);
      }

      for (;;) {
        for (const walk of stepping) if (!walk.error) walk.advance(step, graph.runs, viewer);
        stepping = valid.filter((walk) => walk.goesOn());
        if (stepping.length === 0) break;
        step = await graph.step(frontierOf(stepping));
      }
      return walks.map((walk) => walk.answer(graph.runs));
    }),
  );
}

/** The distinct frontier entries of these walks: walks that meet share their steps. */
function frontierOf(walks: Walk[]): FrontierEntry[] {
  const frontier = new Map<string, FrontierEntry>();
  for (const walk of walks) {
    for (const entry of walk.frontier()) frontier.set(entryKey(entry), entry);
  }
  return [...frontier.values()];
}

const nodeKey = (projectPath: string, path: string) => JSON.stringify([projectPath, path]);

/** What one walk has seen in one direction. */
class Side {
  readonly seenPaths = new Set<string>();
  readonly seenRuns = new Set<string>();
  frontier: FrontierEntry[] = [];

  constructor(readonly direction: Direction) {}

  /** Adds a path to go on from next step, once. */
  reach(projectPath: string, path: string, goesOn: boolean) {
    const key = nodeKey(projectPath, path);
    if (this.seenPaths.has(key)) return;
    this.seenPaths.add(key);
    if (goesOn) this.frontier.push({ direction: this.direction, projectPath, path });
  }
}

/** One lineage question: its state while the steps go, then its answer. */
class Walk {
  readonly projectPath: string;
  readonly start: string;
  error?: Error;
  private readonly depth: number;
  private readonly acrossProjects: boolean;
  private readonly sides: Side[] = [];
  private steps = 0;
  private facts?: StartFacts;
  /** The runs shown, and files that came from (or went to) other projects. */
  private readonly runs = new Set<string>();
  private readonly crossings: Crossing[] = [];

  constructor(query: LineageQuery) {
    this.projectPath = query.projectPath;
    this.start = query.filePath.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    this.depth = query.depth ?? Number.POSITIVE_INFINITY;
    this.acrossProjects = query.acrossProjects ?? true;
    if (this.depth < 0) this.error = apiError(ErrorCode.BadUserInput, 'depth must be 0 or more');

    const directions: Direction[] =
      query.direction === 'BOTH' ? ['UPSTREAM', 'DOWNSTREAM'] : [query.direction];
    for (const direction of directions) {
      const side = new Side(direction);
      side.reach(this.projectPath, this.start, true);
      this.sides.push(side);
    }
  }

  /** Checks what the first step read about the project and the file. */
  begin(facts: StartFacts, viewer: Viewer) {
    this.facts = facts;
    if (!facts.access || !canRead(viewer, facts.access)) {
      this.error = apiError(ErrorCode.NotFound, `project "${this.projectPath}" not found`);
    } else if (!facts.hasLineage) {
      this.error = apiError(
        ErrorCode.NotFound,
        `no lineage for "${this.start}" in project "${this.projectPath}"`,
      );
    }
  }

  goesOn(): boolean {
    return !this.error && this.steps < this.depth && this.sides.some((s) => s.frontier.length);
  }

  frontier(): FrontierEntry[] {
    return this.sides.flatMap((side) => side.frontier);
  }

  advance(step: Step, runs: Map<string, RunFacts>, viewer: Viewer) {
    this.steps += 1;
    for (const side of this.sides) {
      const entries = side.frontier;
      side.frontier = [];
      for (const entry of entries) {
        for (const key of step.runs.get(entryKey(entry)) ?? []) {
          const run = runs.get(key)!;
          if (side.direction === 'UPSTREAM') this.goUp(side, run);
          else this.goDown(side, run);
        }
        if (!this.acrossProjects) continue;
        for (const crossing of step.crossings.get(entryKey(entry)) ?? []) {
          // A project the viewer may not read is not entered: none of its nodes show.
          if (!canRead(viewer, crossing.access)) continue;
          this.crossings.push(crossing);
          side.reach(crossing.to.projectPath, crossing.to.path, true);
        }
      }
    }
  }

  /** The latest producer of a path: shown, and its inputs are where the walk goes next. */
  private goUp(side: Side, run: RunFacts) {
    const key = runKey(run.projectPath, run.id);
    this.runs.add(key);
    if (side.seenRuns.has(key)) return;
    side.seenRuns.add(key);
    for (const input of run.inputs) side.reach(run.projectPath, input.path, input.goesOn);
  }

  /**
   * A run that used a path: shown unless later runs wrote all its outputs again (then it is
   * history, as renku shows it; a run without outputs has nothing to be superseded in).
   */
  private goDown(side: Side, run: RunFacts) {
    const latest = run.outputs.filter((output) => output.latest);
    if (run.outputs.length > 0 && latest.length === 0) return;
    const key = runKey(run.projectPath, run.id);
    this.runs.add(key);
    if (side.seenRuns.has(key)) return;
    side.seenRuns.add(key);
    for (const output of latest) side.reach(run.projectPath, output.path, output.goesOn);
  }

  /**
   * Every run shown comes with all its inputs and its latest outputs, not only those on the way
   * to or from the file: a run with half its inputs would misstate what it did.
   */
  answer(runs: Map<string, RunFacts> = new Map()): TracedLineage | Error {
    if (this.error) return this.error;
    const answer = new AnswerBuilder(this.projectPath);
    answer.addFile(this.projectPath, this.start, this.facts?.folder ?? false);

    for (const key of this.runs) {
      const run = runs.get(key)!;
      const runId = answer.addRun(run);
      for (const input of run.inputs) {
        const id = answer.addFile(run.projectPath, input.path, input.folder);
        answer.addEdge(id, runId);
        answer.offerCommit(id, input.commit, run.at, false);
      }
      for (const output of run.outputs.filter((o) => o.latest)) {
        const id = answer.addFile(run.projectPath, output.path, output.folder);
        answer.addEdge(runId, id);
        answer.offerCommit(id, output.commit, run.at, true);
      }
    }
    for (const crossing of this.crossings) {
      const from = answer.addFile(crossing.projectPath, crossing.path, false);
      const to = answer.addFile(crossing.to.projectPath, crossing.to.path, false);
      // Edges point the way the data went: from the original to its copy.
      if (crossing.direction === 'UPSTREAM') answer.addEdge(to, from);
      else answer.addEdge(from, to);
    }
    answer.offerCommit(
      answer.idOf(this.projectPath, this.start),
      this.facts?.commit ?? null,
      '',
      false,
    );
    return answer.build();
  }
}

class AnswerBuilder {
  private readonly nodes = new Map<string, TracedNode>();
  private readonly edges = new Map<string, LineageEdge>();
  /** Why each file's commit was chosen: its producer's version first, else the latest use. */
  private readonly commitRank = new Map<string, { produced: boolean; at: string }>();

  constructor(private readonly projectPath: string) {}

  /** Nodes of the asked project keep renku's ids; others are prefixed with their project. */
  idOf(projectPath: string, localId: string): string {
    return projectPath === this.projectPath ? localId : `${projectPath}:${localId}`;
  }

  addRun(run: RunFacts): string {
    const id = this.idOf(run.projectPath, run.id);
    this.nodes.set(id, {
      id,
      location: run.id,
      label: run.commandLine,
      type: 'ProcessRun',
      projectPath: run.projectPath,
      localId: run.id,
      commit: run.commit,
    });
    return id;
  }

  addFile(projectPath: string, path: string, folder: boolean): string {
    const id = this.idOf(projectPath, path);
    const known = this.nodes.get(id);
    if (!known || (folder && known.type === 'File')) {
      this.nodes.set(id, {
        id,
        location: path,
        label: path,
        type: folder ? 'Directory' : 'File',
        projectPath,
        localId: path,
        commit: known?.commit ?? null,
      });
    }
    return id;
  }

  offerCommit(id: string, commit: string | null, at: string, produced: boolean) {
    const node = this.nodes.get(id);
    if (!node || commit === null) return;
    const chosen = this.commitRank.get(id);
    if (
      chosen &&
      (chosen.produced > produced || (chosen.produced === produced && chosen.at >= at))
    ) {
      return;
    }
    this.commitRank.set(id, { produced, at });
    node.commit = commit;
  }

  addEdge(source: string, target: string) {
    this.edges.set(JSON.stringify([source, target]), { source, target });
  }

  build(): TracedLineage {
    const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return {
      projectPath: this.projectPath,
      nodes: [...this.nodes.values()].sort((a, b) => byText(a.id, b.id)),
      edges: [...this.edges.values()].sort(
        (a, b) => byText(a.source, b.source) || byText(a.target, b.target),
      ),
    };
  }
}
