import type { ManagedTransaction } from 'neo4j-driver';

import { memberTest, viewerParam, type Viewer } from './authorize';

export type Direction = 'UPSTREAM' | 'DOWNSTREAM';

/** A path of a project the walk reached, to go on from in one direction. */
export interface FrontierEntry {
  direction: Direction;
  projectPath: string;
  path: string;
}

/** What a run used or wrote, as the walk needs it. */
export interface RunPath {
  path: string;
  /** The commit that wrote the version the run used or wrote (renku 0.x), else null. */
  commit: string | null;
  /** Whether the path is a folder in any of its versions. */
  folder: boolean;
  /**
   * Whether a step from the path can find more: for an input, a run wrote it or it came into a
   * dataset from elsewhere; for an output, a run used it or it is in a dataset others may copy.
   */
  goesOn: boolean;
  /** For an output: whether this run is the path's latest producer. */
  latest: boolean;
}

export interface RunFacts {
  projectPath: string;
  id: string;
  commandLine: string;
  commit: string | null;
  /** End (else start) time, for "latest" comparisons. */
  at: string;
  inputs: RunPath[];
  outputs: RunPath[];
}

/** The same file in another project: where it came from (upstream) or went (downstream). */
export interface Crossing extends FrontierEntry {
  to: { projectPath: string; path: string };
  via: 'sameAs' | 'derivedFrom';
  access: { visibility: string | null; member: boolean };
}

export interface StartFacts {
  projectPath: string;
  path: string;
  access: { visibility: string | null; member: boolean } | null;
  hasLineage: boolean;
  folder: boolean;
  commit: string | null;
}

export interface Step {
  /** Facts of the starts asked for, by `startKey`. */
  starts: Map<string, StartFacts>;
  /** Run keys (see `runKey`) per frontier entry key (see `entryKey`). */
  runs: Map<string, string[]>;
  crossings: Map<string, Crossing[]>;
}

export const runKey = (projectPath: string, id: string) => JSON.stringify([projectPath, id]);
export const startKey = (projectPath: string, path: string) => JSON.stringify([projectPath, path]);
export const entryKey = (entry: FrontierEntry) =>
  JSON.stringify([entry.direction, entry.projectPath, entry.path]);

// The latest producer of a path: the run that wrote any of its versions last (end, then start
// time; the id breaks ties so that the answer never depends on the plan Neo4j picks).
const latestProducerOf = (project: string, path: string) => `
  MATCH (:File {projectPath: ${project}, path: ${path}})<-[:GENERATED]-(producer:Run)
  RETURN producer
  ORDER BY coalesce(producer.endedAt, producer.startedAt, '') DESC, producer.id DESC
  LIMIT 1`;

const folderTest = (project: string, path: string) =>
  `EXISTS { MATCH (version:File {projectPath: ${project}, path: ${path}}) WHERE version.isFolder }`;

/**
 * One step of the walk for every frontier entry of every walk of a request, in one query: on
 * the first step whether each walk's project may be read and its file has lineage, then the
 * latest producer of each upstream path, the runs that used each downstream path, each new
 * run's inputs and outputs (with whether the walk can go on from them), and the same files in
 * other projects. Runs already known (by element id) come back as links only.
 */
