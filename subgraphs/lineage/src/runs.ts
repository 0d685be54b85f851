import { apiError, ErrorCode } from '@renku-supergraph/kit';
import neo4j, { type Driver, type ManagedTransaction } from 'neo4j-driver';

import { type Viewer } from './authorize';
import { withSession } from './neo4j';
import { requireReadableProject } from './project-access';

export type ArgumentKind = 'INPUT' | 'OUTPUT' | 'PARAMETER';

export interface RunFile {
  path: string;
  type: 'File' | 'Directory';
  checksum: string | null;
  commit: string | null;
  role: string | null;
}

export interface RunArgument {
  kind: ArgumentKind;
  name: string | null;
  position: number | null;
  prefix: string | null;
  /** What this run gave, else the plan's default. */
  value: string | null;
  defaultValue: string | null;
  stream: string | null;
}

export interface ProcessRun {
  projectPath: string;
  id: string;
  command: string;
  commit: string | null;
  startedAt: string | null;
  endedAt: string | null;
  plan: { id: string; name: string | null; command: string | null } | null;
  inputs: RunFile[];
  outputs: RunFile[];
  arguments: RunArgument[];
  agents: { id: string; name: string | null; email: string | null }[];
}

const kinds: Record<string, ArgumentKind> = {
  Input: 'INPUT',
  Output: 'OUTPUT',
  Parameter: 'PARAMETER',
};

/**
 * Everything about some runs of one project, in one query: the plan, the files used and
 * generated, the plan's arguments with this run's values, and who ran it. Null for an
 * unknown id. The caller checks that the project may be read.
 */
export async function readRuns(
  tx: ManagedTransaction,
  projectPath: string,
  ids: readonly string[],
): Promise<(ProcessRun | null)[]> {
  return readRunsOf(
    tx,
    ids.map((id) => ({ projectPath, id })),
  );
}

/** `readRuns` for runs of any projects, still in one query. */
export async function readRunsOf(
  tx: ManagedTransaction,
  keys: readonly { projectPath: string; id: string }[],
): Promise<(ProcessRun | null)[]> {
  const result = await tx.run(
    `UNWIND $keys AS key
     OPTIONAL MATCH (run:Run {projectPath: key.projectPath, id: key.id})
     OPTIONAL MATCH (run)-[:FOLLOWED]->(plan:Plan)
     CALL (run) {
       OPTIONAL MATCH (run)-[used:USED]->(file:File)
       RETURN collect(DISTINCT file {.path, .checksum, .commit, .isFolder, role: used.role}) AS inputs
     }
     CALL (run) {
       OPTIONAL MATCH (run)-[made:GENERATED]->(file:File)
       RETURN collect(DISTINCT file {.path, .checksum, .commit, .isFolder, role: made.role}) AS outputs
     }
     CALL (run) {
       OPTIONAL MATCH (run)-[:ASSOCIATED_WITH]->(person:Person)
       RETURN collect(person {.id, .name, .email}) AS agents
     }
     CALL (run, plan) {
       OPTIONAL MATCH (plan)-[:HAS_INPUT|HAS_OUTPUT|HAS_PARAMETER]->(arg)
       OPTIONAL MATCH (run)-[given:GAVE]->(arg)
       RETURN collect(arg {.name, .position, .prefix, .defaultValue, .mappedTo,
                           labels: labels(arg), value: given.value}) AS arguments
     }
     RETURN key, run {.id, .commandLine, .commit, .startedAt, .endedAt} AS run,
            plan {.id, .name, .command} AS plan, inputs, outputs, agents, arguments`,
    { keys: keys.map(({ projectPath, id }) => ({ projectPath, id })) },
  );
  const keyOf = (key: { projectPath: string; id: string }) =>
    JSON.stringify([key.projectPath, key.id]);
  const byKey = new Map(
    result.records.map((record) => [keyOf(record.get('key')), record.toObject()]),
  );
  return keys.map((key) => {
    const row = byKey.get(keyOf(key));
    return row?.run ? toProcessRun(key.projectPath, row) : null;
  });
}

/** One run, or NOT_FOUND when the project is hidden from the viewer or has no such run. */
export async function findRun(
  driver: Driver,
  viewer: Viewer,
  projectPath: string,
  id: string,
): Promise<ProcessRun> {
  return withSession(driver, (session) =>
    session.executeRead(async (tx) => {
      await requireReadableProject(tx, viewer, projectPath);
      const [run] = await readRuns(tx, projectPath, [id]);
      if (!run) throw apiError(ErrorCode.NotFound, `no run "${id}" in project "${projectPath}"`);
      return run;
    }),
  );
}

type Row = Record<string, unknown>;

function toProcessRun(projectPath: string, row: Row): ProcessRun {
  const run = row.run as Row;
  const file = (entry: Row): RunFile => ({
    path: entry.path as string,
    type: entry.isFolder ? 'Directory' : 'File',
    checksum: (entry.checksum as string | null) ?? null,
    commit: (entry.commit as string | null) ?? null,
    role: (entry.role as string | null) ?? null,
  });
  const byPath = (a: RunFile, b: RunFile) => a.path.localeCompare(b.path);
  const args = (row.arguments as Row[]).map((arg): RunArgument => ({
    kind: kinds[(arg.labels as string[]).find((label) => label in kinds) ?? 'Parameter'],
    name: (arg.name as string | null) ?? null,
    position: arg.position === null || arg.position === undefined ? null : toNumber(arg.position),
    prefix: (arg.prefix as string | null) ?? null,
    value: ((arg.value ?? arg.defaultValue) as string | null) ?? null,
    defaultValue: (arg.defaultValue as string | null) ?? null,
    stream: (arg.mappedTo as string | null) ?? null,
  }));
  args.sort(
    (a, b) =>
      (a.position ?? Number.MAX_SAFE_INTEGER) - (b.position ?? Number.MAX_SAFE_INTEGER) ||
      (a.name ?? '').localeCompare(b.name ?? ''),
  );
  return {
    projectPath,
    id: run.id as string,
    command: (run.commandLine as string | null) ?? (run.id as string),
    commit: (run.commit as string | null) ?? null,
    startedAt: (run.startedAt as string | null) ?? null,
    endedAt: (run.endedAt as string | null) ?? null,
    plan: (row.plan as ProcessRun['plan']) ?? null,
    inputs: (row.inputs as Row[]).map(file).sort(byPath),
    outputs: (row.outputs as Row[]).map(file).sort(byPath),
    arguments: args,
    agents: (row.agents as ProcessRun['agents']).sort((a, b) => a.id.localeCompare(b.id)),
  };
}

function toNumber(value: unknown): number {
  return neo4j.isInt(value) ? (value as { toNumber(): number }).toNumber() : Number(value);
}