const stepCypher = `
CALL () {
  UNWIND $starts AS start
  OPTIONAL MATCH (project:Project {path: start.projectPath})
  CALL (start) {
    OPTIONAL MATCH (file:File {projectPath: start.projectPath, path: start.path})<-[made:GENERATED|USED]-(run:Run)
    RETURN file.commit AS commit
    ORDER BY type(made) = 'GENERATED' DESC,
             coalesce(run.endedAt, run.startedAt, '') DESC, run.id DESC
    LIMIT 1
  }
  RETURN collect({projectPath: start.projectPath, path: start.path, exists: project IS NOT NULL,
    visibility: project.visibility,
    member: ${memberTest},
    hasLineage: EXISTS { MATCH (:File {projectPath: start.projectPath, path: start.path})-[:USED|GENERATED]-(:Run) },
    folder: ${folderTest('start.projectPath', 'start.path')},
    commit: commit}) AS starts
}
CALL () {
  UNWIND $frontier AS entry
  CALL (entry) {
    WITH entry WHERE entry.direction = 'UPSTREAM'
    CALL (entry) {
      ${latestProducerOf('entry.projectPath', 'entry.path')}
    }
    RETURN producer AS run
    UNION
    WITH entry WHERE entry.direction = 'DOWNSTREAM'
    MATCH (:File {projectPath: entry.projectPath, path: entry.path})<-[:USED]-(run:Run)
    RETURN DISTINCT run
  }
  RETURN collect({entry: entry, run: run}) AS links
}
CALL (links) {
  UNWIND links AS link
  WITH DISTINCT link.run AS run
  WHERE NOT elementId(run) IN $known
  CALL (run) {
    MATCH (run)-[:USED]->(file:File)
    WITH DISTINCT file.path AS path, file.commit AS commit
    RETURN collect({path: path, commit: commit,
      folder: ${folderTest('run.projectPath', 'path')},
      goesOn: EXISTS { MATCH (:File {projectPath: run.projectPath, path: path})<-[:GENERATED]-(:Run) }
        OR EXISTS { MATCH (:File {projectPath: run.projectPath, path: path})<-[:HAS_PART]-(copy:Dataset)
                    WHERE copy.sameAs IS NOT NULL OR copy.derivedFrom IS NOT NULL },
      latest: false}) AS inputs
  }
  CALL (run) {
    MATCH (run)-[:GENERATED]->(file:File)
    WITH DISTINCT file.path AS path, file.commit AS commit
    CALL (run, path) {
      ${latestProducerOf('run.projectPath', 'path')}
    }
    RETURN collect({path: path, commit: commit,
      folder: ${folderTest('run.projectPath', 'path')},
      goesOn: EXISTS { MATCH (:File {projectPath: run.projectPath, path: path})<-[:USED]-(:Run) }
        OR EXISTS { MATCH (:File {projectPath: run.projectPath, path: path})<-[:HAS_PART]-(:Dataset) },
      latest: producer = run}) AS outputs
  }
  RETURN collect(run {.projectPath, .id, .commandLine, .commit, ref: elementId(run),
                      at: coalesce(run.endedAt, run.startedAt, ''), inputs: inputs,
                      outputs: outputs}) AS runs
}
CALL () {
  UNWIND $frontier AS entry
  CALL (entry) {
    WITH entry WHERE entry.direction = 'UPSTREAM'
    MATCH (file:File {projectPath: entry.projectPath, path: entry.path})<-[:HAS_PART]-(copy:Dataset)
    UNWIND [['sameAs', copy.sameAs], ['derivedFrom', copy.derivedFrom]] AS named
    WITH file, named[0] AS via, named[1] AS target
    WHERE target IS NOT NULL
    MATCH (other:Dataset)
    WHERE other.id = target OR other.identifier = last(split(target, '/datasets/'))
    MATCH (other)-[:HAS_PART]->(same:File)
    WHERE other.projectPath <> entry.projectPath
      AND (other.id = target OR target ENDS WITH '/datasets/' + other.identifier)
      AND (same.checksum = file.checksum OR same.path = file.path)
    RETURN other.projectPath AS projectPath, same.path AS path, via
    UNION
    WITH entry WHERE entry.direction = 'DOWNSTREAM'
    MATCH (file:File {projectPath: entry.projectPath, path: entry.path})<-[:HAS_PART]-(original:Dataset)
    MATCH (other:Dataset)
    WHERE other.sameAs = original.id OR other.sameAs ENDS WITH '/datasets/' + original.identifier
    MATCH (other)-[:HAS_PART]->(same:File)
    WHERE other.projectPath <> entry.projectPath
      AND (same.checksum = file.checksum OR same.path = file.path)
    RETURN other.projectPath AS projectPath, same.path AS path, 'sameAs' AS via
    UNION
    WITH entry WHERE entry.direction = 'DOWNSTREAM'
    MATCH (file:File {projectPath: entry.projectPath, path: entry.path})<-[:HAS_PART]-(original:Dataset)
    MATCH (other:Dataset)
    WHERE other.derivedFrom = original.id
      OR other.derivedFrom ENDS WITH '/datasets/' + original.identifier
    MATCH (other)-[:HAS_PART]->(same:File)
    WHERE other.projectPath <> entry.projectPath
      AND (same.checksum = file.checksum OR same.path = file.path)
    RETURN other.projectPath AS projectPath, same.path AS path, 'derivedFrom' AS via
  }
  MATCH (project:Project {path: projectPath})
  RETURN collect(DISTINCT {entry: entry, projectPath: projectPath, path: path, via: via,
                           visibility: project.visibility,
                           member: ${memberTest}})
         AS crossings
}
RETURN starts, [link IN links | {entry: link.entry, run: [link.run.projectPath, link.run.id]}] AS links,
       runs, crossings`;

/**
 * The Cypher behind lineage walks, each query batched over every walk of a request, all in
 * one read transaction (one consistent snapshot). Facts of runs are kept across steps and
 * walks, so a run met twice is read once.
 */
export class LineageGraph {
  readonly runs = new Map<string, RunFacts>();
  private readonly known: string[] = [];

  constructor(
    private readonly tx: ManagedTransaction,
    private readonly viewer: Viewer,
  ) {}

  /**
   * One step from these entries (distinct), with the facts of these starts (on the first
   * step). The facts of new runs land in `runs`.
   */
  async step(
    frontier: FrontierEntry[],
    starts: { projectPath: string; path: string }[] = [],
  ): Promise<Step> {
    const result = await this.tx.run(stepCypher, {
      starts,
      frontier,
      known: this.known,
      ...viewerParam(this.viewer),
    });
    const row = result.records[0].toObject();

    for (const { ref, ...run } of row.runs as (RunFacts & { ref: string })[]) {
      this.known.push(ref);
      // A run without a recorded command line shows its id.
      this.runs.set(runKey(run.projectPath, run.id), {
        ...run,
        commandLine: run.commandLine ?? run.id,
        commit: run.commit ?? null,
      });
    }

    const runs = new Map<string, string[]>();
    for (const link of row.links as { entry: FrontierEntry; run: [string, string] }[]) {
      const key = entryKey(link.entry);
      runs.set(key, [...(runs.get(key) ?? []), runKey(...link.run)]);
    }
    return {
      starts: new Map(
        readStarts(row.starts).map((fact) => [startKey(fact.projectPath, fact.path), fact]),
      ),
      runs,
      crossings: readCrossings(row.crossings),
    };
  }
}

type Row = Record<string, unknown>;

const accessOf = (row: Row) => ({
  visibility: (row.visibility as string | null) ?? null,
  member: row.member === true,
});

function readStarts(rows: Row[]): StartFacts[] {
  return rows.map((row) => ({
    projectPath: row.projectPath as string,
    path: row.path as string,
    access: row.exists ? accessOf(row) : null,
    hasLineage: row.hasLineage === true,
    folder: row.folder === true,
    commit: (row.commit as string | null) ?? null,
  }));
}

function readCrossings(rows: Row[]): Map<string, Crossing[]> {
  const crossings = new Map<string, Crossing[]>();
  for (const row of rows) {
    const entry = row.entry as FrontierEntry;
    const key = entryKey(entry);
    crossings.set(key, [
      ...(crossings.get(key) ?? []),
      {
        ...entry,
        to: { projectPath: row.projectPath as string, path: row.path as string },
        via: row.via as Crossing['via'],
        access: accessOf(row),
      },
    ]);
  }
  return crossings;
}
